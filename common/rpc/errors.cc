// absl::Status <-> google.rpc.Status with ErrorInfo and BadRequest details.
#include "common/rpc/errors.h"

#include "absl/strings/str_cat.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace dj::rpc {
namespace {

constexpr absl::string_view kErrorInfoUrl = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr absl::string_view kBadRequestUrl = "type.googleapis.com/google.rpc.BadRequest";
constexpr absl::string_view kRetryInfoUrl = "type.googleapis.com/google.rpc.RetryInfo";
constexpr absl::string_view kDatabaseUrl = "dj/database-error";

std::string_view DefaultReason(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kAborted:
      return "ABORTED";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    default:
      return "INTERNAL";
  }
}

// The message a caller sees for a database error (the driver's text names tables and keys).
std::string_view DatabaseMessage(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kAlreadyExists:
      return "the resource already exists";
    case absl::StatusCode::kFailedPrecondition:
      return "the change conflicts with related resources";
    case absl::StatusCode::kAborted:
      return "the change conflicted with a concurrent one; retry it";
    case absl::StatusCode::kUnavailable:
      return "the database is unavailable; retry later";
    case absl::StatusCode::kDeadlineExceeded:
      return "the database did not answer in time";
    default:
      return "internal error";
  }
}

bool IsExpectedCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnimplemented:
      return false;
    default:
      return true;
  }
}

}  // namespace

absl::Status Error(absl::StatusCode code, std::string_view reason, std::string_view message) {
  absl::Status status(code, AV(message));
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status InvalidArgument(std::vector<FieldViolation> violations, std::string_view reason) {
  std::string message = "invalid request";
  if (!violations.empty()) {
    message = absl::StrCat(violations.front().field, ": ", violations.front().description);
  }
  absl::Status status = Error(absl::StatusCode::kInvalidArgument, reason, message);
  google::rpc::BadRequest bad;
  for (auto& v : violations) {
    auto* fv = bad.add_field_violations();
    fv->set_field(std::move(v.field));
    fv->set_description(std::move(v.description));
  }
  status.SetPayload(kBadRequestUrl, absl::Cord(bad.SerializeAsString()));
  return status;
}

absl::Status WithViolation(absl::Status status, FieldViolation violation) {
  google::rpc::BadRequest bad;
  if (auto p = status.GetPayload(kBadRequestUrl); p.has_value()) {
    bad.ParseFromString(std::string(*p));
  }
  auto* fv = bad.add_field_violations();
  fv->set_field(std::move(violation.field));
  fv->set_description(std::move(violation.description));
  status.SetPayload(kBadRequestUrl, absl::Cord(bad.SerializeAsString()));
  return status;
}

absl::Status DatabaseError(absl::StatusCode code, std::string_view detail) {
  absl::Status status(code, AV(detail));
  status.SetPayload(kDatabaseUrl, absl::Cord("1"));
  return status;
}

std::string Reason(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  if (auto p = status.GetPayload(kErrorInfoUrl);
      p.has_value() && info.ParseFromString(std::string(*p))) {
    return info.reason();
  }
  return "";
}

std::vector<FieldViolation> Violations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  google::rpc::BadRequest bad;
  if (auto p = status.GetPayload(kBadRequestUrl);
      p.has_value() && bad.ParseFromString(std::string(*p))) {
    for (const auto& v : bad.field_violations()) {
      out.push_back({v.field(), v.description()});
    }
  }
  return out;
}

absl::Status WithRetryDelay(absl::Status status, std::chrono::microseconds delay) {
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(delay.count() / 1'000'000);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(delay.count() % 1'000'000 * 1000));
  status.SetPayload(kRetryInfoUrl, absl::Cord(retry.SerializeAsString()));
  return status;
}

std::chrono::microseconds RetryDelay(const absl::Status& status) {
  google::rpc::RetryInfo retry;
  auto p = status.GetPayload(kRetryInfoUrl);
  if (!p.has_value() || !retry.ParseFromString(std::string(*p))) {
    return std::chrono::microseconds(0);
  }
  return std::chrono::microseconds(retry.retry_delay().seconds() * 1'000'000 +
                                   retry.retry_delay().nanos() / 1000);
}

grpc::Status ToGrpcStatus(const absl::Status& status, std::string_view domain,
                          std::string_view request_id) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  const bool from_database = status.GetPayload(kDatabaseUrl).has_value();
  std::string message(SV(status.message()));
  if (from_database || !IsExpectedCode(status.code())) {
    const std::string code_name = absl::StatusCodeToString(status.code());
    log::Error("request failed",
               {{"code", code_name}, {"detail", SV(status.message())}, {"request_id", request_id}});
    message = std::string(from_database ? DatabaseMessage(status.code()) : "internal error");
  }
  const absl::StatusCode code =
      IsExpectedCode(status.code()) ? status.code() : absl::StatusCode::kInternal;

  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  google::rpc::ErrorInfo info;
  if (auto p = status.GetPayload(kErrorInfoUrl); p.has_value() && IsExpectedCode(code)) {
    info.ParseFromString(std::string(*p));
  }
  if (info.reason().empty()) {
    info.set_reason(std::string(DefaultReason(code)));
  }
  info.set_domain(std::string(domain));
  details.add_details()->PackFrom(info);
  if (auto p = status.GetPayload(kBadRequestUrl); p.has_value()) {
    google::rpc::BadRequest bad;
    if (bad.ParseFromString(std::string(*p))) {
      details.add_details()->PackFrom(bad);
    }
  }
  if (auto p = status.GetPayload(kRetryInfoUrl); p.has_value()) {
    google::rpc::RetryInfo retry;
    if (retry.ParseFromString(std::string(*p))) {
      details.add_details()->PackFrom(retry);
    }
  }
  return grpc::Status(static_cast<grpc::StatusCode>(code), message, details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      if (any.Is<google::rpc::ErrorInfo>()) {
        out.SetPayload(kErrorInfoUrl, absl::Cord(any.value()));
      } else if (any.Is<google::rpc::BadRequest>()) {
        out.SetPayload(kBadRequestUrl, absl::Cord(any.value()));
      } else if (any.Is<google::rpc::RetryInfo>()) {
        out.SetPayload(kRetryInfoUrl, absl::Cord(any.value()));
      }
    }
  }
  return out;
}

}  // namespace dj::rpc
