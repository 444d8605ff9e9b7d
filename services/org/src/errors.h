// The errors and etags every resource of the org service answers with the same words: a missing
// organization, a stale etag.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace dj::org {

// "v<version>": the etag of a row at `version` (AIP-154).
std::string Etag(int64_t version);

// NOT_FOUND, ORGANIZATION_NOT_FOUND: "<name> does not exist". Also the answer for an
// organization outside the caller's scope.
absl::Status OrganizationNotFound(std::string_view name);
// The same, naming the request field that named it ({field, "no such organization"}).
absl::Status OrganizationNotFound(std::string_view name, std::string_view field);

// FAILED_PRECONDITION, ORGANIZATION_DISSOLVED: `name` is dissolved and no longer changes.
absl::Status OrganizationDissolved(std::string_view name);

// ALREADY_EXISTS, DISPLAY_NAME_TAKEN on `field`: a sibling already has `display_name`.
absl::Status DisplayNameTaken(std::string_view field, std::string_view display_name);

// ABORTED, ETAG_MISMATCH: `name` was changed since the caller read it (the request's etag is
// stale, or a concurrent writer won).
absl::Status EtagMismatch(std::string_view name);

}  // namespace dj::org
