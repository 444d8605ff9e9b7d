// The org service's shared errors and etags (errors.h).
#include "services/org/src/errors.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"

namespace dj::org {

std::string Etag(int64_t version) { return absl::StrCat("v", version); }

absl::Status OrganizationNotFound(std::string_view name) {
  return rpc::Error(absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND",
                    absl::StrCat(AV(name), " does not exist"));
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
