// gRPC plumbing shared by clients and servers: keepalive values (set once, here), channels to
// downstream services, and client contexts that always carry a deadline.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"

namespace dj::rpc {

// Metadata key carrying the request id end to end (the gateway sets it from x-request-id).
inline constexpr std::string_view kRequestIdKey = "x-request-id";

// Keepalive and message-size settings for servers.
void ApplyServerChannelArgs(grpc::ServerBuilder& builder);

// A channel to `address` (host:port) with the shared keepalive settings. Made once at start-up
// per downstream and reused.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

// A fresh context with `timeout` from now, carrying `request_id` when given.
std::unique_ptr<grpc::ClientContext> NewClientContext(std::chrono::milliseconds timeout,
                                                      std::string_view request_id = {});
// A fresh context for a downstream call made while serving `incoming`: its deadline is the
// earlier of the incoming deadline and now + `timeout`, and it forwards the request id.
std::unique_ptr<grpc::ClientContext> NewClientContext(const grpc::ServerContext& incoming,
                                                      std::chrono::milliseconds timeout);

// The request id sent by the caller, or "" when none.
std::string RequestId(const grpc::ServerContextBase& context);

}  // namespace dj::rpc
