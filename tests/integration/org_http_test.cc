// End to end, organizations: the suite's processes (suite_fixture.h) driven over HTTP/JSON as
// the administrator, in both topologies.
#include "absl/strings/match.h"
#include "dangjian/org/v1/rules.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/integration/suite_fixture.h"

namespace dj {
namespace {

TEST_P(Suite, BuildsATreeReadsThroughTheCacheAndPages) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "启东市级机关工委");
  pb::Organization committee = MustCreate(root.name(), "PARTY_COMMITTEE", "市财政局机关党委");
  pb::Organization branch = MustCreate(committee.name(), "BRANCH", "第一党支部");
  EXPECT_EQ(branch.depth(), 2);
  MustCreate(committee.name(), "BRANCH", "第二党支部");
  MustCreate(committee.name(), "BRANCH", "第三党支部");

  // Get twice: the second is a cache hit, visible in dj-org's /metrics.
  HttpResponse first = Http(http_port_, "GET", "/v1/" + branch.name());
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(ParseOrg(first.body).display_name(), "第一党支部");
  EXPECT_EQ(first.headers["content-type"].find("application/json"), 0u);
  const double hits = CacheHits();
  HttpResponse second = Http(http_port_, "GET", "/v1/" + branch.name());
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(CacheHits(), hits + 1);

  // Page through the committee's three branches, two at a time.
  std::vector<std::string> names;
  std::string token;
  int pages = 0;
  do {
    HttpResponse r = Http(http_port_, "GET",
                          "/v1/organizations?parent=" + committee.name() + "&pageSize=2" +
                              (token.empty() ? "" : "&pageToken=" + token));
    ASSERT_EQ(r.status, 200) << r.body;
    pb::ListOrganizationsResponse page;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &page).ok());
    for (const auto& o : page.organizations()) {
      names.push_back(o.display_name());
    }
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 5);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(names, (std::vector<std::string>{"第一党支部", "第二党支部", "第三党支部"}));

  // The whole subtree, depth first.
  HttpResponse sub = Http(http_port_, "GET", "/v1/" + root.name() + ":listDescendants");
  ASSERT_EQ(sub.status, 200) << sub.body;
  pb::ListDescendantsResponse all;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(sub.body, &all).ok());
  ASSERT_EQ(all.organizations_size(), 4);
  EXPECT_EQ(all.organizations(0).name(), committee.name());

  // A retried create with the same requestId returns the same organization.
  const std::string body = absl::StrCat(R"({"displayName":"第四党支部","kind":"BRANCH","parent":")",
                                        committee.name(), R"("})");
  HttpResponse a = Post("/v1/organizations?requestId=5f0c8e1e-retry-01", body);
  HttpResponse b = Post("/v1/organizations?requestId=5f0c8e1e-retry-01", body);
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(ParseOrg(a.body).name(), ParseOrg(b.body).name());

  // Update with the current etag, then with the stale one.
  pb::Organization current = ParseOrg(second.body);
  HttpResponse patched = Http(http_port_, "PATCH",
                              "/v1/" + branch.name() + "?updateMask=displayName",
                              R"({"displayName":"第一党支部（机关）","etag":")" + current.etag() + "\"}");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(ParseOrg(patched.body).display_name(), "第一党支部（机关）");
  HttpResponse stale = Http(http_port_, "PATCH", "/v1/" + branch.name() + "?updateMask=displayName",
                            R"({"displayName":"又改","etag":")" + current.etag() + "\"}");
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(ErrorStatus(stale.body), "ABORTED");
  // The read after the write sees the write, not the cached copy.
  EXPECT_EQ(ParseOrg(Http(http_port_, "GET", "/v1/" + branch.name()).body).display_name(),
            "第一党支部（机关）");

  // Delete: refused while children exist, then allowed bottom-up.
  HttpResponse refused = Http(http_port_, "DELETE", "/v1/" + committee.name());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(ErrorStatus(refused.body), "FAILED_PRECONDITION");
  HttpResponse deleted = Http(http_port_, "DELETE", "/v1/" + branch.name());
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(Http(http_port_, "GET", "/v1/" + branch.name()).status, 404);
}

TEST_P(Suite, BadInputGetsAClearErrorAndChangesNothing) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "工委");
  pb::Organization general = MustCreate(root.name(), "GENERAL_BRANCH", "总支");
  struct Case {
    std::string method;
    std::string target;
    std::string body;
    int status;
    std::string field;  // expected first field violation ("" = don't check)
  };
  const std::vector<Case> cases = {
      // Illegal nesting: a party group directly under a general branch.
      {"POST", "/v1/organizations",
       R"({"displayName":"小组","kind":"PARTY_GROUP","parent":")" + general.name() + "\"}", 400,
       "organization.parent"},
      {"POST", "/v1/organizations", R"({"displayName":"x","kind":"BRANCH"})", 400,
       "organization.parent"},
      {"POST", "/v1/organizations", R"({"displayName":"","kind":"BRANCH","parent":")" +
       root.name() + "\"}", 400, "organization.display_name"},
      // Malformed JSON, unknown field, wrong type, unknown enum value.
      {"POST", "/v1/organizations", R"({"displayName": )", 400, ""},
      {"POST", "/v1/organizations", R"({"displayName":"x","colour":"red"})", 400,
       "organization.colour"},
      {"POST", "/v1/organizations", R"({"displayName":42,"kind":"BRANCH"})", 400, ""},
      {"POST", "/v1/organizations", R"({"displayName":"x","kind":"SOVIET"})", 400,
       "organization.kind"},
      // A query parameter may not override a path variable, nor name an unknown field.
      {"GET", "/v1/" + root.name() + "?name=" + general.name(), "", 400, "name"},
      {"GET", "/v1/organizations?colour=red", "", 400, "colour"},
      // Bad and unknown resource names.
      {"GET", "/v1/organizations/abc", "", 400, "name"},
      {"GET", "/v1/organizations/987654321", "", 404, ""},
      {"GET", "/v1/organizations?parent=members/5", "", 400, "parent"},
      {"GET", "/v1/organizations?pageSize=-1", "", 400, "page_size"},
      {"GET", "/v1/organizations?pageToken=garbage", "", 400, "page_token"},
      // Update mask naming something that cannot be updated.
      {"PATCH", "/v1/" + root.name() + "?updateMask=parent", R"({"parent":""})", 400,
       "update_mask"},
      // Unknown route, wrong method.
      {"GET", "/v1/nothing-here", "", 404, ""},
      {"PUT", "/v1/" + root.name(), "{}", 405, ""},
  };
  for (const Case& c : cases) {
    HttpResponse r = Http(http_port_, c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body << " -> "
                                  << r.body;
    auto parsed = ParseStruct(r.body);
    ASSERT_TRUE(parsed.fields().contains("error")) << r.body;
    EXPECT_FALSE(parsed.fields().at("error").struct_value().fields().at("message")
                     .string_value().empty());
    if (!c.field.empty()) {
      EXPECT_EQ(ViolationField(r.body), c.field) << r.body;
    }
  }
  // A body that is not JSON, and a health endpoint written to.
  HttpResponse xml = Http(http_port_, "POST", "/v1/organizations", "<org/>",
                          {{"Content-Type", "application/xml"}});
  EXPECT_EQ(xml.status, 415);
  EXPECT_EQ(ErrorStatus(xml.body), "INVALID_ARGUMENT");
  HttpResponse post_health = Http(http_port_, "POST", "/healthz", "{}");
  EXPECT_EQ(post_health.status, 405);
  // Oversized body.
  HttpResponse big = Post("/v1/organizations",
                          R"({"displayName":")" + std::string(2 * 1024 * 1024, 'x') + "\"}");
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(ErrorStatus(big.body), "INVALID_ARGUMENT");

  // Nothing was written: the tree still has its two organizations.
  HttpResponse sub = Http(http_port_, "GET", "/v1/" + root.name() + ":listDescendants");
  pb::ListDescendantsResponse all;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(sub.body, &all).ok());
  EXPECT_EQ(all.organizations_size(), 1);
}

TEST_F(Distributed, ReadsSurviveARedisOutageAndCachingResumes) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "工委");
  ASSERT_EQ(Http(http_port_, "GET", "/v1/" + root.name()).status, 200);

  redis_->Stop();
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = Http(http_port_, "GET", "/v1/" + root.name());
    EXPECT_EQ(r.status, 200) << r.body;
  }
  // Writes work too, and a read after them is not stale.
  pb::Organization current = ParseOrg(Http(http_port_, "GET", "/v1/" + root.name()).body);
  HttpResponse patched = Http(http_port_, "PATCH", "/v1/" + root.name() + "?updateMask=displayName",
                              R"({"displayName":"工委（停缓存时改名）"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(ParseOrg(Http(http_port_, "GET", "/v1/" + root.name()).body).display_name(),
            "工委（停缓存时改名）");
  EXPECT_GT(Metric(metrics_port_,
                   "dj_cache_requests_total{cache=\"organization\",result=\"error\"}"),
            0);

  StartRedis();
  const double hits = CacheHits();
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        Http(http_port_, "GET", "/v1/" + root.name());
        return CacheHits() > hits;
      },
      std::chrono::seconds(30)))
      << "caching did not resume after Redis came back";
  EXPECT_EQ(ParseOrg(Http(http_port_, "GET", "/v1/" + root.name()).body).display_name(),
            "工委（停缓存时改名）");
}

TEST_P(Suite, RequestIdsMetricsAndHealth) {
  HttpResponse r = Http(http_port_, "GET", "/v1/organizations/77777",
                        "", {{"x-request-id", "it-req-0042"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers["x-request-id"], "it-req-0042");
  // The backend logged the failed call with the same request id.
  EXPECT_TRUE(testing::WaitFor(
      [&] { return BackendLog().find("it-req-0042") != std::string::npos; },
      std::chrono::seconds(10)))
      << BackendLog();
  HttpResponse generated = Http(http_port_, "GET", "/v1/organizations");
  EXPECT_FALSE(generated.headers["x-request-id"].empty());

  EXPECT_EQ(Http(http_port_, "GET", "/healthz").status, 200);
  const std::string gw = Http(gateway_metrics_port_, "GET", "/metrics").body;
  EXPECT_NE(gw.find("http_requests_total"), std::string::npos);
  const std::string org = Http(metrics_port_, "GET", "/metrics").body;
  EXPECT_NE(org.find("grpc_server_handled_total{grpc_code=\"NotFound\",grpc_method="
                     "\"GetOrganization\",grpc_service=\"dangjian.org.v1.OrganizationService\""),
            std::string::npos)
      << org;
  EXPECT_NE(org.find("grpc_server_handling_seconds_bucket"), std::string::npos);
  EXPECT_NE(org.find("dj_db_pool_connections_in_use"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Topologies, Suite,
                         ::testing::Values(Topology::kDistributed, Topology::kEmbedded),
                         TopologyName);

TEST(ProcessInterface, BadOrMissingSettingsExitWithOneLineNamingThem) {
  const std::string dir = ::testing::TempDir();
  struct Case {
    std::string binary;
    std::map<std::string, std::string> env;
    std::string named;
  };
  const std::vector<Case> cases = {
      {"dj-org", {{"DJ_REDIS_URL", "redis://127.0.0.1:1/0"}}, "DJ_MYSQL_URL"},
      {"dj-org", {{"DJ_MYSQL_URL", "mysql://u:p@127.0.0.1:1/d"}}, "DJ_REDIS_URL"},
      {"dj-org",
       {{"DJ_MYSQL_URL", "postgres://x"}, {"DJ_REDIS_URL", "redis://127.0.0.1:1/0"}},
       "DJ_MYSQL_URL"},
      {"dj-org",
       {{"DJ_MYSQL_URL", "mysql://u:p@127.0.0.1:1/d"},
        {"DJ_REDIS_URL", "redis://127.0.0.1:1/0"},
        {"DJ_GRPC_LISTEN", "not-an-address"}},
       "DJ_GRPC_LISTEN"},
      {"dj-gateway", {{"DJ_MEMBER_ADDR", "127.0.0.1:1"}}, "DJ_ORG_ADDR"},
      {"dj-gateway",
       {{"DJ_ORG_ADDR", "127.0.0.1:1"}, {"DJ_MEMBER_ADDR", "127.0.0.1:1"},
        {"DJ_HTTP_LISTEN", "x"}},
       "DJ_HTTP_LISTEN"},
      // Keys: missing, too short (never echoed), malformed.
      {"dj-gateway",
       {{"DJ_ORG_ADDR", "127.0.0.1:1"}, {"DJ_MEMBER_ADDR", "127.0.0.1:1"}, {"DJ_JWT_KEYS", ""}},
       "DJ_JWT_KEYS"},
      {"dj-gateway",
       {{"DJ_ORG_ADDR", "127.0.0.1:1"}, {"DJ_MEMBER_ADDR", "127.0.0.1:1"},
        {"DJ_JWT_KEYS", "k1=tooshort"}, {"DJ_INTERNAL_SECRET", std::string(40, 's')}},
       "DJ_JWT_KEYS"},
      {"dj-org",
       {{"DJ_MYSQL_URL", "mysql://u:p@127.0.0.1:1/d"},
        {"DJ_REDIS_URL", "redis://127.0.0.1:1/0"},
        {"DJ_AUDIT_KEY", std::string(40, 'a')},
        {"DJ_INTERNAL_SECRET", "short-secret"}},
       "DJ_INTERNAL_SECRET"},
      {"dj-member",
       {{"DJ_MYSQL_URL", "mysql://u:p@127.0.0.1:1/d"},
        {"DJ_REDIS_URL", "redis://127.0.0.1:1/0"},
        {"DJ_AUDIT_KEY", std::string(40, 'a')},
        {"DJ_INTERNAL_SECRET", std::string(40, 's')},
        {"DJ_ORG_ADDR", "127.0.0.1:1"},
        {"DJ_JWT_KEYS", ""}},
       "DJ_JWT_KEYS"},
  };
  int i = 0;
  for (const Case& c : cases) {
    const std::string log = dir + "/settings-" + std::to_string(getpid()) + "-" +
                            std::to_string(i++) + ".log";
    // Valid keys unless the case says otherwise, so each case names exactly one setting.
    std::map<std::string, std::string> env = {{"DJ_INTERNAL_SECRET", std::string(40, 's')},
                                              {"DJ_AUDIT_KEY", std::string(40, 'a')},
                                              {"DJ_JWT_KEYS", "k=" + std::string(40, 'j')}};
    for (const auto& [k, v] : c.env) {
      env[k] = v;
    }
    testing::Process p(testing::BinDir() + "/" + c.binary, {}, env, log);
    const int code = p.Wait(std::chrono::seconds(20));
    EXPECT_NE(code, 0) << c.binary << " " << c.named;
    EXPECT_NE(code, -1) << c.binary << " did not exit";
    const std::string out = p.Log();
    EXPECT_NE(out.find(c.named), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_EQ(out.find("tooshort"), std::string::npos) << "a secret was echoed: " << out;
    EXPECT_EQ(out.find("short-secret"), std::string::npos) << "a secret was echoed: " << out;
  }
}

}  // namespace
}  // namespace dj

namespace dj {
namespace {

// Step 4: moves, dissolutions and merges through the gateway, with refusals that name a field.
TEST_P(Suite, MoveDissolveAndMergeThroughTheGateway) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "工委");
  pb::Organization a = MustCreate(root.name(), "PARTY_COMMITTEE", "财政局机关党委");
  pb::Organization b = MustCreate(root.name(), "PARTY_COMMITTEE", "税务局机关党委");
  pb::Organization general = MustCreate(a.name(), "GENERAL_BRANCH", "第一总支");
  pb::Organization branch = MustCreate(general.name(), "BRANCH", "第一支部");

  HttpResponse moved = Post("/v1/" + general.name() + ":move",
                            R"({"newParent":")" + b.name() + R"("})");
  ASSERT_EQ(moved.status, 200) << moved.body;
  pb::Organization now = ParseOrg(moved.body);
  EXPECT_EQ(now.parent(), b.name());
  EXPECT_TRUE(absl::StartsWith(now.path(), b.path()));
  pb::Organization child = ParseOrg(Http(http_port_, "GET", "/v1/" + branch.name()).body);
  EXPECT_TRUE(absl::StartsWith(child.path(), now.path())) << child.path();

  HttpResponse cycle = Post("/v1/" + general.name() + ":move",
                            R"({"newParent":")" + branch.name() + R"("})");
  EXPECT_EQ(cycle.status, 400) << cycle.body;
  EXPECT_EQ(ViolationField(cycle.body), "new_parent");
  EXPECT_EQ(ErrorReason(cycle.body), "MOVE_CYCLE");

  HttpResponse busy = Post("/v1/" + general.name() + ":dissolve", R"({"reason":"撤并"})");
  EXPECT_EQ(busy.status, 400) << busy.body;  // FAILED_PRECONDITION
  EXPECT_EQ(ErrorReason(busy.body), "HAS_ACTIVE_CHILDREN");

  pb::Organization other = MustCreate(b.name(), "GENERAL_BRANCH", "第二总支");
  HttpResponse merged = Post("/v1/" + general.name() + ":merge",
                             R"({"into":")" + other.name() + R"(","mergedDate":{"year":2024,"month":2,"day":29}})");
  ASSERT_EQ(merged.status, 200) << merged.body;
  pb::Organization gone = ParseOrg(merged.body);
  EXPECT_EQ(gone.status(), pb::DISSOLVED);
  EXPECT_EQ(gone.merged_into(), other.name());
  EXPECT_EQ(ParseOrg(Http(http_port_, "GET", "/v1/" + branch.name()).body).parent(),
            other.name());
  HttpResponse frozen = Http(http_port_, "PATCH", "/v1/" + general.name(),
                             R"({"displayName":"改名"})");
  EXPECT_EQ(ErrorReason(frozen.body), "ORGANIZATION_DISSOLVED") << frozen.body;
}

// Step 4: the structure rules are data a committee admin versions through the API.
TEST_P(Suite, StructureRulesAreVersionedData) {
  HttpResponse now = Http(http_port_, "GET", "/v1/ruleSets/structure:inForce");
  ASSERT_EQ(now.status, 200) << now.body;
  pb::StructureRuleSet current;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(now.body, &current).ok()) << now.body;
  EXPECT_EQ(current.version(), 0);
  EXPECT_EQ(current.joint_branch_max_units(), 5);

  pb::StructureRuleSet next = current;
  next.clear_name();
  next.clear_version();
  next.set_joint_branch_max_units(4);
  next.set_note("工委〔2026〕7号");
  next.mutable_effective_date()->set_year(2099);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(next, &json).ok());
  HttpResponse added = Post("/v1/ruleSets/structure/versions", json);
  ASSERT_EQ(added.status, 200) << added.body;
  next.mutable_effective_date()->set_year(2001);
  json.clear();  // MessageToJsonString appends
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(next, &json).ok());
  HttpResponse past = Post("/v1/ruleSets/structure/versions", json);
  EXPECT_EQ(past.status, 400) << past.body;
  EXPECT_EQ(ViolationField(past.body), "rule_set.effective_date") << past.body;
  HttpResponse later = Http(http_port_, "GET",
                            "/v1/ruleSets/structure:inForce?date.year=2100&date.month=1&date.day=1");
  EXPECT_NE(later.body.find("\"jointBranchMaxUnits\":4"), std::string::npos) << later.body;
  HttpResponse versions = Http(http_port_, "GET", "/v1/ruleSets/structure/versions");
  EXPECT_NE(versions.body.find("ruleSets/structure/versions/1"), std::string::npos)
      << versions.body;
}

}  // namespace
}  // namespace dj
