// Authorization of rows that keep a copy of their organization's path (accounts, members, and
// every later service's rows): the copy follows OrganizationMoved events, so between a move and
// its event being applied the copy may be stale. A decision that depends on the path, and that
// the copy would grant, is taken again on the org service's current path.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/auth/authorize.h"

namespace dj::auth {

// The materialized path of organization `name` ("organizations/5" -> "/1/5/"), asked of the org
// service on behalf of `who` (so an organization outside their scope is NOT_FOUND).
using OrgPathLookup =
    std::function<absl::StatusOr<std::string>(const Principal& who, std::string_view name)>;

// The current paths of organizations as the org service answers them for the caller, each asked
// once per request (a list looks at many rows of few organizations).
class CurrentPaths final {
 public:
  explicit CurrentPaths(const OrgPathLookup& lookup) : lookup_(lookup) {}
  // NOT_FOUND when the caller cannot see organization `org` (or it is gone).
  absl::StatusOr<std::string> Of(const Principal& who, int64_t org);

 private:
  const OrgPathLookup& lookup_;
  std::map<int64_t, absl::StatusOr<std::string>> known_;
};

// AuthorizeOrHide on `resource`, whose path is the copy kept for organization `org`. Without
// `current` (a path resolved in this request, or inside a transaction where no call may wait),
// or for `org` 0, the copy decides. With it, a grant that does not hold at the top ("/") is
// checked again on the current path: a move out of the caller's subtree is refused at once, one
// into it shows once the copy follows.
absl::Status AuthorizeCopiedPath(const Principal& who, std::string_view action,
                                 const Resource& resource, int64_t org, const absl::Status& missing,
                                 std::string* why, CurrentPaths* current);

}  // namespace dj::auth
