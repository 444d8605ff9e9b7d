// Server bootstrap: interceptors, health, reflection, keepalive, thread bound, signals.
#include "common/runtime/service_main.h"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/metrics.h"
#include "common/rpc/channel.h"
#include "common/rpc/interceptors.h"
#include "common/runtime/log.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace dj::runtime {
namespace {

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

std::vector<Setting> ProcessSettings() {
  return {
      {"log-level", "info", false, "trace, debug, info, warn or error", ValidateLogLevel},
      {"shutdown-grace-seconds", "10", false, "how long in-flight requests get on SIGTERM",
       ValidatePositiveInt},
  };
}

Setting GrpcThreadsSetting() {
  return {"grpc-threads", absl::StrCat(GrpcServerOptions{}.max_threads), false,
          "most threads handling calls at once (a call beyond them is refused with "
          "RESOURCE_EXHAUSTED)",
          ValidatePositiveInt};
}

std::vector<Setting> ServiceSettings() {
  std::vector<Setting> settings = ProcessSettings();
  settings.push_back({"grpc-listen", "0.0.0.0:9090", false, "host:port for gRPC",
                      ValidateHostPort});
  settings.push_back({"metrics-listen", "0.0.0.0:9464", false, "host:port serving GET /metrics",
                      ValidateHostPort});
  settings.push_back(GrpcThreadsSetting());
  settings.push_back({"internal-secret", "", true,
                      "secret shared with the gateway, which vouches for callers with it "
                      "(at least 32 characters)",
                      ValidateSecret});
  settings.push_back({"audit-key", "", true,
                      "HMAC-SM3 key chaining the audit log (at least 32 characters; keep it "
                      "across restarts)",
                      ValidateSecret});
  return settings;
}

Config Init(std::string_view service, std::vector<Setting> settings, int argc,
            const char* const* argv) {
  // Block before any thread starts so every thread inherits the mask and Serve's sigwait is
  // the only receiver.
  sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Debian builds Abseil without NDEBUG, so every absl::Mutex (gRPC's locks are absl::Mutex)
  // fed a global lock-order graph behind one spin lock: a few % of the CPU per request in the
  // bench profile (GraphCycles). Lock-order checking is for debug builds and TSan, not a server.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Config config = Config::LoadOrExit(service, settings, argc, argv);
  log::Init(service, config.Get("log-level").empty() ? "info" : config.Get("log-level"));
  return config;
}

void ExitOnError(std::string_view service, std::string_view what, const absl::Status& status) {
  std::cerr << service << ": " << what << ": " << status.message() << std::endl;
  std::exit(1);
}

absl::StatusOr<RunningServer> StartGrpcServer(const GrpcServerOptions& options,
                                              std::span<grpc::Service* const> services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  RunningServer running;
  if (!options.listen.empty()) {
    builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &running.port);
  }
  rpc::ApplyServerChannelArgs(builder);
  grpc::ResourceQuota quota("dj-server");
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  // A thread that has served a call goes back to polling rather than exiting: with gRPC's default
  // of at most 2 pollers, every call beyond two at once made a thread and ended one (the
  // profile in bench/README.md counted ~1,000 threads born in 4 s of the benchmark).
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              options.max_threads);
  builder.experimental().SetInterceptorCreators(rpc::StandardServerInterceptors());
  for (grpc::Service* s : services) {
    builder.RegisterService(s);
  }
  running.server = builder.BuildAndStart();
  if (running.server == nullptr || (!options.listen.empty() && running.port == 0)) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", options.listen));
  }
  running.server->GetHealthCheckService()->SetServingStatus(true);
  return running;
}

void WaitForShutdownSignal() {
  sigset_t set = ShutdownSignals();
  int sig = 0;
  sigwait(&set, &sig);
  log::Info("shutting down", {{"signal", absl::StrCat(sig)}});
}

int Serve(std::string_view service, const Config& config,
          std::span<grpc::Service* const> services) {
  auto exposer = metrics::StartExposer(config.Get("metrics-listen"));
  if (!exposer.ok()) {
    ExitOnError(service, "DJ_METRICS_LISTEN", exposer.status());
  }
  auto running = StartGrpcServer(
      {config.Get("grpc-listen"), static_cast<int>(config.GetInt("grpc-threads"))}, services);
  if (!running.ok()) {
    ExitOnError(service, "DJ_GRPC_LISTEN", running.status());
  }
  log::Info("serving", {{"grpc_port", absl::StrCat(running->port)},
                        {"metrics_listen", config.Get("metrics-listen")}});

  WaitForShutdownSignal();
  running->server->GetHealthCheckService()->SetServingStatus(false);
  const auto grace = std::chrono::seconds(config.GetInt("shutdown-grace-seconds"));
  running->server->Shutdown(std::chrono::system_clock::now() + grace);
  running->server->Wait();
  log::Info("stopped");
  return 0;
}

}  // namespace dj::runtime
