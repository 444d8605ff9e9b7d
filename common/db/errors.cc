// The typed database failure as a status payload: "<kind>:<constraint>".
#include "common/db/errors.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"

namespace dj::db {
namespace {

constexpr absl::string_view kFailureUrl = "dj/database-failure";

struct Failure {
  ErrorKind kind = ErrorKind::kOther;
  std::string constraint;
};

Failure Read(const absl::Status& status) {
  Failure out;
  auto payload = status.GetPayload(kFailureUrl);
  if (!payload.has_value()) {
    return out;
  }
  const std::string text(*payload);
  const size_t colon = text.find(':');
  if (colon != 1 || text[0] < '0' || text[0] > '4') {
    return out;
  }
  out.kind = static_cast<ErrorKind>(text[0] - '0');
  out.constraint = text.substr(colon + 1);
  return out;
}

}  // namespace

absl::Status DatabaseFailure(absl::StatusCode code, ErrorKind kind, std::string_view constraint,
                             std::string_view detail) {
  absl::Status status = rpc::DatabaseError(code, detail);
  status.SetPayload(kFailureUrl,
                    absl::Cord(absl::StrCat(static_cast<int>(kind), ":", AV(constraint))));
  return status;
}

ErrorKind KindOf(const absl::Status& status) { return Read(status).kind; }

std::string ConstraintName(const absl::Status& status) { return Read(status).constraint; }

bool DuplicateKeyOn(const absl::Status& status, std::string_view index) {
  const Failure f = Read(status);
  return f.kind == ErrorKind::kDuplicateKey && !index.empty() && f.constraint == index;
}

absl::Status Generic(absl::Status status) {
  const Failure f = Read(status);
  if (f.kind != ErrorKind::kDuplicateKey || status.code() != absl::StatusCode::kAlreadyExists) {
    return status;
  }
  return DatabaseFailure(absl::StatusCode::kAborted, f.kind, f.constraint,
                         absl::StrCat(status.message(), " (no reason for this index: retry)"));
}

}  // namespace dj::db
