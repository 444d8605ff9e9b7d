// Roles x actions x in-scope/out-of-scope, from the matrix in docs/permissions.md.
#include "common/auth/authorize.h"

#include "common/rpc/errors.h"
#include "gtest/gtest.h"

namespace dj::auth {
namespace {

// The tree: work committee /1/, a party committee /1/5/ with branch A /1/5/23/, and another
// party committee /1/50/ with branch B /1/50/51/ (ids chosen so "/1/5" prefixes "/1/50").
Principal P(std::string role, int64_t scope_org, std::string member = "") {
  return {"accounts/1", {std::move(role)}, scope_org, std::move(member)};
}

TEST(AuthorizeTest, RolesActionsAndScopes) {
  const Resource branch_a{"organizations", "/1/5/23/", ""};
  const Resource branch_b{"organizations", "/1/50/51/", ""};
  const Resource committee_5{"organizations", "/1/5/", ""};
  const Resource audit_a{"audit_log", "/1/5/23/", ""};
  const Resource own_account{"accounts", "/1/5/23/", "members/9"};
  const Resource other_account{"accounts", "/1/5/23/", "members/10"};
  const Resource metrics{"metrics", "/1/", ""};

  enum Outcome { kOk, kNotFound, kDenied };
  struct Case {
    Principal who;
    std::string action;
    Resource what;
    Outcome expected;
  };
  const std::vector<Case> cases = {
      // committee_admin: everything in the tree.
      {P("committee_admin", 1), "delete", branch_b, kOk},
      {P("committee_admin", 1), "verify", audit_a, kOk},
      {P("committee_admin", 1), "read", Resource{"organizations", "/2/", ""}, kNotFound},
      // org_admin of /1/5/: its subtree only; /1/50/ is outside although it shares a prefix.
      {P("org_admin", 5), "update", branch_a, kOk},
      {P("org_admin", 5), "delete", committee_5, kOk},
      {P("org_admin", 5), "read", branch_b, kNotFound},
      {P("org_admin", 5), "update", branch_b, kNotFound},
      {P("org_admin", 5), "read", audit_a, kNotFound},  // no audit rights at all
      // secretary of branch A: read/create/update there, no delete, nothing in branch B.
      {P("secretary", 23), "create", branch_a, kOk},
      {P("secretary", 23), "delete", branch_a, kDenied},
      {P("secretary", 23), "read", branch_b, kNotFound},
      {P("secretary", 23), "read", committee_5, kNotFound},  // above the scope
      // member: reads the organization, its own account only.
      {P("member", 23, "members/9"), "read", branch_a, kOk},
      {P("member", 23, "members/9"), "update", branch_a, kDenied},
      {P("member", 23, "members/9"), "update", own_account, kOk},
      {P("member", 23, "members/9"), "read", other_account, kNotFound},
      {P("member", 23, ""), "read", own_account, kNotFound},  // no member record
      // auditor: read-only over the subtree, including the audit log.
      {P("auditor", 5), "read", branch_a, kOk},
      {P("auditor", 5), "verify", audit_a, kOk},
      {P("auditor", 5), "update", branch_a, kDenied},
      {P("auditor", 5), "read", branch_b, kNotFound},
      // ops: metrics only.
      {P("ops", 1), "read", metrics, kOk},
      {P("ops", 1), "read", branch_a, kNotFound},
      // no roles, unknown roles, unknown actions.
      {Principal{"accounts/2", {}, 1, ""}, "read", branch_a, kNotFound},
      {P("superuser", 1), "read", branch_a, kNotFound},
      {P("committee_admin", 1), "launch", branch_a, kDenied},
  };
  for (const Case& c : cases) {
    absl::Status s = Authorize(c.who, c.action, c.what);
    const std::string label =
        (c.who.roles.empty() ? "(none)" : c.who.roles[0]) + "@" + std::to_string(c.who.scope_org) + " " +
        c.action + " " + c.what.kind + c.what.path;
    switch (c.expected) {
      case kOk:
        EXPECT_TRUE(s.ok()) << label << ": " << s;
        break;
      case kNotFound:
        EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << label << ": " << s;
        break;
      case kDenied:
        EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << label << ": " << s;
        break;
    }
  }
}

TEST(AuthorizeTest, WholeTreeScope) {
  // Scope 0 is the whole tree, including the top ("/": creating a root) that no subtree covers.
  EXPECT_TRUE(Authorize(P("committee_admin", 0), "create", {"organizations", "/", ""}).ok());
  EXPECT_EQ(Authorize(P("committee_admin", 1), "create", {"organizations", "/", ""}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Authorize(SystemPrincipal(), "delete", {"organizations", "/7/8/", ""}).ok());
  EXPECT_TRUE(PathInScope("/1/5/23/", 5));
  EXPECT_FALSE(PathInScope("/1/50/51/", 5));
  EXPECT_FALSE(PathInScope("/1/15/", 5));
  EXPECT_FALSE(PathInScope("/", 5));
}

TEST(AuthorizeTest, SeveralRolesCombine) {
  Principal p{"accounts/3", {"secretary", "auditor"}, 5, ""};
  EXPECT_TRUE(Authorize(p, "verify", {"audit_log", "/1/5/23/", ""}).ok());
  EXPECT_TRUE(Authorize(p, "create", {"organizations", "/1/5/23/", ""}).ok());
}

TEST(AuthorizeTest, TheDocumentIsTheSource) {
  // Every role the issue names has at least one row; the table parses.
  for (std::string role : {"committee_admin", "org_admin", "secretary", "member", "auditor", "ops"}) {
    bool found = false;
    for (const Grant& g : Grants()) {
      found = found || g.role == role;
    }
    EXPECT_TRUE(found) << role;
  }
  EXPECT_FALSE(ParseGrants("no table here").ok());
  EXPECT_FALSE(ParseGrants("<!-- permissions:begin -->\n| a | b | c | everywhere |\n"
                           "<!-- permissions:end -->")
                   .ok());
  auto one = ParseGrants("<!-- permissions:begin -->\n| role | resource | actions | scope |\n"
                         "|---|---|---|---|\n| r | x | read, update | self |\n"
                         "<!-- permissions:end -->");
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].actions, (std::vector<std::string>{"read", "update"}));
}

}  // namespace
}  // namespace dj::auth
