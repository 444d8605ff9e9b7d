// End to end: MariaDB (scripts/test), a Redis of the test's own, dj-org and dj-gateway as real
// processes, driven over HTTP/JSON.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/cache/cache.h"
#include "common/testing/test_env.h"
#include "dangjian/org/v1/org.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace dj {
namespace {

namespace pb = dangjian::org::v1;
using testing::Http;
using testing::HttpResponse;

using testing::BinDir;

std::string RedisServer() {
  const char* env = std::getenv("DJ_REDIS_SERVER");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/redis-server";
}

pb::Organization ParseOrg(const std::string& json) {
  pb::Organization o;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(json, &o, opts);
  EXPECT_TRUE(st.ok()) << st.ToString() << " in " << json;
  return o;
}

google::protobuf::Struct ParseStruct(const std::string& json) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
  return s;
}

// The first fieldViolations[].field of an AIP-193 error body, or "".
std::string ViolationField(const std::string& body) {
  auto s = ParseStruct(body);
  const auto& error = s.fields().at("error").struct_value();
  if (!error.fields().contains("details")) {
    return "";
  }
  for (const auto& d : error.fields().at("details").list_value().values()) {
    const auto& f = d.struct_value().fields();
    if (f.contains("fieldViolations")) {
      return f.at("fieldViolations").list_value().values(0).struct_value().fields().at("field")
          .string_value();
    }
  }
  return "";
}

std::string ErrorStatus(const std::string& body) {
  auto s = ParseStruct(body);
  if (!s.fields().contains("error")) {
    return "";
  }
  return s.fields().at("error").struct_value().fields().at("status").string_value();
}

enum class Topology { kDistributed, kEmbedded };

// Starts the suite in one topology: Redis + dj-org + dj-gateway on the test MariaDB, or one
// dangjian process on SQLite files. Tests then talk HTTP to http_port_.
class Topo : public ::testing::Test {
 protected:
  void Start(Topology topology) {
    topology_ = topology;
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(test.begin(), test.end(), '/', '_');  // parameterized names contain '/'
    dir_ = ::testing::TempDir() + "/dj-it-" + std::to_string(getpid()) + "-" + test;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    http_port_ = testing::FreePort();
    if (topology == Topology::kEmbedded) {
      gateway_ = std::make_unique<testing::Process>(
          BinDir() + "/dangjian", std::vector<std::string>{},
          std::map<std::string, std::string>{
              {"DJ_HTTP_LISTEN", absl::StrCat("127.0.0.1:", http_port_)},
              {"DJ_DATA_DIR", dir_ + "/data"}},
          dir_ + "/dangjian.log");
      metrics_port_ = http_port_;
      ASSERT_TRUE(testing::WaitFor(
          [&] { return Http(http_port_, "GET", "/readyz").status == 200; },
          std::chrono::seconds(60)))
          << gateway_->Log();
      return;
    }
    auto db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);

    redis_port_ = testing::FreePort();
    StartRedis();

    grpc_port_ = testing::FreePort();
    metrics_port_ = testing::FreePort();
    org_ = std::make_unique<testing::Process>(
        BinDir() + "/dj-org", std::vector<std::string>{},
        std::map<std::string, std::string>{
            {"DJ_MYSQL_URL", db_->url()},
            {"DJ_REDIS_URL", absl::StrCat("redis://127.0.0.1:", redis_port_, "/0")},
            {"DJ_GRPC_LISTEN", absl::StrCat("127.0.0.1:", grpc_port_)},
            {"DJ_METRICS_LISTEN", absl::StrCat("127.0.0.1:", metrics_port_)},
            {"DJ_LOG_LEVEL", "info"}},
        dir_ + "/org.log");
    ASSERT_TRUE(testing::WaitFor(
        [&] { return Http(metrics_port_, "GET", "/metrics").status == 200; },
        std::chrono::seconds(60)))
        << org_->Log();

    gateway_ = std::make_unique<testing::Process>(
        BinDir() + "/dj-gateway", std::vector<std::string>{},
        std::map<std::string, std::string>{
            {"DJ_HTTP_LISTEN", absl::StrCat("127.0.0.1:", http_port_)},
            {"DJ_ORG_ADDR", absl::StrCat("127.0.0.1:", grpc_port_)}},
        dir_ + "/gateway.log");
    ASSERT_TRUE(testing::WaitFor([&] { return Http(http_port_, "GET", "/readyz").status == 200; },
                                 std::chrono::seconds(60)))
        << gateway_->Log();
  }

  void TearDown() override {
    if (gateway_) {
      EXPECT_EQ(gateway_->Stop(), 0) << gateway_->Log();
    }
    if (org_) {
      EXPECT_EQ(org_->Stop(), 0) << org_->Log();
    }
    if (redis_) {
      redis_->Stop();
    }
    if (HasFailure()) {
      std::cerr << "--- backend log ---\n"
                << (org_ ? org_->Log() : "") << "--- gateway / dangjian log ---\n"
                << (gateway_ ? gateway_->Log() : "");
    }
  }

  // The log of the process that serves gRPC (dj-org, or dangjian itself).
  std::string BackendLog() { return org_ ? org_->Log() : gateway_->Log(); }

  void StartRedis() {
    redis_ = std::make_unique<testing::Process>(
        RedisServer(),
        std::vector<std::string>{"--port", std::to_string(redis_port_), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", dir_},
        std::map<std::string, std::string>{}, dir_ + "/redis.log");
    auto cache = cache::NewRedisCache(
        {.url = {"", "127.0.0.1", redis_port_, 0}, .retry_after = std::chrono::milliseconds(10)});
    ASSERT_TRUE(testing::WaitFor([&] { return cache->Set("ping", "1", std::chrono::seconds(1)).ok(); },
                                 std::chrono::seconds(30)))
        << redis_->Log();
  }

  HttpResponse Post(const std::string& target, const std::string& body) {
    return Http(http_port_, "POST", target, body);
  }

  pb::Organization MustCreate(const std::string& parent, const std::string& kind,
                              const std::string& display_name) {
    std::string body = absl::StrCat(R"({"displayName":")", display_name, R"(","kind":")", kind,
                                    R"(")", parent.empty() ? "" : R"(,"parent":")" + parent + "\"",
                                    "}");
    HttpResponse r = Post("/v1/organizations", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseOrg(r.body);
  }

  // The value of a Prometheus sample line starting with `prefix` on `port`'s /metrics (0 if none).
  double Metric(int port, const std::string& prefix) {
    const std::string text = Http(port, "GET", "/metrics").body;
    size_t at = text.find("\n" + prefix);
    if (at == std::string::npos) {
      return 0;
    }
    size_t space = text.find(' ', at + 1 + prefix.size() - 1);
    return std::stod(text.substr(space + 1));
  }

  double CacheHits() {
    return Metric(metrics_port_,
                  "dj_cache_requests_total{cache=\"organization\",result=\"hit\"}");
  }

  Topology topology_ = Topology::kDistributed;
  std::string dir_;
  std::unique_ptr<testing::TestDatabase> db_;
  int redis_port_ = 0;
  int grpc_port_ = 0;
  int metrics_port_ = 0;  // where the backend's metrics are: dj-org's port, or dangjian's HTTP
  int http_port_ = 0;
  std::unique_ptr<testing::Process> redis_;
  std::unique_ptr<testing::Process> org_;
  std::unique_ptr<testing::Process> gateway_;  // dj-gateway, or dangjian
};

// The suites that hold in both topologies.
class Suite : public Topo, public ::testing::WithParamInterface<Topology> {
 protected:
  void SetUp() override { Start(GetParam()); }
};

// Redis outages only exist in the distributed topology.
class Distributed : public Topo {
 protected:
  void SetUp() override { Start(Topology::kDistributed); }
};

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
  HttpResponse a = Post("/v1/organizations?requestId=5f0c8e1e-retry", body);
  HttpResponse b = Post("/v1/organizations?requestId=5f0c8e1e-retry", body);
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
  const std::string gw = Http(http_port_, "GET", "/metrics").body;
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
                         [](const auto& info) {
                           return info.param == Topology::kDistributed ? "Distributed"
                                                                       : "Embedded";
                         });

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
      {"dj-gateway", {}, "DJ_ORG_ADDR"},
      {"dj-gateway", {{"DJ_ORG_ADDR", "127.0.0.1:1"}, {"DJ_HTTP_LISTEN", "x"}},
       "DJ_HTTP_LISTEN"},
  };
  int i = 0;
  for (const Case& c : cases) {
    const std::string log = dir + "/settings-" + std::to_string(getpid()) + "-" +
                            std::to_string(i++) + ".log";
    testing::Process p(BinDir() + "/" + c.binary, {}, c.env, log);
    const int code = p.Wait(std::chrono::seconds(20));
    EXPECT_NE(code, 0) << c.binary << " " << c.named;
    EXPECT_NE(code, -1) << c.binary << " did not exit";
    const std::string out = p.Log();
    EXPECT_NE(out.find(c.named), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  }
}

}  // namespace
}  // namespace dj
