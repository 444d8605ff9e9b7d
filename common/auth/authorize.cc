// Authorization over the embedded permission matrix.
#include "common/auth/authorize.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/rpc/errors.h"
#include "common/runtime/embedded_file.h"
#include "common/runtime/strings.h"

namespace dj::auth::permissions_doc {
std::span<const EmbeddedFile> Files();
}  // namespace dj::auth::permissions_doc

namespace dj::auth {
namespace {

bool InScope(const Grant& g, const Principal& p, const Resource& r) {
  if (g.scope == "self") {
    return !p.member.empty() && p.member == r.owner;
  }
  return PathInScope(r.path, p.scope_org);
}

}  // namespace

absl::Status AuthorizeOrHide(const Principal& principal, std::string_view action,
                             const Resource& resource, absl::Status missing, std::string* why) {
  return AuthorizeOrHide(
      principal, action, resource, [&missing] { return std::move(missing); }, why);
}

absl::Status AuthorizeOrHide(const Principal& principal, std::string_view action,
                             const Resource& resource,
                             const std::function<absl::Status()>& missing, std::string* why) {
  absl::Status s = Authorize(principal, action, resource);
  if (s.ok()) {
    return s;
  }
  const bool out_of_scope = s.code() == absl::StatusCode::kNotFound;
  if (why != nullptr) {
    *why = out_of_scope ? "OUT_OF_SCOPE" : "NOT_PERMITTED";
  }
  return out_of_scope ? missing() : s;
}

bool PathInScope(std::string_view path, int64_t scope_org) {
  if (scope_org == 0) {
    return true;
  }
  // A materialized path lists every ancestor's id: "/1/5/23/" is in 5's subtree.
  return absl::StrContains(AV(path), absl::StrCat("/", scope_org, "/"));
}

Principal SystemPrincipal() {
  return Principal{.subject = "system", .roles = {"committee_admin"}, .username = "system"};
}

absl::StatusOr<std::vector<Grant>> ParseGrants(std::string_view markdown) {
  const size_t begin = markdown.find("<!-- permissions:begin -->");
  const size_t end = markdown.find("<!-- permissions:end -->");
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin) {
    return absl::InternalError("permissions table markers not found");
  }
  std::vector<Grant> out;
  int line_no = 0;
  for (absl::string_view line :
       absl::StrSplit(AV(markdown.substr(begin, end - begin)), '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (!absl::StartsWith(line, "|") || absl::StartsWith(line, "| role") ||
        absl::StartsWith(line, "|---")) {
      continue;
    }
    std::vector<std::string> cells;
    for (absl::string_view cell : absl::StrSplit(line, '|')) {
      cells.emplace_back(absl::StripAsciiWhitespace(cell));
    }
    // "| a | b | c | d |" splits into "", a, b, c, d, "".
    if (cells.size() != 6) {
      return absl::InternalError(absl::StrCat("permissions table: bad row '", line, "'"));
    }
    Grant g{cells[1], cells[2], {}, cells[4]};
    for (absl::string_view a : absl::StrSplit(cells[3], ',', absl::SkipWhitespace())) {
      g.actions.emplace_back(absl::StripAsciiWhitespace(a));
    }
    if (g.scope != "subtree" && g.scope != "self") {
      return absl::InternalError(absl::StrCat("permissions table: unknown scope '", g.scope, "'"));
    }
    out.push_back(std::move(g));
  }
  if (out.empty()) {
    return absl::InternalError("permissions table is empty");
  }
  return out;
}

const std::vector<Grant>& Grants() {
  static const std::vector<Grant> grants = [] {
    auto parsed = ParseGrants(permissions_doc::Files()[0].data);
    if (!parsed.ok()) {
      // A build with a broken table must not start: fail loudly at first use.
      throw std::runtime_error(std::string(SV(parsed.status().message())));
    }
    return *std::move(parsed);
  }();
  return grants;
}

absl::Status Authorize(const Principal& principal, std::string_view action,
                       const Resource& resource) {
  bool in_scope = false;
  for (const Grant& g : Grants()) {
    if (g.resource != resource.kind ||
        std::find(principal.roles.begin(), principal.roles.end(), g.role) ==
            principal.roles.end()) {
      continue;
    }
    if (!InScope(g, principal, resource)) {
      continue;
    }
    in_scope = true;
    if (std::find(g.actions.begin(), g.actions.end(), action) != g.actions.end()) {
      return absl::OkStatus();
    }
  }
  if (!in_scope) {
    return rpc::Error(absl::StatusCode::kNotFound, "NOT_FOUND",
                      absl::StrCat("no such ", AV(resource.kind), " resource"));
  }
  return rpc::Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                    absl::StrCat("your roles do not allow ", AV(action), " on ",
                                 AV(resource.kind)));
}

}  // namespace dj::auth
