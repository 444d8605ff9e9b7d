// A service that exists only in test code (tests/echo), started next to the registry's without
// an edit to the registry or to embedded/: in one process (embedded::Suite) behind a gateway
// that routes it from an extra descriptor set, the gateway's 503 when it is not running, and as
// its own process dj-echo behind dj-gateway given DJ_DESCRIPTOR_SETS.
#include <unistd.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/runtime/service_main.h"
#include "common/testing/test_env.h"
#include "dangjian/echo/v1/echo.pb.h"
#include "embedded/src/suite.h"
#include "gateway/src/http_server.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/registry.h"
#include "tests/echo/src/module.h"
#include "tests/integration/suite_fixture.h"

namespace dj {
namespace {

namespace echopb = dangjian::echo::v1;

constexpr char kInternalSecret[] = "echo-internal-secret-0123456789abcdef";
constexpr char kAuditKey[] = "echo-audit-key-0123456789abcdef-0123";
constexpr char kJwtKeys[] = "echo1=echo-jwt-secret-0123456789abcdef-0123";

echopb::EchoReply ParseEcho(const std::string& json) {
  echopb::EchoReply reply;
  auto st = google::protobuf::util::JsonStringToMessage(json, &reply);
  EXPECT_TRUE(st.ok()) << st.ToString() << " in " << json;
  return reply;
}

// error.status and the first fieldViolations[].field of an AIP-193 error body.
std::pair<std::string, std::string> StatusAndField(const std::string& body) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(body, &s).ok()) << body;
  const auto& error = s.fields().at("error").struct_value().fields();
  std::string field;
  if (error.contains("details")) {
    for (const auto& d : error.at("details").list_value().values()) {
      const auto& f = d.struct_value().fields();
      if (f.contains("fieldViolations")) {
        field = f.at("fieldViolations")
                    .list_value()
                    .values(0)
                    .struct_value()
                    .fields()
                    .at("field")
                    .string_value();
      }
    }
  }
  return {error.at("status").string_value(), field};
}

// The registry's modules and the echo module: what a test adds to start a service of its own.
runtime::Modules WithEcho() {
  runtime::Modules modules = services::Modules();
  modules.push_back(&echo::kModule);
  return modules;
}

// Settings as dangjian assembles them: the process's, the gateway's, every module's own.
runtime::Config SuiteConfig(const runtime::Modules& modules) {
  std::vector<runtime::Setting> settings = runtime::ProcessSettings();
  runtime::Append(settings, gateway::HttpSettings("127.0.0.1:0", /*keys_required=*/false));
  runtime::Append(settings, runtime::BackendSettings(/*required=*/false));
  for (const runtime::ServiceModule* m : modules) {
    if (m->settings) {
      runtime::AppendNew(settings, m->settings());
    }
  }
  const std::map<std::string, std::string> env = {
      {"DJ_BOOTSTRAP_ADMIN_PASSWORD", testing::kAdminInitialPassword},
      {"DJ_INTERNAL_SECRET", kInternalSecret},
      {"DJ_JWT_KEYS", kJwtKeys}};
  const char* argv[] = {"echo_module_test"};
  auto config = runtime::Config::Load(settings, 1, argv, &env);
  EXPECT_TRUE(config.ok()) << config.status();
  return *std::move(config);
}

class EchoEmbedded : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/dj-echo-", getpid(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const runtime::Modules modules = WithEcho();
    config_ = std::make_unique<runtime::Config>(SuiteConfig(modules));
    options_ = gateway::GatewayOptionsFrom(*config_);
    auto extra = gateway::ReadDescriptorSets(DJ_ECHO_DESCRIPTOR_SET);
    ASSERT_TRUE(extra.ok()) << extra.status();
    options_.extra_descriptor_sets = *std::move(extra);
    auto suite = embedded::Suite::Start(*config_, modules,
                                        {.data_dir = dir_,
                                         .grpc_threads = 8,
                                         .internal_secret = kInternalSecret,
                                         .audit_key = kAuditKey,
                                         .jwt_keys = options_.jwt_keys});
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = *std::move(suite);
  }

  // A gateway over `channels` serving HTTP on a port of its own; returns the port.
  int Serve(std::map<std::string, std::shared_ptr<grpc::Channel>> channels) {
    auto gateway = gateway::Gateway::Create(std::move(channels), options_);
    EXPECT_TRUE(gateway.ok()) << gateway.status();
    if (!gateway.ok()) {
      return 0;
    }
    gateways_.push_back(*std::move(gateway));
    servers_.push_back(std::make_unique<gateway::HttpServer>(
        *gateways_.back(), gateway::HttpServerOptionsFrom(*config_)));
    auto port = servers_.back()->Start();
    EXPECT_TRUE(port.ok()) << port.status();
    return port.ok() ? *port : 0;
  }

  void TearDown() override {
    for (auto& server : servers_) {
      server->Shutdown(std::chrono::milliseconds(0));
    }
    servers_.clear();
    gateways_.clear();
    if (suite_) {
      suite_->Shutdown(std::chrono::milliseconds(0));
    }
    suite_.reset();
    std::filesystem::remove_all(dir_);
  }

  HttpResponse As(int port, const std::string& token, const std::string& method,
                  const std::string& target, const std::string& body = "",
                  std::map<std::string, std::string> headers = {}) {
    if (!token.empty()) {
      headers["Authorization"] = "Bearer " + token;
    }
    return testing::Http(port, method, target, body, headers);
  }

  std::string dir_;
  std::unique_ptr<runtime::Config> config_;
  gateway::GatewayOptions options_;
  std::unique_ptr<embedded::Suite> suite_;
  std::vector<std::unique_ptr<gateway::Gateway>> gateways_;
  std::vector<std::unique_ptr<gateway::HttpServer>> servers_;
};

TEST_F(EchoEmbedded, TheGatewayRoutesAServiceFromAnExtraDescriptorSet) {
  EXPECT_EQ(gateway::Gateway::BackendNames(options_),
            (std::vector<std::string>{"member", "org", "echo"}));
  EXPECT_EQ(gateway::Gateway::BackendNames(), (std::vector<std::string>{"member", "org"}));
  ASSERT_TRUE(suite_->Channels().contains("echo"));
  const int port = Serve(suite_->Channels());
  ASSERT_NE(port, 0);
  const std::string token =
      testing::SignIn(port, "admin", testing::kAdminInitialPassword, testing::kAdminPassword);
  ASSERT_FALSE(token.empty());

  // An org route, then the echo route calling org on the caller's behalf.
  HttpResponse created = As(port, token, "POST", "/v1/organizations",
                            R"({"displayName":"回声工委","kind":"WORK_COMMITTEE"})");
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string org = Field(created.body, "name");
  ASSERT_TRUE(absl::StartsWith(org, "organizations/")) << created.body;

  HttpResponse echoed = As(port, token, "POST", "/v1/echoes:echo",
                           absl::StrCat(R"({"message":"hello","organization":")", org, R"("})"),
                           {{"x-request-id", "echo-request-0001"}});
  ASSERT_EQ(echoed.status, 200) << echoed.body;
  EXPECT_EQ(echoed.headers["x-request-id"], "echo-request-0001");
  echopb::EchoReply reply = ParseEcho(echoed.body);
  EXPECT_EQ(reply.message(), "hello");
  EXPECT_TRUE(absl::StartsWith(reply.subject(), "accounts/")) << echoed.body;
  EXPECT_EQ(reply.request_id(), "echo-request-0001");
  EXPECT_EQ(reply.organization_display_name(), "回声工委");
  EXPECT_GT(reply.deadline_remaining_ms(), 0);
  EXPECT_LE(reply.deadline_remaining_ms(), options_.request_timeout.count());
  EXPECT_EQ(reply.echoes_recorded(), 1);

  // No organization named: the org service lists the roots the caller sees.
  echoed = As(port, token, "POST", "/v1/echoes:echo", R"({"message":"again"})");
  ASSERT_EQ(echoed.status, 200) << echoed.body;
  reply = ParseEcho(echoed.body);
  EXPECT_EQ(reply.organization_count(), 1);
  EXPECT_EQ(reply.echoes_recorded(), 2);
  EXPECT_FALSE(reply.request_id().empty());  // the gateway made one

  // The org service's answer passes through: an organization that does not exist.
  echoed = As(port, token, "POST", "/v1/echoes:echo",
              R"({"message":"hi","organization":"organizations/999999"})");
  EXPECT_EQ(echoed.status, 404) << echoed.body;

  // Bad fields, named: the service's own checks and the gateway's strict binding.
  echoed = As(port, token, "POST", "/v1/echoes:echo", R"({"message":""})");
  EXPECT_EQ(echoed.status, 400) << echoed.body;
  EXPECT_EQ(StatusAndField(echoed.body),
            (std::pair<std::string, std::string>{"INVALID_ARGUMENT", "message"}));
  echoed =
      As(port, token, "POST", "/v1/echoes:echo", R"({"message":"hi","organization":"units/1"})");
  EXPECT_EQ(echoed.status, 400) << echoed.body;
  EXPECT_EQ(StatusAndField(echoed.body).second, "organization");
  echoed = As(port, token, "POST", "/v1/echoes:echo", R"({"message":"hi","loudness":3})");
  EXPECT_EQ(echoed.status, 400) << echoed.body;
  EXPECT_EQ(StatusAndField(echoed.body).second, "loudness");

  // The gateway checked the token before the echo service saw anything.
  echoed = As(port, "", "POST", "/v1/echoes:echo", R"({"message":"hi"})");
  EXPECT_EQ(echoed.status, 401) << echoed.body;
}

TEST_F(EchoEmbedded, ItsRoutesAnswer503WhereItIsNotRunning) {
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels = suite_->Channels();
  channels.erase("echo");
  const int port = Serve(std::move(channels));
  ASSERT_NE(port, 0);
  const std::string token =
      testing::SignIn(port, "admin", testing::kAdminInitialPassword, testing::kAdminPassword);
  ASSERT_FALSE(token.empty());

  HttpResponse echoed = As(port, token, "POST", "/v1/echoes:echo", R"({"message":"hello"})");
  EXPECT_EQ(echoed.status, 503) << echoed.body;
  EXPECT_EQ(StatusAndField(echoed.body).first, "UNAVAILABLE") << echoed.body;
  EXPECT_TRUE(absl::StrContains(echoed.body, "the echo service is not running here"))
      << echoed.body;

  HttpResponse created = As(port, token, "POST", "/v1/organizations",
                            R"({"displayName":"无回声工委","kind":"WORK_COMMITTEE"})");
  EXPECT_EQ(created.status, 200) << created.body;
  HttpResponse listed = As(port, token, "GET", "/v1/organizations");
  EXPECT_EQ(listed.status, 200) << listed.body;
  EXPECT_TRUE(absl::StrContains(listed.body, "无回声工委")) << listed.body;
}

// dj-echo as a process of its own next to dj-org and dj-member, on MariaDB and Redis, behind
// dj-gateway given its descriptor set (DJ_DESCRIPTOR_SETS) and its address (DJ_ECHO_ADDR).
class EchoDistributed : public Topo {
 protected:
  void SetUp() override { Start(Topology::kDistributed); }

  // The fixture's own way to start a service of the registry, given one that is not in it.
  void BeforeGateway(std::map<std::string, std::string>& gateway_env) override {
    StartService({.name = "echo", .signs_tokens = false, .calls = {"org"}}, {});
    if (HasFatalFailure()) {
      return;
    }
    gateway_env["DJ_DESCRIPTOR_SETS"] = DJ_ECHO_DESCRIPTOR_SET;
    gateway_env["DJ_ECHO_ADDR"] = absl::StrCat("127.0.0.1:", FindService("echo")->grpc_port);
  }
};

TEST_F(EchoDistributed, DjGatewayRoutesDjEchoWhichCallsDjOrg) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "分布式回声工委");
  HttpResponse echoed =
      Http(http_port_, "POST", "/v1/echoes:echo",
           absl::StrCat(R"({"message":"hello","organization":")", root.name(), R"("})"),
           {{"x-request-id", "echo-request-0002"}});
  ASSERT_EQ(echoed.status, 200) << echoed.body;
  echopb::EchoReply reply = ParseEcho(echoed.body);
  EXPECT_EQ(reply.message(), "hello");
  EXPECT_TRUE(absl::StartsWith(reply.subject(), "accounts/")) << echoed.body;
  EXPECT_EQ(reply.request_id(), "echo-request-0002");
  EXPECT_EQ(reply.organization_display_name(), "分布式回声工委");
  EXPECT_GT(reply.deadline_remaining_ms(), 0);
  EXPECT_EQ(reply.echoes_recorded(), 1);

  echoed = Http(http_port_, "POST", "/v1/echoes:echo", R"({"message":""})");
  EXPECT_EQ(echoed.status, 400) << echoed.body;
  EXPECT_EQ(ViolationField(echoed.body), "message");

  // Ready means every backend answers its health check, dj-echo's included.
  EXPECT_EQ(Http(http_port_, "GET", "/readyz").status, 200);
}

}  // namespace
}  // namespace dj
