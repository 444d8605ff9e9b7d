// Errors cross layers as absl::Status carrying google.rpc details as payloads (ErrorInfo reason,
// BadRequest field violations). ToGrpcStatus is the one place that turns them into the
// google.rpc.Status a client sees.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace dj::rpc {

struct FieldViolation {
  std::string field;        // path in the request, e.g. "organization.display_name"
  std::string description;  // what is wrong and what is expected
};

// INVALID_ARGUMENT with BadRequest violations; the message summarises the first one.
absl::Status InvalidArgument(std::vector<FieldViolation> violations,
                             std::string_view reason = "INVALID_ARGUMENT");

// Any code with an ErrorInfo reason (UPPER_SNAKE) and a message safe to show the caller.
absl::Status Error(absl::StatusCode code, std::string_view reason, std::string_view message);

// Adds a field violation to an INVALID_ARGUMENT or FAILED_PRECONDITION status.
absl::Status WithViolation(absl::Status status, FieldViolation violation);

// Adds a google.rpc.RetryInfo: when the caller may try again (the gateway sends Retry-After).
absl::Status WithRetryDelay(absl::Status status, std::chrono::microseconds delay);
// The delay WithRetryDelay added, or zero.
std::chrono::microseconds RetryDelay(const absl::Status& status);

// Marks a status built from a database error: its message is internal detail, logged but never
// shown to the caller (see ToGrpcStatus).
absl::Status DatabaseError(absl::StatusCode code, std::string_view detail);

// The reason from the status's ErrorInfo, or "" when it has none.
std::string Reason(const absl::Status& status);
// The field violations of a status (empty when it has none).
std::vector<FieldViolation> Violations(const absl::Status& status);

// Maps to the wire: details become google.rpc.Status (ErrorInfo with `domain`, e.g.
// "org.dangjian", and BadRequest). INTERNAL and other unexpected codes, and every database
// error, get a generic message; the detail goes to the log with `request_id`.
grpc::Status ToGrpcStatus(const absl::Status& status, std::string_view domain,
                          std::string_view request_id = {});

// The reverse, for clients of other services: keeps code, message and details.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace dj::rpc
