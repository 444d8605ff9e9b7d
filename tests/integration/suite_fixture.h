// The suite under test in either topology, started as real processes: MariaDB (from
// scripts/test) and a Redis of the test's own with every service of the registry (dj-org,
// dj-member, ..., as build/bin/dj-services lists them) and dj-gateway, or one dangjian on
// SQLite. The fixture signs in as the bootstrap administrator.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <sstream>
#include <vector>

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

// Starts the suite in one topology: Redis + the registry's services + dj-gateway on the test
// MariaDB, or one dangjian process on SQLite files. Tests then talk HTTP to http_port_.
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
    dir_ = testing::FreshTestDir("dj-it");
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
    redis_port_ = testing::FreePort();
    StartRedis();
    // Every service of the registry (build/bin/dj-services, in start order), each on a database
    // of its own, given the addresses of the services it calls; the gateway gets them all.
    for (const RegisteredService& registered : RegisteredServices()) {
      StartService(registered, registered.name == "member" ? member_env
                                                           : std::map<std::string, std::string>{});
      if (HasFatalFailure()) {
        return;
      }
      gateway_env[AddressVariable(registered.name)] =
          absl::StrCat("127.0.0.1:", services_.back().grpc_port);
    }
    // The names the suites use for the first two.
    if (ServiceProcess* org = FindService("org")) {
      org_ = org->process.get();
      db_ = org->db.get();
      grpc_port_ = org->grpc_port;
      metrics_port_ = org->metrics_port;
    }
    if (ServiceProcess* member = FindService("member")) {
      member_ = member->process.get();
      member_db_ = member->db.get();
      member_grpc_port_ = member->grpc_port;
    }

    gateway_env["DJ_HTTP_LISTEN"] = absl::StrCat("127.0.0.1:", http_port_);
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
    for (auto it = services_.rbegin(); it != services_.rend(); ++it) {  // callers first
      EXPECT_EQ(it->process->Stop(), 0) << it->process->Log();
    }
    if (redis_) {
      redis_->Stop();
    }
    if (HasFailure()) {
      for (const ServiceProcess& service : services_) {
        std::cerr << "--- dj-" << service.name << " log ---\n" << service.process->Log();
      }
      std::cerr << "--- gateway / dangjian log ---\n" << (gateway_ ? gateway_->Log() : "");
    }
  }

  // The log of the process that serves gRPC (dj-org, or dangjian itself).
  std::string BackendLog() { return org_ ? org_->Log() : gateway_->Log(); }

  void StartRedis() {
    redis_ = testing::StartRedisServer(redis_port_, dir_);
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

  // A service of the registry as dj-services prints it.
  struct RegisteredService {
    std::string name;
    bool signs_tokens = false;
    std::vector<std::string> calls;
  };
  static std::vector<RegisteredService> RegisteredServices() {
    std::vector<RegisteredService> out;
    FILE* list = popen((BinDir() + "/dj-services").c_str(), "r");
    EXPECT_NE(list, nullptr) << "cannot run " << BinDir() << "/dj-services";
    if (list == nullptr) {
      return out;
    }
    std::string text;
    char buf[512];
    for (size_t n; (n = fread(buf, 1, sizeof buf, list)) > 0;) {
      text.append(buf, n);
    }
    EXPECT_EQ(pclose(list), 0) << "dj-services failed";
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      RegisteredService s;
      int signs = 0;
      if (!(words >> s.name >> signs)) {
        continue;
      }
      s.signs_tokens = signs == 1;
      for (std::string callee; words >> callee;) {
        s.calls.push_back(callee);
      }
      out.push_back(std::move(s));
    }
    EXPECT_FALSE(out.empty()) << "dj-services listed no service";
    return out;
  }

  // Where those calling `service` find it: "org" -> DJ_ORG_ADDR.
  static std::string AddressVariable(std::string service) {
    std::transform(service.begin(), service.end(), service.begin(), ::toupper);
    return absl::StrCat("DJ_", service, "_ADDR");
  }

  // A service process of the distributed topology.
  struct ServiceProcess {
    std::string name;
    std::unique_ptr<testing::TestDatabase> db;
    int grpc_port = 0;
    int metrics_port = 0;
    std::unique_ptr<testing::Process> process;
  };
  ServiceProcess* FindService(const std::string& name) {
    for (ServiceProcess& s : services_) {
      if (s.name == name) {
        return &s;
      }
    }
    return nullptr;
  }

  // Starts dj-<registered.name> with `env` on a new database and waits until it serves; the
  // services it calls must have started.
  void StartService(const RegisteredService& registered, std::map<std::string, std::string> env) {
    ServiceProcess s;
    s.name = registered.name;
    auto db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    s.db = *std::move(db);
    s.grpc_port = testing::FreePort();
    s.metrics_port = testing::FreePort();
    env.insert({{"DJ_MYSQL_URL", s.db->url()},
                {"DJ_REDIS_URL", absl::StrCat("redis://127.0.0.1:", redis_port_, "/0")},
                {"DJ_GRPC_LISTEN", absl::StrCat("127.0.0.1:", s.grpc_port)},
                {"DJ_METRICS_LISTEN", absl::StrCat("127.0.0.1:", s.metrics_port)},
                {"DJ_INTERNAL_SECRET", kInternalSecret},
                {"DJ_AUDIT_KEY", kAuditKey},
                {"DJ_LOG_LEVEL", "info"}});
    for (const std::string& callee : registered.calls) {
      ServiceProcess* started = FindService(callee);
      ASSERT_NE(started, nullptr) << registered.name << " calls " << callee << ", not started";
      env.emplace(AddressVariable(callee), absl::StrCat("127.0.0.1:", started->grpc_port));
    }
    if (registered.signs_tokens) {
      env.emplace("DJ_JWT_KEYS", kJwtKeys);
      env.emplace("DJ_BOOTSTRAP_ADMIN_PASSWORD", testing::kAdminInitialPassword);
    }
    s.process = std::make_unique<testing::Process>(BinDir() + "/dj-" + s.name,
                                                   std::vector<std::string>{}, env,
                                                   dir_ + "/" + s.name + ".log");
    const int metrics = s.metrics_port;
    testing::Process* process = s.process.get();
    services_.push_back(std::move(s));
    ASSERT_TRUE(testing::WaitFor([&] { return Http(metrics, "GET", "/metrics").status == 200; },
                                 std::chrono::seconds(60)))
        << process->Log();
  }

  Topology topology_ = Topology::kDistributed;
  std::string dir_;
  std::vector<ServiceProcess> services_;  // distributed: the registry's, in start order
  testing::TestDatabase* db_ = nullptr;   // org's database
  int redis_port_ = 0;
  int grpc_port_ = 0;
  int metrics_port_ = 0;          // where the backend's metrics are: dj-org's, or dangjian's
  int gateway_metrics_port_ = 0;  // dj-gateway's metrics listener, or dangjian's
  int http_port_ = 0;
  std::unique_ptr<testing::Process> redis_;
  testing::Process* org_ = nullptr;     // dj-org, in services_
  testing::Process* member_ = nullptr;  // dj-member, in services_
  std::unique_ptr<testing::Process> gateway_;  // dj-gateway, or dangjian
  testing::TestDatabase* member_db_ = nullptr;
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
