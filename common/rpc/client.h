// A call from one service of the suite to another, written once: the same client works over an
// in-process channel (dangjian) and over the network (dj-<svc>). Every call carries the caller's
// principal (vouched for with the internal secret, as the gateway does), the caller's request id,
// and a deadline no later than the caller's own.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/principal.h"
#include "common/rpc/errors.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace dj::rpc {

class ServiceClient final {
 public:
  // Where the channel comes from when a call is made: a network channel made once, or the
  // in-process server's channel (which exists only once that server has started).
  using ChannelSource = std::function<std::shared_ptr<grpc::Channel>()>;

  static constexpr std::chrono::milliseconds kDefaultTimeout{5000};

  ServiceClient(std::string service, ChannelSource channel, const auth::InternalAuth& auth,
                std::chrono::milliseconds timeout = kDefaultTimeout);

  // "org".
  const std::string& service() const { return service_; }

  // A context for one call made on behalf of `who`: the earlier of who's deadline (the one the
  // caller's call arrived with) and now + timeout; who's request id; who vouched for.
  std::unique_ptr<grpc::ClientContext> Context(const auth::Principal& who) const;

  // The channel; UNAVAILABLE ("the org service is not running") when there is none yet.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel() const;

  // One unary call, `&OrganizationService::Stub::GetOrganization`, on a stub over the channel,
  // its status mapped back to an absl::Status with its details (FromGrpcStatus).
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(
      const auth::Principal& who,
      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
      const Request& request) const {
    auto channel = Channel();
    if (!channel.ok()) {
      return channel.status();
    }
    Stub stub(*std::move(channel));
    auto context = Context(who);
    Response response;
    grpc::Status s = (stub.*method)(context.get(), request, &response);
    if (!s.ok()) {
      return FromGrpcStatus(s);
    }
    return response;
  }

 private:
  std::string service_;
  ChannelSource channel_;
  const auth::InternalAuth& auth_;
  std::chrono::milliseconds timeout_;
};

}  // namespace dj::rpc
