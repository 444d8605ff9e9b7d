// The last line of every gRPC handler: turn a domain result into the response and the wire
// status (through ToGrpcStatus, with the request id for the log).
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "common/rpc/channel.h"
#include "common/rpc/errors.h"
#include "grpcpp/server_context.h"

namespace dj::rpc {

template <typename T, typename Response>
grpc::Status Reply(const grpc::ServerContextBase& context, std::string_view domain,
                   absl::StatusOr<T> result, Response* response) {
  if (!result.ok()) {
    return ToGrpcStatus(result.status(), domain, RequestId(context));
  }
  *response = *std::move(result);
  return grpc::Status::OK;
}

inline grpc::Status Reply(const grpc::ServerContextBase& context, std::string_view domain,
                          const absl::Status& status) {
  return ToGrpcStatus(status, domain, RequestId(context));
}

// "displayName" -> "display_name": update masks arrive in either form.
std::string ToSnakeCase(std::string_view path);

}  // namespace dj::rpc
