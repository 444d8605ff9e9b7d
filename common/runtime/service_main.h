// Start-up and shutdown for every service process, written once: a service's main.cc loads its
// settings with Init(), builds its handlers, and hands them to Serve().
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/runtime/config.h"
#include "grpcpp/server.h"
#include "grpcpp/impl/codegen/service_type.h"

namespace dj::runtime {

// Settings every process has: log-level, shutdown-grace-seconds.
std::vector<Setting> ProcessSettings();

// Settings every service has: the process settings and grpc-listen, metrics-listen,
// grpc-threads. A service appends its own.
std::vector<Setting> ServiceSettings();
// grpc-threads, the bound on threads serving calls (GrpcServerOptions::max_threads by default):
// one setting for dj-<svc> and dangjian.
Setting GrpcThreadsSetting();

// Blocks SIGTERM/SIGINT (so Serve can wait for them), loads settings (exiting with one line on
// a bad one) and starts JSON logging as `service`.
Config Init(std::string_view service, std::vector<Setting> settings, int argc,
            const char* const* argv);

struct GrpcServerOptions {
  std::string listen = "127.0.0.1:0";  // port 0: any free port; empty: in-process channels only
  int max_threads = 64;                // the bounded pool handling calls
};

struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;  // the port actually bound
};

// Builds and starts a gRPC server with the standard interceptors, health service (SERVING),
// reflection and keepalive. Used by Serve and by tests (in-process server on port 0).
absl::StatusOr<RunningServer> StartGrpcServer(const GrpcServerOptions& options,
                                              std::span<grpc::Service* const> services);

// Serves `services` on grpc-listen and /metrics on metrics-listen until SIGTERM or SIGINT,
// then marks health NOT_SERVING and shuts down within shutdown-grace-seconds. Returns the
// process exit code.
int Serve(std::string_view service, const Config& config,
          std::span<grpc::Service* const> services);

// Blocks until SIGTERM or SIGINT (blocked by Init) arrives.
void WaitForShutdownSignal();

// Exits the process with one line on stderr: "<service>: <what>: <status message>".
[[noreturn]] void ExitOnError(std::string_view service, std::string_view what,
                              const absl::Status& status);

}  // namespace dj::runtime
