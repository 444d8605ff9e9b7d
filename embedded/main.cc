// dangjian: every service and the gateway in one process, on SQLite files in a data directory.
#include "common/db/url.h"
#include "common/metrics/metrics.h"
#include "common/runtime/log.h"
#include "common/runtime/service_main.h"
#include "embedded/src/data_dir.h"
#include "embedded/src/demo.h"
#include "embedded/src/suite.h"
#include "gateway/src/http_server.h"

int main(int argc, char** argv) {
  using dj::runtime::Setting;
  const std::vector<Setting> settings = {
      {"data-dir", "./var/dangjian", false, "directory holding one SQLite file per service"},
      {"http-listen", "127.0.0.1:8080", false, "host:port for the HTTP/JSON API",
       dj::runtime::ValidateHostPort},
      {"metrics-listen", "", false,
       "host:port for a separate GET /metrics (it is also on the HTTP port)",
       dj::runtime::ValidateHostPort},
      {"grpc-listen", "", false, "host:port to also serve gRPC on (in-process only if empty)",
       dj::runtime::ValidateHostPort},
      {"demo", "false", false, "load the demo city on first start", nullptr, true},
      {"mysql-url", "", false, "use MySQL instead of SQLite: mysql://user:pass@host:port/db",
       dj::db::ValidateMySqlUrl},
      {"redis-url", "", false, "use Redis instead of the in-process cache: redis://host:port/n",
       dj::db::ValidateRedisUrl},
      {"http-threads", "2", false, "threads serving HTTP", dj::runtime::ValidatePositiveInt},
      {"grpc-threads", "16", false, "most threads handling calls at once",
       dj::runtime::ValidatePositiveInt},
      {"cache-ttl-seconds", "300", false, "how long a cached entry lives",
       dj::runtime::ValidatePositiveInt},
      {"shutdown-grace-seconds", "10", false, "how long in-flight requests get on SIGTERM",
       dj::runtime::ValidatePositiveInt},
      {"log-level", "info", false, "trace, debug, info, warn or error",
       dj::runtime::ValidateLogLevel},
  };
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
  auto gateway = dj::gateway::Gateway::Create((*suite)->Channels(), {});
  if (!gateway.ok()) {
    dj::runtime::ExitOnError("dangjian", "routes", gateway.status());
  }
  dj::gateway::HttpServer http(
      **gateway, {.listen = config.Get("http-listen"),
                  .threads = static_cast<int>(config.GetInt("http-threads"))});
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
