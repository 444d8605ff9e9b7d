// dj-gateway: the HTTP/JSON front door to every backend service.
#include <cstdlib>
#include <string_view>

#include "common/cache/cache.h"
#include "common/db/url.h"
#include "common/metrics/metrics.h"
#include "common/rpc/channel.h"
#include "common/runtime/log.h"
#include "common/runtime/service_main.h"
#include "gateway/src/http_server.h"
#include "services/registry.h"

namespace {

// descriptor-sets from --descriptor-sets or DJ_DESCRIPTOR_SETS, read before the settings are
// loaded: the services it adds each need an address setting of their own.
std::string DescriptorSetsArgument(int argc, char** argv) {
  constexpr std::string_view kFlag = "--descriptor-sets";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == kFlag && i + 1 < argc) {
      return argv[i + 1];
    }
    if (arg.starts_with(kFlag) && arg.size() > kFlag.size() && arg[kFlag.size()] == '=') {
      return std::string(arg.substr(kFlag.size() + 1));
    }
  }
  const char* env = std::getenv("DJ_DESCRIPTOR_SETS");
  return env != nullptr ? env : "";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<dj::runtime::Setting> settings = dj::runtime::ProcessSettings();
  dj::runtime::Append(settings, dj::gateway::HttpSettings("0.0.0.0:8080", /*keys_required=*/true));
  settings.push_back({"redis-url", "", false,
                      "rate-limit counters shared by every gateway replica, redis://host:port/n "
                      "(in-process, per replica, if unset)",
                      dj::db::ValidateRedisUrl});
  settings.push_back({"metrics-listen", "0.0.0.0:9464", false,
                      "host:port serving GET /metrics (for the ops role's Prometheus; never the "
                      "API port)",
                      dj::runtime::ValidateHostPort});
  settings.push_back({"descriptor-sets", "", false,
                      "comma-separated descriptor-set files (protoc --include_imports "
                      "--descriptor_set_out) of more services to route, each with an optional "
                      "<svc>-addr; read from the flag or the environment, not --config"});
  const std::string descriptor_sets = DescriptorSetsArgument(argc, argv);
  auto extra = dj::gateway::ReadDescriptorSets(descriptor_sets);
  if (!extra.ok()) {
    dj::runtime::ExitOnError("dj-gateway", "DJ_DESCRIPTOR_SETS", extra.status());
  }
  dj::gateway::GatewayOptions routing;
  routing.extra_descriptor_sets = *std::move(extra);
  const std::vector<std::string> backends = dj::gateway::Gateway::BackendNames(routing);
  // One address setting per backend the descriptors know: org-addr (DJ_ORG_ADDR), ... Required
  // for the services of the registry; a proto whose service is not registered (yet), or one
  // from descriptor-sets, is served as 503 UNAVAILABLE unless an address is given.
  for (const std::string& backend : backends) {
    dj::runtime::Setting address = dj::runtime::AddressSetting(backend);
    address.required = dj::runtime::Find(dj::services::Modules(), backend) != nullptr;
    settings.push_back(std::move(address));
  }
  const auto config = dj::runtime::Init("dj-gateway", settings, argc, argv);
  if (config.Get("descriptor-sets") != descriptor_sets) {
    dj::runtime::ExitOnError(
        "dj-gateway", "DJ_DESCRIPTOR_SETS",
        absl::InvalidArgumentError("give it as a flag or in the environment, not in --config"));
  }

  auto exposer = dj::metrics::StartExposer(config.Get("metrics-listen"));
  if (!exposer.ok()) {
    dj::runtime::ExitOnError("dj-gateway", "DJ_METRICS_LISTEN", exposer.status());
  }
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  for (const std::string& backend : backends) {
    if (config.Has(backend + "-addr")) {
      channels[backend] = dj::rpc::MakeChannel(config.Get(backend + "-addr"));
    }
  }
  auto counters = dj::cache::NewCache(config.Get("redis-url"));
  if (!counters.ok()) {
    dj::runtime::ExitOnError("dj-gateway", "DJ_REDIS_URL", counters.status());
  }
  auto options = dj::gateway::GatewayOptionsFrom(config);
  options.limits.counters = counters->get();
  options.extra_descriptor_sets = std::move(routing.extra_descriptor_sets);
  auto gateway = dj::gateway::Gateway::Create(std::move(channels), options);
  if (!gateway.ok()) {
    dj::runtime::ExitOnError("dj-gateway", "routes", gateway.status());
  }
  dj::gateway::HttpServer server(**gateway, dj::gateway::HttpServerOptionsFrom(config));
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
