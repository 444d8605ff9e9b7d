// The first line of every gRPC handler that needs to know who is calling: the principal the
// gateway vouched for, or UNAUTHENTICATED recorded in the audit log as a security event (a call
// straight to a service port, a forged or stale principal).
#pragma once

#include <string>
#include <string_view>

#include "common/audit/recorder.h"
#include "common/auth/principal.h"
#include "common/rpc/handler.h"

namespace dj::audit {

template <typename Fn>
grpc::Status WithCaller(const grpc::ServerContextBase& context, const auth::InternalAuth& auth,
                        Recorder& recorder, std::string_view domain, Fn&& fn) {
  auto who = auth.Caller(context);
  if (!who.ok()) {
    auth::Principal unknown;
    unknown.client_ip = context.peer();
    unknown.request_id = rpc::RequestId(context);
    recorder.Refuse(Recorder::For(unknown, "rpc.authenticate", "", "/"), who.status());
    return rpc::Reply(context, domain, who.status());
  }
  who->deadline = context.deadline();
  return fn(*who);
}

}  // namespace dj::audit
