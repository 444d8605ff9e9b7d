// Server interceptors every service installs: Prometheus metrics
// (grpc_server_started_total, grpc_server_handled_total, grpc_server_handling_seconds) and one
// JSON access-log line per call with the request id.
#pragma once

#include <memory>
#include <vector>

#include "grpcpp/support/server_interceptor.h"

namespace dj::rpc {

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
StandardServerInterceptors();

}  // namespace dj::rpc
