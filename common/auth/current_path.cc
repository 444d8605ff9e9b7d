#include "common/auth/current_path.h"

#include "absl/strings/str_cat.h"
#include "common/runtime/status_macros.h"

namespace dj::auth {

absl::StatusOr<std::string> CurrentPaths::Of(const Principal& who, int64_t org) {
  auto it = known_.find(org);
  if (it == known_.end()) {
    it = known_.emplace(org, lookup_(who, absl::StrCat("organizations/", org))).first;
  }
  return it->second;
}

absl::Status AuthorizeCopiedPath(const Principal& who, std::string_view action,
                                 const Resource& resource, int64_t org, const absl::Status& missing,
                                 std::string* why, CurrentPaths* current) {
  auto decide = [&](std::string_view path) {
    return AuthorizeOrHide(who, action, {resource.kind, std::string(path), resource.owner}, missing,
                           why);
  };
  if (current == nullptr || org == 0) {
    return decide(resource.path);
  }
  // Granted on the top's path ("/": a whole-tree scope, or the owner's own row): no path can
  // change that.
  if (absl::Status anyway = decide("/"); anyway.ok()) {
    return anyway;
  }
  // Refused or hidden by the copy: refused (a move into the caller's subtree shows once applied).
  RETURN_IF_ERROR(decide(resource.path));
  auto path = current->Of(who, org);
  if (path.status().code() == absl::StatusCode::kNotFound) {
    return decide("/");  // the caller cannot see the row's organization any more: hidden
  }
  RETURN_IF_ERROR(path.status());
  return *path == resource.path ? absl::OkStatus() : decide(*path);
}

}  // namespace dj::auth
