// dangjian: every service and the gateway in one process, on SQLite files in a data directory.
#include "common/cache/cache.h"
#include "common/crypto/crypto.h"
#include "common/db/url.h"
#include "common/runtime/backends.h"
#include "common/metrics/metrics.h"
#include "common/runtime/log.h"
#include "common/runtime/service_main.h"
#include "embedded/src/data_dir.h"
#include "embedded/src/demo.h"
#include "embedded/src/demo_members.h"
#include "embedded/src/suite.h"
#include "gateway/src/http_server.h"
#include "services/org/src/module.h"
#include "services/registry.h"

namespace {

// The process's, the gateway's and every service's settings, and the embedded topology's own.
std::vector<dj::runtime::Setting> Settings() {
  std::vector<dj::runtime::Setting> settings = dj::runtime::ProcessSettings();
  dj::runtime::Append(settings,
                      dj::gateway::HttpSettings("127.0.0.1:8080", /*keys_required=*/false));
  // Every service's own settings (the password policy, ...), as dj-<svc> has them.
  for (const dj::runtime::ServiceModule* m : dj::services::Modules()) {
    if (m->settings) {
      dj::runtime::AppendNew(settings, m->settings());
    }
  }
  settings.push_back({"audit-key", "", false,
                      "HMAC-SM3 key of the audit chain (made and kept in <data-dir>/keys if "
                      "unset)",
                      dj::runtime::ValidateSecret});
  dj::runtime::Append(settings, dj::runtime::BackendSettings(/*required=*/false));
  settings.push_back({"data-dir", "./var/dangjian", false,
                      "directory holding one SQLite file per service"});
  settings.push_back({"metrics-listen", "127.0.0.1:9464", false,
                      "host:port serving GET /metrics (loopback by default: metrics are for the "
                      "ops role, never on the API port)",
                      dj::runtime::ValidateHostPort});
  settings.push_back({"grpc-listen", "", false,
                      "host:port to also serve gRPC on (in-process only if empty)",
                      dj::runtime::ValidateHostPort});
  settings.push_back(dj::runtime::GrpcThreadsSetting());
  settings.push_back({"demo", "false", false, "load the demo city on first start", nullptr,
                      /*boolean=*/true});
  return settings;
}

// A key from the data directory (made there on first start), or exit.
std::string KeptKey(dj::embedded::DataDir& data_dir, const std::string& name) {
  auto key = data_dir.Key(name);
  if (!key.ok()) {
    dj::runtime::ExitOnError("dangjian", "DJ_DATA_DIR", key.status());
  }
  return *std::move(key);
}

void LoadDemo(dj::embedded::Suite& suite) {
  auto* org = dynamic_cast<dj::org::OrgInstance*>(suite.Instance("org"));
  auto demo = org ? dj::embedded::LoadDemoCity(org->server())
                  : absl::StatusOr<dj::embedded::DemoSummary>(absl::FailedPreconditionError(
                        "the org service is not part of this build"));
  if (!demo.ok()) {
    dj::runtime::ExitOnError("dangjian", "--demo", demo.status());
  }
  dj::log::Info(demo->loaded ? "demo city loaded" : "data present; demo not loaded again",
                {{"organizations", std::to_string(demo->organizations)},
                 {"units", std::to_string(demo->units)},
                 {"communities", std::to_string(demo->communities)},
                 {"pairings", std::to_string(demo->pairings)},
                 {"stations", std::to_string(demo->stations)},
                 {"terms", std::to_string(demo->terms)}});
  auto* member = dynamic_cast<dj::member::MemberInstance*>(suite.Instance("member"));
  if (org == nullptr || member == nullptr) {
    return;
  }
  auto members = dj::embedded::LoadDemoMembers(org->server(), *member);
  if (!members.ok()) {
    dj::runtime::ExitOnError("dangjian", "--demo", members.status());
  }
  dj::log::Info("demo members", {{"registered", std::to_string(members->members)},
                                 {"transfers", std::to_string(members->transfers)},
                                 {"dues_payments", std::to_string(members->dues_payments)}});
}

}  // namespace

int main(int argc, char** argv) {
  const auto config = dj::runtime::Init("dangjian", Settings(), argc, argv);
  auto data_dir = dj::embedded::DataDir::Open(config.Get("data-dir"));
  if (!data_dir.ok()) {
    dj::runtime::ExitOnError("dangjian", "DJ_DATA_DIR", data_dir.status());
  }
  auto exposer = dj::metrics::StartExposer(config.Get("metrics-listen"));
  if (!exposer.ok()) {
    dj::runtime::ExitOnError("dangjian", "DJ_METRICS_LISTEN", exposer.status());
  }
  // Keys not given are made once and kept in the data directory; the internal secret never
  // leaves the process, so a fresh one each start is enough.
  auto gateway_options = dj::gateway::GatewayOptionsFrom(config);
  std::string audit_key = config.Get("audit-key");
  if (audit_key.empty()) {
    audit_key = KeptKey(*data_dir, "audit");
  }
  if (gateway_options.jwt_keys.empty()) {
    gateway_options.jwt_keys = {{"local", KeptKey(*data_dir, "jwt")}};
  }
  if (gateway_options.internal_secret.empty()) {
    gateway_options.internal_secret =
        dj::crypto::Base64UrlEncode(dj::crypto::RandomBytes(32));
  }
  auto suite = dj::embedded::Suite::Start(
      config, dj::services::Modules(),
      {.data_dir = data_dir->path(),
       .mysql_url = config.Get("mysql-url"),
       .redis_url = config.Get("redis-url"),
       .grpc_listen = config.Get("grpc-listen"),
       .grpc_threads = static_cast<int>(config.GetInt("grpc-threads")),
       .internal_secret = gateway_options.internal_secret,
       .audit_key = audit_key,
       .jwt_keys = gateway_options.jwt_keys});
  if (!suite.ok()) {
    dj::runtime::ExitOnError("dangjian", "start", suite.status());
  }
  if (config.GetBool("demo")) {
    LoadDemo(**suite);
  }
  // Rate-limit counters: Redis when given, else in-process.
  auto counters = dj::cache::NewCache(config.Get("redis-url"));
  if (!counters.ok()) {
    dj::runtime::ExitOnError("dangjian", "DJ_REDIS_URL", counters.status());
  }
  gateway_options.limits.counters = counters->get();
  auto gateway = dj::gateway::Gateway::Create((*suite)->Channels(), gateway_options);
  if (!gateway.ok()) {
    dj::runtime::ExitOnError("dangjian", "routes", gateway.status());
  }
  dj::gateway::HttpServer http(**gateway, dj::gateway::HttpServerOptionsFrom(config));
  auto port = http.Start();
  if (!port.ok()) {
    dj::runtime::ExitOnError("dangjian", "DJ_HTTP_LISTEN", port.status());
  }
  dj::log::Info("serving", {{"url", "http://" + config.Get("http-listen")},
                            {"data_dir", data_dir->path()}});
  dj::runtime::WaitForShutdownSignal();
  const auto grace = std::chrono::seconds(config.GetInt("shutdown-grace-seconds"));
  http.Shutdown(grace);
  // Nothing may call into the services once their in-process server is shut down.
  (*gateway)->StopBackgroundWork();
  (*suite)->Shutdown(grace);
  dj::log::Info("stopped");
  return 0;
}
