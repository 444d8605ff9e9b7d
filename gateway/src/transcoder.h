// HTTP/JSON <-> protobuf: request building from body, path variables and query parameters;
// response rendering; gRPC status -> HTTP status; AIP-193 error bodies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/rpc/errors.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"

namespace dj::gateway {

inline constexpr std::string_view kGatewayDomain = "gateway.dangjian";

// A path of fields from a message type down, e.g. organization.name.
using FieldPath = std::vector<const google::protobuf::FieldDescriptor*>;

// Resolves "a.b" under `type`; each part may be the proto name or, with `json_names`, the
// lowerCamelCase JSON name. Every part but the last must be a singular message field.
absl::StatusOr<FieldPath> ResolveFieldPath(const google::protobuf::Descriptor* type,
                                           std::string_view dotted, bool json_names);
// "organization.name" (proto names).
std::string FieldPathString(const FieldPath& path);

// Where the fields of one HTTP binding's request come from.
class RequestShape final {
 public:
  // Checks the binding against the request type: path variables must name singular scalar
  // fields, `body` must be "", "*" or a message field.
  static absl::StatusOr<RequestShape> Make(const google::protobuf::Descriptor* request,
                                           std::span<const std::string> path_fields,
                                           std::string_view body);

  bool has_body() const { return whole_body_ || body_field_ != nullptr; }

  // Parses the JSON body (empty means {}) into `request`. Errors are INVALID_ARGUMENT naming the
  // field, with a BadRequest violation when the field is known.
  absl::Status MergeBody(std::string_view json, google::protobuf::Message* request) const;
  // Sets the path variables (values in path_fields order). A body that set one of these fields
  // to something else is an error.
  absl::Status BindPath(std::span<const std::string> values,
                        google::protobuf::Message* request) const;
  // Binds `a.b=v&c=w` (still percent-encoded). Unknown names, fields bound by the path or body,
  // and unparsable values are INVALID_ARGUMENT naming the parameter.
  absl::Status BindQuery(std::string_view query, google::protobuf::Message* request) const;

 private:
  RequestShape() = default;
  // True when `path` is, contains or is inside a field bound by the path or the body.
  bool IsReserved(const FieldPath& path) const;

  const google::protobuf::Descriptor* request_ = nullptr;
  std::vector<FieldPath> path_fields_;
  bool whole_body_ = false;
  const google::protobuf::FieldDescriptor* body_field_ = nullptr;
};

// Parses `text` by the type of `field` (the last of a path) and sets it, or appends it when the
// field is repeated: integers, bool (true/false), floating point, strings, bytes (base64), enums
// by name or number, and the well-known FieldMask, Timestamp, Duration and wrapper types.
absl::Status SetFieldFromString(google::protobuf::Message* message, const FieldPath& path,
                                std::string_view text, std::string_view name_for_errors);

// Renders a response: lowerCamelCase names, every primitive field printed, enums as names.
// With `response_body` non-null, renders only that message field.
absl::StatusOr<std::string> ResponseToJson(
    const google::protobuf::Message& response,
    const google::protobuf::FieldDescriptor* response_body = nullptr);

// grpc-gateway's mapping of gRPC codes to HTTP statuses.
int HttpStatusFromGrpc(grpc::StatusCode code);
// "INVALID_ARGUMENT", "NOT_FOUND", ...
std::string_view StatusCodeName(grpc::StatusCode code);

// An error in the shape of google.rpc.Status, rendered as
// {"error":{"code":<http>,"message","status","details":[ErrorInfo, BadRequest]}}.
struct ApiError {
  int http_status = 500;
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  std::string message;
  std::string reason;  // ErrorInfo.reason; empty: the code name
  std::string domain = std::string(kGatewayDomain);
  std::vector<rpc::FieldViolation> violations;
};

// An error the gateway itself found, from a status built with dj::rpc::InvalidArgument/Error.
ApiError ApiErrorFromStatus(const absl::Status& status);
std::string ErrorJson(const ApiError& error);

struct RenderedError {
  int http_status = 500;
  std::string body;
};
// A backend's answer: the google.rpc.Status in error_details (ErrorInfo, BadRequest, ...) is
// rendered as is. Without details (the call never reached a handler: unreachable backend,
// deadline) the gateway writes its own, with a message that leaks no transport detail.
RenderedError RenderBackendError(const grpc::Status& status, std::string_view backend);

}  // namespace dj::gateway
