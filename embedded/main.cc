// dangjian: every service and the gateway in one process, on SQLite files in a data directory.
#include "common/runtime/backends.h"
#include "common/metrics/metrics.h"
#include "common/runtime/log.h"
#include "common/runtime/service_main.h"
#include "embedded/src/data_dir.h"
#include "embedded/src/demo.h"
#include "embedded/src/suite.h"
#include "gateway/src/http_server.h"

int main(int argc, char** argv) {
  std::vector<dj::runtime::Setting> settings = dj::runtime::ProcessSettings();
  dj::runtime::Append(settings, dj::gateway::HttpSettings("127.0.0.1:8080"));
  dj::runtime::Append(settings, dj::runtime::BackendSettings(/*required=*/false));
  settings.push_back({"data-dir", "./var/dangjian", false,
                      "directory holding one SQLite file per service"});
  settings.push_back({"metrics-listen", "", false,
                      "host:port for a separate GET /metrics (it is also on the HTTP port)",
                      dj::runtime::ValidateHostPort});
  settings.push_back({"grpc-listen", "", false,
                      "host:port to also serve gRPC on (in-process only if empty)",
                      dj::runtime::ValidateHostPort});
  settings.push_back({"grpc-threads", "16", false, "most threads handling calls at once",
                      dj::runtime::ValidatePositiveInt});
  settings.push_back({"demo", "false", false, "load the demo city on first start", nullptr,
                      /*boolean=*/true});
  const auto config = dj::runtime::Init("dangjian", settings, argc, argv);

  auto data_dir = dj::embedded::DataDir::Open(config.Get("data-dir"));
  if (!data_dir.ok()) {
    dj::runtime::ExitOnError("dangjian", "DJ_DATA_DIR", data_dir.status());
  }
  auto suite = dj::embedded::Suite::Start(
      {.data_dir = data_dir->path(),
       .mysql_url = config.Get("mysql-url"),
       .redis_url = config.Get("redis-url"),
       .grpc_listen = config.Get("grpc-listen"),
       .grpc_threads = static_cast<int>(config.GetInt("grpc-threads")),
       .cache_ttl = std::chrono::seconds(config.GetInt("cache-ttl-seconds"))});
  if (!suite.ok()) {
    dj::runtime::ExitOnError("dangjian", "start", suite.status());
  }
  if (config.GetBool("demo")) {
    auto demo = dj::embedded::LoadDemoCity((*suite)->org());
    if (!demo.ok()) {
      dj::runtime::ExitOnError("dangjian", "--demo", demo.status());
    }
    dj::log::Info(demo->loaded ? "demo city loaded" : "data present; demo not loaded again",
                  {{"organizations", std::to_string(demo->organizations)}});
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  if (config.Has("metrics-listen")) {
    auto e = dj::metrics::StartExposer(config.Get("metrics-listen"));
    if (!e.ok()) {
      dj::runtime::ExitOnError("dangjian", "DJ_METRICS_LISTEN", e.status());
    }
    exposer = *std::move(e);
  }
  auto gateway =
      dj::gateway::Gateway::Create((*suite)->Channels(), dj::gateway::GatewayOptionsFrom(config));
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
  (*suite)->Shutdown(grace);
  dj::log::Info("stopped");
  return 0;
}
