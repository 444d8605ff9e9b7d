// The first line of every gRPC handler that needs to know who is calling: the principal the
// gateway vouched for, or UNAUTHENTICATED recorded in the audit log as a security event (a call
// straight to a service port, a forged or stale principal), counted so that a flood of them
// costs a few rows per interval.
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
    // Counted per reason and address, not a row each (Recorder::Unauthenticated).
    recorder.Unauthenticated(context.peer(), rpc::RequestId(context), who.status());
    return rpc::Reply(context, domain, who.status());
  }
  who->deadline = context.deadline();
  return fn(*who);
}

}  // namespace dj::audit

// Defines `Class::Method`, a gRPC handler of a class that has `auth_` (auth::InternalAuth),
// `audit_` (Recorder) and `kErrorDomain` in reach: the caller the gateway vouched for, then
// `call` (an expression using `who` and `req`), answered through rpc::Reply. One line per method
// instead of the same seven.
#define DJ_GRPC_HANDLER(Class, Method, Request, Response, call)                                  \
  grpc::Status Class::Method(grpc::ServerContext* ctx, const Request* req, Response* resp) {     \
    return ::dj::audit::WithCaller(*ctx, auth_, audit_, kErrorDomain,                             \
                                   [&](const ::dj::auth::Principal& who) {                        \
                                     return ::dj::rpc::Reply(*ctx, kErrorDomain, call, resp);     \
                                   });                                                            \
  }
