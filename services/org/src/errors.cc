// The org service's shared errors and etags (errors.h).
#include "services/org/src/errors.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/rpc/text.h"
#include "common/runtime/strings.h"

namespace dj::org {

std::string Etag(int64_t version) { return rpc::Etag(version); }

absl::Status OrganizationNotFound(std::string_view name) {
  return rpc::Error(absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND",
                    absl::StrCat(AV(name), " does not exist"));
}

absl::Status OrganizationDissolved(std::string_view name) {
  return rpc::Error(
      absl::StatusCode::kFailedPrecondition, "ORGANIZATION_DISSOLVED",
      absl::StrCat(AV(name), " is dissolved; it keeps its history but no longer changes"));
}

absl::Status DisplayNameTaken(std::string_view field, std::string_view display_name) {
  return rpc::WithViolation(
      rpc::Error(absl::StatusCode::kAlreadyExists, "DISPLAY_NAME_TAKEN",
                 absl::StrCat(AV(field), ": '", AV(display_name),
                              "' is already used by another organization under the same parent")),
      {std::string(field), "must be unique among siblings"});
}

absl::Status OrganizationNotFound(std::string_view name, std::string_view field) {
  return rpc::WithViolation(OrganizationNotFound(name),
                            {std::string(field), "no such organization"});
}

absl::Status EtagMismatch(std::string_view name) {
  return rpc::Error(
      absl::StatusCode::kAborted, "ETAG_MISMATCH",
      absl::StrCat(AV(name), " was changed since it was read; get it again and retry"));
}

}  // namespace dj::org
