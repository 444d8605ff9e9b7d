// The one answer to "may this principal do this action on this resource" for every service,
// from the matrix in docs/permissions.md (embedded at build time: one source for people and code).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace dj::auth {

struct Principal {
  std::string subject;     // "accounts/12"
  std::vector<std::string> roles;
  std::string scope_path;  // materialized path of the scope organization: "/1/5/"
  std::string member;      // "members/9" when the account is a member's
};

struct Resource {
  std::string kind;        // "organizations", "accounts", "audit_log", "metrics"
  std::string path;        // the organization path it hangs on: "/1/5/23/"
  std::string owner;       // for `self` rows: the member it belongs to ("members/9")
};

struct Grant {
  std::string role;
  std::string resource;
  std::vector<std::string> actions;
  std::string scope;  // "subtree" or "self"
};

// The matrix parsed from docs/permissions.md.
const std::vector<Grant>& Grants();
// Parses the table between the permissions markers (exposed for tests).
absl::StatusOr<std::vector<Grant>> ParseGrants(std::string_view markdown);

// OK; NOT_FOUND when the resource is outside every scope the principal's roles cover for its
// kind; PERMISSION_DENIED when it is inside but no row grants `action`.
absl::Status Authorize(const Principal& principal, std::string_view action,
                       const Resource& resource);

}  // namespace dj::auth
