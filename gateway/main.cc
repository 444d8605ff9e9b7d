// dj-gateway: the HTTP/JSON front door to every backend service.
#include <signal.h>

#include "common/rpc/channel.h"
#include "common/runtime/log.h"
#include "common/runtime/service_main.h"
#include "gateway/src/http_server.h"

int main(int argc, char** argv) {
  std::vector<dj::runtime::Setting> settings = {
      {"http-listen", "0.0.0.0:8080", false, "host:port for HTTP", dj::runtime::ValidateHostPort},
      {"http-threads", "2", false, "threads serving HTTP", dj::runtime::ValidatePositiveInt},
      {"request-timeout-ms", "10000", false, "deadline of each backend call",
       dj::runtime::ValidatePositiveInt},
      {"max-body-bytes", "1048576", false, "largest request body accepted",
       dj::runtime::ValidatePositiveInt},
      {"shutdown-grace-seconds", "10", false, "how long in-flight requests get on SIGTERM",
       dj::runtime::ValidatePositiveInt},
      {"log-level", "info", false, "trace, debug, info, warn or error",
       dj::runtime::ValidateLogLevel},
  };
  // One address setting per backend the descriptors know: org-addr (DJ_ORG_ADDR), ...
  for (const std::string& backend : dj::gateway::Gateway::BackendNames()) {
    settings.push_back({backend + "-addr", "", true,
                        "host:port of the " + backend + " service's gRPC",
                        dj::runtime::ValidateHostPort});
  }
  const auto config = dj::runtime::Init("dj-gateway", settings, argc, argv);

  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  for (const std::string& backend : dj::gateway::Gateway::BackendNames()) {
    channels[backend] = dj::rpc::MakeChannel(config.Get(backend + "-addr"));
  }
  auto gateway = dj::gateway::Gateway::Create(
      std::move(channels),
      {.request_timeout = std::chrono::milliseconds(config.GetInt("request-timeout-ms"))});
  if (!gateway.ok()) {
    dj::runtime::ExitOnError("dj-gateway", "routes", gateway.status());
  }
  dj::gateway::HttpServer server(
      **gateway, {.listen = config.Get("http-listen"),
                  .threads = static_cast<int>(config.GetInt("http-threads")),
                  .max_body_bytes = static_cast<size_t>(config.GetInt("max-body-bytes"))});
  auto port = server.Start();
  if (!port.ok()) {
    dj::runtime::ExitOnError("dj-gateway", "DJ_HTTP_LISTEN", port.status());
  }
  dj::log::Info("serving", {{"http_port", std::to_string(*port)},
                            {"routes", std::to_string((*gateway)->routes().size())}});
  dj::runtime::WaitForShutdownSignal();
  server.Shutdown(std::chrono::seconds(config.GetInt("shutdown-grace-seconds")));
  dj::log::Info("stopped");
  return 0;
}
