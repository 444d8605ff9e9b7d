// The one answer to "may this principal do this action on this resource" for every service,
// from the matrix in docs/permissions.md (embedded at build time: one source for people and code).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace dj::auth {

// Who is calling. Services get it from the gateway (see principal.h), never from the client.
struct Principal {
  std::string subject;  // "accounts/12"; "anonymous" without a token; "system" for the process
  std::vector<std::string> roles;
  // The organization whose subtree the roles cover; 0: the whole tree. By id rather than by
  // path, so a scope stays right when its organization moves.
  int64_t scope_org = 0;
  std::string member;     // "members/9" when the account is a member's
  std::string username;
  std::string client_ip;  // as the gateway saw it
  std::string request_id;
  // The deadline of the call this principal arrived with (none: max); a call it makes to another
  // service ends no later (rpc::ServiceClient).
  std::chrono::system_clock::time_point deadline = std::chrono::system_clock::time_point::max();

  bool anonymous() const { return subject.empty() || subject == "anonymous"; }
};

// The process acting on its own behalf (first-start bootstrap, the demo loader).
Principal SystemPrincipal();

struct Resource {
  std::string kind;        // "organizations", "accounts", "audit_log", "metrics"
  std::string path;        // the organization path it hangs on: "/1/5/23/"; "/" for the top
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

// Authorize for a handler, without side effects (usable inside a transaction): a resource out of
// scope answers `missing` (the service's own not-found for it, so the two cannot be told apart);
// `why`, when given, gets "OUT_OF_SCOPE" or "NOT_PERMITTED" for the audit log.
absl::Status AuthorizeOrHide(const Principal& principal, std::string_view action,
                             const Resource& resource, absl::Status missing,
                             std::string* why = nullptr);
// The same, for a not-found that costs something to work out (queries): `missing` is called
// only when the resource is out of scope, and its answer (or its error) is returned.
absl::Status AuthorizeOrHide(const Principal& principal, std::string_view action,
                             const Resource& resource,
                             const std::function<absl::Status()>& missing,
                             std::string* why = nullptr);

// Whether `path` lies in the subtree of organization `scope_org` (0: the whole tree).
bool PathInScope(std::string_view path, int64_t scope_org);

}  // namespace dj::auth
