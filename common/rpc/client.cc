#include "common/rpc/client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/rpc/channel.h"
#include "common/runtime/strings.h"

namespace dj::rpc {

ServiceClient::ServiceClient(std::string service, ChannelSource channel,
                             const auth::InternalAuth& auth, std::chrono::milliseconds timeout)
    : service_(std::move(service)), channel_(std::move(channel)), auth_(auth), timeout_(timeout) {}

std::unique_ptr<grpc::ClientContext> ServiceClient::Context(const auth::Principal& who) const {
  auto context = std::make_unique<grpc::ClientContext>();
  const auto own = std::chrono::system_clock::now() + timeout_;
  context->set_deadline(std::min(own, who.deadline));
  auth_.Attach(*context, who);  // the principal's token and request id
  return context;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ServiceClient::Channel() const {
  std::shared_ptr<grpc::Channel> channel = channel_ ? channel_() : nullptr;
  if (channel == nullptr) {
    return absl::UnavailableError(absl::StrCat("the ", AV(service_), " service is not running"));
  }
  return channel;
}

}  // namespace dj::rpc
