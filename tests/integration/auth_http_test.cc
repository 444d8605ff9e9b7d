// End to end, identity and access: accounts and sign-in, tokens checked at the gateway, the
// permission matrix over roles x actions x in/out of scope, the audit log, rate limits, CORS
// and security headers, in both topologies.
#include <algorithm>
#include <fstream>
#include <thread>

#include "common/auth/jwt.h"
#include "common/db/sqlite_driver.h"
#include "tests/integration/suite_fixture.h"

namespace dj {
namespace {

class Auth : public Topo, public ::testing::WithParamInterface<Topology> {
 protected:
  // A city whose accounts lock after 5 failed sign-ins (the default is 50, with delays per name
  // and address from the 5th; see security_http_test), with its delays after 20.
  void SetUp() override {
    Start(GetParam(), {{"DJ_CORS_ORIGINS", "https://console.dj.example"}},
          {{"DJ_ACCOUNT_LOCK_FAILURES", "5"}, {"DJ_LOGIN_MAX_FAILURES", "20"}});
  }

  // The key that signs access tokens: known to the distributed processes' settings, made by
  // dangjian in its data directory.
  auth::SigningKey JwtKey() {
    if (topology_ == Topology::kDistributed) {
      auto keys = auth::ParseSigningKeys(kJwtKeys);
      return (*keys)[0];
    }
    std::ifstream in(dir_ + "/data/keys/jwt");
    std::string secret;
    std::getline(in, secret);
    return {"local", secret};
  }

  // A pool on the org service's database, to play the attacker with direct access to it.
  std::unique_ptr<db::Pool> OrgDatabase() {
    if (topology_ == Topology::kDistributed) {
      return db_->NewPool(1);
    }
    return std::make_unique<db::Pool>(db::NewSqliteDriver({.path = dir_ + "/data/org.db"}),
                                      db::PoolOptions{.name = "test", .size = 1});
  }
};

TEST_P(Auth, RolesActionsAndScopesFollowThePermissionTable) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "工委");
  pb::Organization a = MustCreate(root.name(), "PARTY_COMMITTEE", "甲局机关党委");
  pb::Organization a1 = MustCreate(a.name(), "BRANCH", "甲一支部");
  pb::Organization a2 = MustCreate(a.name(), "BRANCH", "甲二支部");
  pb::Organization b = MustCreate(root.name(), "PARTY_COMMITTEE", "乙局机关党委");
  pb::Organization b1 = MustCreate(b.name(), "BRANCH", "乙一支部");

  CreateAccount("orgadmin.a", "ORG_ADMIN", a);
  const std::string secretary = CreateAccount("secretary.a1", "SECRETARY", a1);
  const std::string member = CreateAccount("member.a1", "MEMBER", a1, "members/901");
  CreateAccount("auditor.a", "AUDITOR", a);
  CreateAccount("ops", "OPS", root);
  const std::map<std::string, std::string> tokens = {
      {"admin", token_},
      {"org_admin", SignInAs("orgadmin.a")},
      {"secretary", SignInAs("secretary.a1")},
      {"member", SignInAs("member.a1")},
      {"auditor", SignInAs("auditor.a")},
      {"ops", SignInAs("ops")},
      {"nobody", ""},
  };
  auto create = [](const pb::Organization& parent, const std::string& kind,
                   const std::string& name) {
    return absl::StrCat(R"({"displayName":")", name, R"(","kind":")", kind, R"(","parent":")",
                        parent.name(), R"("})");
  };
  struct Case {
    std::string who;
    std::string method;
    std::string target;
    std::string body;
    int status;
  };
  const std::vector<Case> cases = {
      // committee_admin: the whole tree.
      {"admin", "GET", "/v1/" + b1.name(), "", 200},
      {"admin", "GET", "/v1/auditLogs/org:verify", "", 200},
      // org_admin of 甲: its subtree only; 乙 does not exist for them.
      {"org_admin", "GET", "/v1/" + a1.name(), "", 200},
      {"org_admin", "GET", "/v1/" + b1.name(), "", 404},
      {"org_admin", "POST", "/v1/organizations", create(a, "BRANCH", "甲三支部"), 200},
      {"org_admin", "POST", "/v1/organizations", create(b, "BRANCH", "乙二支部"), 404},
      {"org_admin", "PATCH", "/v1/" + b.name() + "?updateMask=displayName",
       R"({"displayName":"改"})", 404},
      {"org_admin", "DELETE", "/v1/" + a2.name(), "", 200},
      {"org_admin", "GET", "/v1/auditLogs/org/entries", "", 403},
      {"org_admin", "GET", "/v1/" + secretary, "", 200},
      // secretary of 甲一: own branch and below; no delete; nothing beside or above.
      {"secretary", "GET", "/v1/" + a1.name(), "", 200},
      {"secretary", "GET", "/v1/" + a.name(), "", 404},
      {"secretary", "GET", "/v1/" + b1.name(), "", 404},
      {"secretary", "POST", "/v1/organizations", create(a1, "PARTY_GROUP", "第一小组"), 200},
      {"secretary", "PATCH", "/v1/" + a1.name() + "?updateMask=displayName",
       R"({"displayName":"甲一支部（改）"})", 200},
      {"secretary", "DELETE", "/v1/" + a1.name(), "", 403},
      {"secretary", "GET", "/v1/" + member, "", 200},
      // member: reads the organization; only their own account.
      {"member", "GET", "/v1/" + a1.name(), "", 200},
      {"member", "POST", "/v1/organizations", create(a1, "PARTY_GROUP", "第二小组"), 403},
      {"member", "GET", "/v1/" + member, "", 200},
      {"member", "GET", "/v1/" + secretary, "", 404},
      {"member", "GET", "/v1/" + b1.name(), "", 404},
      // auditor of 甲: read-only, with the audit log.
      {"auditor", "GET", "/v1/" + a1.name(), "", 200},
      {"auditor", "PATCH", "/v1/" + a1.name() + "?updateMask=displayName",
       R"({"displayName":"审计改"})", 403},
      {"auditor", "GET", "/v1/auditLogs/org/entries", "", 200},
      {"auditor", "GET", "/v1/auditLogs/member:verify", "", 200},
      {"auditor", "GET", "/v1/" + b.name(), "", 404},
      // ops: metrics and health only.
      {"ops", "GET", "/v1/" + root.name(), "", 404},
      {"ops", "GET", "/v1/auditLogs/org/entries", "", 403},
      // no token at all.
      {"nobody", "GET", "/v1/" + a1.name(), "", 401},
      {"nobody", "GET", "/v1/accounts", "", 401},
  };
  for (const Case& c : cases) {
    HttpResponse r = As(tokens.at(c.who), c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.who << " " << c.method << " " << c.target << " -> "
                                  << r.body;
  }
  // Out of scope is indistinguishable from missing.
  HttpResponse outside = As(tokens.at("secretary"), "GET", "/v1/" + b1.name());
  HttpResponse missing = As(tokens.at("secretary"), "GET", "/v1/organizations/4242");
  EXPECT_EQ(ErrorReason(outside.body), ErrorReason(missing.body));

  // Granting: only roles one holds, only within one's scope.
  HttpResponse escalate =
      As(tokens.at("org_admin"), "POST", "/v1/accounts",
         absl::StrCat(R"({"account":{"username":"sneaky","roles":["AUDITOR"],)", R"("scope":")",
                      a.name(), R"("},"initialPassword":"Sneaky#123"})"));
  EXPECT_EQ(escalate.status, 403) << escalate.body;
  HttpResponse elsewhere =
      As(tokens.at("org_admin"), "POST", "/v1/accounts",
         absl::StrCat(R"({"account":{"username":"elsewhere","roles":["ORG_ADMIN"],)",
                      R"("scope":")", b1.name(), R"("},"initialPassword":"Else#1234"})"));
  EXPECT_EQ(elsewhere.status, 404) << elsewhere.body;
  EXPECT_EQ(ViolationField(elsewhere.body), "account.scope");

  // Lists are cut to the scope: the org admin sees the four accounts under 甲.
  HttpResponse list = As(tokens.at("org_admin"), "GET", "/v1/accounts");
  ASSERT_EQ(list.status, 200) << list.body;
  for (const char* name : {"orgadmin.a", "secretary.a1", "member.a1", "auditor.a"}) {
    EXPECT_NE(list.body.find(name), std::string::npos) << name << " in " << list.body;
  }
  EXPECT_EQ(list.body.find("\"admin\""), std::string::npos) << list.body;
  EXPECT_EQ(list.body.find("\"ops\""), std::string::npos) << list.body;

  // The auditor of 甲 sees 甲's part of the org audit log, refusals included, and not 乙's.
  HttpResponse log = As(tokens.at("auditor"), "GET", "/v1/auditLogs/org/entries?pageSize=500");
  ASSERT_EQ(log.status, 200);
  EXPECT_NE(log.body.find("OUT_OF_SCOPE"), std::string::npos) << log.body;  // 乙二支部 attempt
  EXPECT_EQ(log.body.find(b1.name()), std::string::npos) << log.body;
}

// Accounts keep their scope's path; when the organization moves, the org service's
// OrganizationMoved event (Redis Streams, or in-process in dangjian) moves the scope with it.
TEST_P(Auth, AnAccountsScopeFollowsItsOrganizationWhenItMoves) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "工委");
  pb::Organization a = MustCreate(root.name(), "PARTY_COMMITTEE", "甲局机关党委");
  pb::Organization b = MustCreate(root.name(), "PARTY_COMMITTEE", "乙局机关党委");
  pb::Organization branch = MustCreate(a.name(), "BRANCH", "甲一支部");
  const std::string clerk = CreateAccount("clerk.a1", "SECRETARY", branch);
  CreateAccount("orgadmin.b", "ORG_ADMIN", b);
  const std::string b_admin = SignInAs("orgadmin.b");
  EXPECT_EQ(As(b_admin, "GET", "/v1/" + clerk).status, 404) << "not in b's subtree yet";

  HttpResponse moved =
      Post("/v1/" + branch.name() + ":move", R"({"newParent":")" + b.name() + R"("})");
  ASSERT_EQ(moved.status, 200) << moved.body;
  bool followed = testing::WaitFor([&] { return As(b_admin, "GET", "/v1/" + clerk).status == 200; },
                                   std::chrono::seconds(30));
  EXPECT_TRUE(followed) << "the account's scope did not follow the move";
  HttpResponse listed = As(b_admin, "GET", "/v1/accounts");
  EXPECT_NE(listed.body.find("clerk.a1"), std::string::npos) << listed.body;
}

TEST_P(Auth, SignInRefusalsTellNothingAndLockTheAccount) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "工委");
  const std::string account = CreateAccount("clerk", "SECRETARY", root);
  ASSERT_FALSE(SignInAs("clerk").empty());
  auto login = [&](const std::string& user, const std::string& password) {
    return As("", "POST", "/v1/auth:login",
              absl::StrCat(R"({"username":")", user, R"(","password":")", password, R"("})"));
  };
  HttpResponse unknown = login("nobody-here", "Whatever#1");
  HttpResponse wrong = login("clerk", "Whatever#1");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(ParseStruct(unknown.body).DebugString(), ParseStruct(wrong.body).DebugString());
  for (int i = 0; i < 4; ++i) {
    login("clerk", "Whatever#1");  // five failures in all
  }
  HttpResponse locked = login("clerk", "Changed#clerk9");  // the right password, too late
  EXPECT_EQ(locked.status, 401);
  EXPECT_EQ(ErrorReason(locked.body), ErrorReason(unknown.body));
  // The administrator sees the account locked and the story in the audit log.
  HttpResponse got = Http(http_port_, "GET", "/v1/" + account);
  EXPECT_EQ(Field(got.body, "state"), "LOCKED") << got.body;
  HttpResponse log = Http(http_port_, "GET", "/v1/auditLogs/member/entries?pageSize=50");
  EXPECT_NE(log.body.find("WRONG_PASSWORD; LOCKED"), std::string::npos) << log.body;
  EXPECT_NE(log.body.find("\"detail\":\"LOCKED\""), std::string::npos) << log.body;
  EXPECT_NE(log.body.find("UNKNOWN_USERNAME"), std::string::npos) << log.body;
  EXPECT_EQ(log.body.find("nobody-here"), std::string::npos) << "attempted names are not kept";
  // A reset unlocks it, with a password to change at the next sign-in.
  HttpResponse reset = Http(http_port_, "POST", "/v1/" + account + ":resetPassword",
                            R"({"newPassword":"Reset#Pass77"})");
  EXPECT_EQ(reset.status, 200) << reset.body;
  EXPECT_EQ(ErrorReason(login("clerk", "Reset#Pass77").body), "PASSWORD_CHANGE_REQUIRED");
}

TEST_P(Auth, TokensAreCheckedAtTheGatewayAndRefreshRotates) {
  const std::string org = "/v1/organizations";
  // Missing, malformed, tampered, foreign-key and expired tokens.
  HttpResponse none = As("", "GET", org);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(ErrorReason(none.body), "TOKEN_MISSING");
  EXPECT_FALSE(none.headers["www-authenticate"].empty());
  std::string tampered = token_;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_EQ(ErrorReason(As(tampered, "GET", org).body), "TOKEN_SIGNATURE");
  EXPECT_EQ(As("not-a-jwt", "GET", org).status, 401);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auth::Claims claims{.subject = "accounts/1",
                      .username = "admin",
                      .roles = {"committee_admin"},
                      .token_id = "t",
                      .issued_at = now,
                      .expires_at = now + 600};
  auto foreign = auth::JwtSigner::Create({{"other", std::string(40, 'o')}}, "dangjian");
  EXPECT_EQ(ErrorReason(As(foreign->Sign(claims), "GET", org).body), "TOKEN_KEY_UNKNOWN");
  auto ours = auth::JwtSigner::Create({JwtKey()}, "dangjian");
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(As(ours->Sign(claims), "GET", org).status, 200);  // the same key verifies
  claims.issued_at = now - 3600;
  claims.expires_at = now - 1800;
  EXPECT_EQ(ErrorReason(As(ours->Sign(claims), "GET", org).body), "TOKEN_EXPIRED");

  // The gateway answered those itself; they reach the member service's audit log in a batch
  // (one row per reason and address) within its report interval, and the chain still holds.
  const std::vector<std::string> reasons = {"TOKEN_MISSING", "TOKEN_SIGNATURE", "TOKEN_MALFORMED",
                                            "TOKEN_KEY_UNKNOWN", "TOKEN_EXPIRED"};
  std::string log;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(std::chrono::milliseconds(200))) {
    log = Http(http_port_, "GET", "/v1/auditLogs/member/entries?pageSize=100").body;
    if (std::all_of(reasons.begin(), reasons.end(), [&](const std::string& r) {
          return log.find(absl::StrCat("\"detail\":\"", r, " x")) != std::string::npos;
        })) {
      break;
    }
  }
  for (const std::string& r : reasons) {
    EXPECT_NE(log.find(absl::StrCat("\"detail\":\"", r, " x")), std::string::npos) << r << log;
  }
  EXPECT_NE(log.find("\"action\":\"auth.token_refused\""), std::string::npos);
  EXPECT_NE(log.find("\"resource\":\"/v1/organizations\""), std::string::npos) << log;
  EXPECT_NE(Http(http_port_, "GET", "/v1/auditLogs/member:verify").body.find("\"intact\":true"),
            std::string::npos);

  // Refresh rotates; a rotated token used again ends the whole session.
  HttpResponse login =
      As("", "POST", "/v1/auth:login",
         absl::StrCat(R"({"username":"admin","password":")", testing::kAdminPassword, R"("})"));
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(Field(login.body, "tokenType"), "Bearer");
  const std::string r1 = Field(login.body, "refreshToken");
  HttpResponse refreshed = As("", "POST", "/v1/auth:refresh", R"({"refreshToken":")" + r1 + "\"}");
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const std::string r2 = Field(refreshed.body, "refreshToken");
  EXPECT_NE(r1, r2);
  EXPECT_EQ(As(Field(refreshed.body, "accessToken"), "GET", org).status, 200);
  HttpResponse reused = As("", "POST", "/v1/auth:refresh", R"({"refreshToken":")" + r1 + "\"}");
  EXPECT_EQ(reused.status, 401);
  EXPECT_EQ(ErrorReason(reused.body), "REFRESH_TOKEN_REUSED");
  EXPECT_EQ(As("", "POST", "/v1/auth:refresh", R"({"refreshToken":")" + r2 + "\"}").status, 401);

  // Logout ends a session.
  HttpResponse again =
      As("", "POST", "/v1/auth:login",
         absl::StrCat(R"({"username":"admin","password":")", testing::kAdminPassword, R"("})"));
  const std::string r3 = Field(again.body, "refreshToken");
  EXPECT_EQ(As("", "POST", "/v1/auth:logout", R"({"refreshToken":")" + r3 + "\"}").status, 200);
  EXPECT_EQ(As("", "POST", "/v1/auth:refresh", R"({"refreshToken":")" + r3 + "\"}").status, 401);
}

TEST_P(Auth, AChangedAuditRowIsFound) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "工委");
  MustCreate(root.name(), "PARTY_COMMITTEE", "甲局机关党委");
  HttpResponse before = Http(http_port_, "GET", "/v1/auditLogs/org:verify");
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_NE(before.body.find("\"intact\":true"), std::string::npos) << before.body;
  {
    auto pool = OrgDatabase();
    auto lease = pool->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_TRUE((*lease)->Exec("UPDATE audit_log SET actor = 'accounts/0' WHERE seq = 1", {}).ok());
  }
  HttpResponse after = Http(http_port_, "GET", "/v1/auditLogs/org:verify");
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_NE(after.body.find("\"intact\":false"), std::string::npos) << after.body;
  EXPECT_NE(after.body.find("\"firstBadSeq\":\"1\""), std::string::npos) << after.body;
}

TEST_P(Auth, CorsForConfiguredOriginsAndSecurityHeadersEverywhere) {
  HttpResponse preflight = testing::Http(
      http_port_, "OPTIONS", "/v1/organizations", "",
      {{"Origin", "https://console.dj.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.headers["access-control-allow-origin"], "https://console.dj.example");
  EXPECT_NE(preflight.headers["access-control-allow-headers"].find("authorization"),
            std::string::npos);
  HttpResponse foreign = testing::Http(
      http_port_, "OPTIONS", "/v1/organizations", "",
      {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(foreign.status, 403);
  EXPECT_TRUE(foreign.headers["access-control-allow-origin"].empty());
  HttpResponse get =
      Http(http_port_, "GET", "/v1/organizations", "", {{"Origin", "https://console.dj.example"}});
  EXPECT_EQ(get.headers["access-control-allow-origin"], "https://console.dj.example");
  // The API description is served without a token, with its security scheme.
  HttpResponse openapi = As("", "GET", "/openapi.json");
  EXPECT_EQ(openapi.status, 200);
  EXPECT_NE(openapi.body.find("\"bearerAuth\""), std::string::npos);
  EXPECT_NE(openapi.body.find("/v1/auth:login"), std::string::npos);
  for (const HttpResponse* r : {&get, &foreign}) {
    EXPECT_EQ(r->headers.at("x-content-type-options"), "nosniff");
    EXPECT_EQ(r->headers.at("x-frame-options"), "DENY");
    EXPECT_EQ(r->headers.at("cache-control"), "no-store");
    EXPECT_FALSE(r->headers.at("content-security-policy").empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Topologies, Auth,
                         ::testing::Values(Topology::kDistributed, Topology::kEmbedded),
                         TopologyName);

// A small limit so the test can hit it and see it recover.
class Limits : public Topo, public ::testing::WithParamInterface<Topology> {
 protected:
  void SetUp() override {
    Start(GetParam(),
          {{"DJ_RATE_LIMIT_PER_PRINCIPAL", "30"}, {"DJ_RATE_LIMIT_WINDOW_SECONDS", "2"}});
  }
};

TEST_P(Limits, TooManyRequestsGet429WithRetryAfterAndRecover) {
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 60 && limited == 0; ++i) {
    HttpResponse r = Http(http_port_, "GET", "/v1/organizations");
    if (r.status == 429) {
      ++limited;
      retry_after = r.headers["retry-after"];
      EXPECT_EQ(ErrorStatus(r.body), "RESOURCE_EXHAUSTED");
    }
  }
  ASSERT_EQ(limited, 1) << "no request was limited";
  EXPECT_FALSE(retry_after.empty());
  EXPECT_LE(std::stoi(retry_after), 2);
  EXPECT_TRUE(
      testing::WaitFor([&] { return Http(http_port_, "GET", "/v1/organizations").status == 200; },
                       std::chrono::seconds(10)));
}

INSTANTIATE_TEST_SUITE_P(Topologies, Limits,
                         ::testing::Values(Topology::kDistributed, Topology::kEmbedded),
                         TopologyName);

}  // namespace
}  // namespace dj
