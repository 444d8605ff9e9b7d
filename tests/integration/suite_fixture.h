// The suite under test in either topology, started as real processes: MariaDB (from
// scripts/test) and a Redis of the test's own with dj-org, dj-member and dj-gateway, or one
// dangjian on SQLite. The fixture signs in as the bootstrap administrator.
#pragma once

#include <unistd.h>

#include <algorithm>
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

namespace pb = dangjian::org::v1;
using testing::BinDir;
using testing::HttpResponse;

inline std::string RedisServer() {
  const char* env = std::getenv("DJ_REDIS_SERVER");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/redis-server";
}

inline pb::Organization ParseOrg(const std::string& json) {
  pb::Organization o;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(json, &o, opts);
  EXPECT_TRUE(st.ok()) << st.ToString() << " in " << json;
  return o;
}

inline google::protobuf::Struct ParseStruct(const std::string& json) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
  return s;
}

// The ErrorInfo reason of an AIP-193 error body, or "".
inline std::string ErrorReason(const std::string& body) {
  auto s = ParseStruct(body);
  if (!s.fields().contains("error")) {
    return "";
  }
  const auto& e = s.fields().at("error").struct_value().fields();
  if (!e.contains("details")) {
    return "";
  }
  for (const auto& d : e.at("details").list_value().values()) {
    if (d.struct_value().fields().contains("reason")) {
      return d.struct_value().fields().at("reason").string_value();
    }
  }
  return "";
}

// The first fieldViolations[].field of an AIP-193 error body, or "".
inline std::string ViolationField(const std::string& body) {
  auto s = ParseStruct(body);
  const auto& error = s.fields().at("error").struct_value();
  if (!error.fields().contains("details")) {
    return "";
  }
  for (const auto& d : error.fields().at("details").list_value().values()) {
    const auto& f = d.struct_value().fields();
    if (f.contains("fieldViolations")) {
      return f.at("fieldViolations")
          .list_value()
          .values(0)
          .struct_value()
          .fields()
          .at("field")
          .string_value();
    }
  }
  return "";
}

// The string field `name` of a JSON object ("" when absent).
inline std::string Field(const std::string& json, const std::string& name) {
  auto s = ParseStruct(json);
  auto it = s.fields().find(name);
  return it == s.fields().end() ? "" : it->second.string_value();
}

inline std::string ErrorStatus(const std::string& body) {
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
  // The keys the distributed processes share (the embedded binary makes its own).
  const std::string kInternalSecret = "it-internal-secret-0123456789abcdef";
  const std::string kAuditKey = "it-audit-key-0123456789abcdef-0123";
  const std::string kJwtKeys = "it1=it-jwt-secret-0123456789abcdef-0123";

  // `gateway_env` for dj-gateway, `member_env` for dj-member (both for dangjian). The tests sign
  // in many accounts from one address: the sign-in limit per address is raised unless given.
  void Start(Topology topology, std::map<std::string, std::string> gateway_env = {},
             const std::map<std::string, std::string>& member_env = {}) {
    topology_ = topology;
    gateway_env.emplace("DJ_SIGN_IN_LIMIT_PER_IP", "1000");
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(test.begin(), test.end(), '/', '_');  // parameterized names contain '/'
    dir_ = ::testing::TempDir() + "/dj-it-" + std::to_string(getpid()) + "-" + test;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    http_port_ = testing::FreePort();
    if (topology == Topology::kEmbedded) {
      gateway_env.insert(member_env.begin(), member_env.end());
      gateway_env["DJ_HTTP_LISTEN"] = absl::StrCat("127.0.0.1:", http_port_);
      gateway_env["DJ_DATA_DIR"] = dir_ + "/data";
      gateway_env["DJ_BOOTSTRAP_ADMIN_PASSWORD"] = testing::kAdminInitialPassword;
      metrics_port_ = testing::FreePort();
      gateway_metrics_port_ = metrics_port_;  // one process: one metrics listener
      gateway_env["DJ_METRICS_LISTEN"] = absl::StrCat("127.0.0.1:", metrics_port_);
      gateway_ = std::make_unique<testing::Process>(
          BinDir() + "/dangjian", std::vector<std::string>{}, gateway_env, dir_ + "/dangjian.log");
      ASSERT_TRUE(testing::WaitFor([&] { return Http(http_port_, "GET", "/readyz").status == 200; },
                                   std::chrono::seconds(60)))
          << gateway_->Log();
      SignInAsAdmin();
      return;
    }
    auto db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto member_db = testing::TestDatabase::Create();
    ASSERT_TRUE(member_db.ok()) << member_db.status();
    member_db_ = *std::move(member_db);

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
            {"DJ_INTERNAL_SECRET", kInternalSecret},
            {"DJ_AUDIT_KEY", kAuditKey},
            {"DJ_LOG_LEVEL", "info"}},
        dir_ + "/org.log");
    ASSERT_TRUE(
        testing::WaitFor([&] { return Http(metrics_port_, "GET", "/metrics").status == 200; },
                         std::chrono::seconds(60)))
        << org_->Log();

    member_grpc_port_ = testing::FreePort();
    const int member_metrics = testing::FreePort();
    std::map<std::string, std::string> member_settings = member_env;
    member_settings.insert({{"DJ_MYSQL_URL", member_db_->url()},
                            {"DJ_REDIS_URL", absl::StrCat("redis://127.0.0.1:", redis_port_, "/0")},
                            {"DJ_GRPC_LISTEN", absl::StrCat("127.0.0.1:", member_grpc_port_)},
                            {"DJ_METRICS_LISTEN", absl::StrCat("127.0.0.1:", member_metrics)},
                            {"DJ_ORG_ADDR", absl::StrCat("127.0.0.1:", grpc_port_)},
                            {"DJ_INTERNAL_SECRET", kInternalSecret},
                            {"DJ_AUDIT_KEY", kAuditKey},
                            {"DJ_JWT_KEYS", kJwtKeys},
                            {"DJ_BOOTSTRAP_ADMIN_PASSWORD", testing::kAdminInitialPassword}});
    member_ = std::make_unique<testing::Process>(
        BinDir() + "/dj-member", std::vector<std::string>{}, member_settings, dir_ + "/member.log");
    ASSERT_TRUE(
        testing::WaitFor([&] { return Http(member_metrics, "GET", "/metrics").status == 200; },
                         std::chrono::seconds(60)))
        << member_->Log();

    gateway_env["DJ_HTTP_LISTEN"] = absl::StrCat("127.0.0.1:", http_port_);
    gateway_env["DJ_ORG_ADDR"] = absl::StrCat("127.0.0.1:", grpc_port_);
    gateway_env["DJ_MEMBER_ADDR"] = absl::StrCat("127.0.0.1:", member_grpc_port_);
    gateway_env["DJ_REDIS_URL"] = absl::StrCat("redis://127.0.0.1:", redis_port_, "/0");
    gateway_env["DJ_INTERNAL_SECRET"] = kInternalSecret;
    gateway_env["DJ_JWT_KEYS"] = kJwtKeys;
    gateway_metrics_port_ = testing::FreePort();
    gateway_env["DJ_METRICS_LISTEN"] = absl::StrCat("127.0.0.1:", gateway_metrics_port_);
    BeforeGateway(gateway_env);
    if (HasFatalFailure()) {
      return;
    }
    gateway_ = std::make_unique<testing::Process>(
        BinDir() + "/dj-gateway", std::vector<std::string>{}, gateway_env, dir_ + "/gateway.log");
    ASSERT_TRUE(testing::WaitFor([&] { return Http(http_port_, "GET", "/readyz").status == 200; },
                                 std::chrono::seconds(60)))
        << gateway_->Log();
    SignInAsAdmin();
  }

  // Distributed only: runs once dj-org and dj-member serve (grpc_port_, redis_port_ are set),
  // before dj-gateway starts with `gateway_env`; a test starts more services here. Nothing by
  // default.
  virtual void BeforeGateway(std::map<std::string, std::string>& gateway_env) {}

  void SignInAsAdmin() {
    token_ = testing::SignIn(http_port_, "admin", testing::kAdminInitialPassword,
                             testing::kAdminPassword);
    ASSERT_FALSE(token_.empty()) << (member_ ? member_->Log() : gateway_->Log());
  }

  // HTTP as `token` (the administrator's by default; "" sends no Authorization header).
  HttpResponse Http(int port, const std::string& method, const std::string& target,
                    const std::string& body = "", std::map<std::string, std::string> headers = {}) {
    if (!token_.empty() && !headers.contains("Authorization") && !anonymous_) {
      headers["Authorization"] = "Bearer " + token_;
    }
    return testing::Http(port, method, target, body, headers);
  }
  HttpResponse As(const std::string& token, const std::string& method, const std::string& target,
                  const std::string& body = "") {
    std::map<std::string, std::string> headers;
    if (!token.empty()) {
      headers["Authorization"] = "Bearer " + token;
    }
    anonymous_ = token.empty();
    HttpResponse r = Http(http_port_, method, target, body, headers);
    anonymous_ = false;
    return r;
  }

  void TearDown() override {
    if (gateway_) {
      EXPECT_EQ(gateway_->Stop(), 0) << gateway_->Log();
    }
    if (member_) {
      EXPECT_EQ(member_->Stop(), 0) << member_->Log();
    }
    if (org_) {
      EXPECT_EQ(org_->Stop(), 0) << org_->Log();
    }
    if (redis_) {
      redis_->Stop();
    }
    if (HasFailure()) {
      std::cerr << "--- backend log ---\n"
                << (org_ ? org_->Log() : "") << "--- member log ---\n"
                << (member_ ? member_->Log() : "") << "--- gateway / dangjian log ---\n"
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
    ASSERT_TRUE(
        testing::WaitFor([&] { return cache->Set("ping", "1", std::chrono::seconds(1)).ok(); },
                         std::chrono::seconds(30)))
        << redis_->Log();
  }

  HttpResponse Post(const std::string& target, const std::string& body) {
    return Http(http_port_, "POST", target, body);
  }

  pb::Organization MustCreate(const std::string& parent, const std::string& kind,
                              const std::string& display_name) {
    std::string body =
        absl::StrCat(R"({"displayName":")", display_name, R"(","kind":")", kind, R"(")",
                     parent.empty() ? "" : R"(,"parent":")" + parent + "\"", "}");
    HttpResponse r = Post("/v1/organizations", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseOrg(r.body);
  }

  // An account `username` with `role` over `scope`'s subtree, created by the administrator with
  // the initial password "Initial#<username>"; returns its name.
  std::string CreateAccount(const std::string& username, const std::string& role,
                            const pb::Organization& scope, const std::string& member = "") {
    HttpResponse r = Http(http_port_, "POST", "/v1/accounts",
                          absl::StrCat(R"({"account":{"username":")", username, R"(","roles":[")",
                                       role, R"("],"scope":")", scope.name(), R"(")",
                                       member.empty() ? "" : R"(,"member":")" + member + "\"",
                                       R"(},"initialPassword":"Initial#)", username, R"("})"));
    EXPECT_EQ(r.status, 200) << username << ": " << r.body;
    return Field(r.body, "name");
  }

  std::string SignInAs(const std::string& username) {
    std::string token =
        testing::SignIn(http_port_, username, "Initial#" + username, "Changed#" + username + "9");
    EXPECT_FALSE(token.empty()) << username;
    return token;
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
    return Metric(metrics_port_, "dj_cache_requests_total{cache=\"organization\",result=\"hit\"}");
  }

  Topology topology_ = Topology::kDistributed;
  std::string dir_;
  std::unique_ptr<testing::TestDatabase> db_;
  int redis_port_ = 0;
  int grpc_port_ = 0;
  int metrics_port_ = 0;          // where the backend's metrics are: dj-org's, or dangjian's
  int gateway_metrics_port_ = 0;  // dj-gateway's metrics listener, or dangjian's
  int http_port_ = 0;
  std::unique_ptr<testing::Process> redis_;
  std::unique_ptr<testing::Process> org_;
  std::unique_ptr<testing::Process> member_;
  std::unique_ptr<testing::Process> gateway_;  // dj-gateway, or dangjian
  std::unique_ptr<testing::TestDatabase> member_db_;
  int member_grpc_port_ = 0;
  std::string token_;       // the administrator's access token
  bool anonymous_ = false;  // set by As("") to send no token
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

inline std::string TopologyName(const ::testing::TestParamInfo<Topology>& info) {
  return info.param == Topology::kDistributed ? "Distributed" : "Embedded";
}

}  // namespace dj
