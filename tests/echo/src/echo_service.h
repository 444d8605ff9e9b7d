// The echo service's one gRPC service: what the call carried (caller, request id, deadline), one
// call to the org service on the caller's behalf, and a row in its own table.
#pragma once

#include "common/auth/principal.h"
#include "common/db/pool.h"
#include "common/rpc/client.h"
#include "dangjian/echo/v1/echo.grpc.pb.h"

namespace dj::echo {

class EchoService final : public dangjian::echo::v1::EchoService::Service {
 public:
  EchoService(db::Pool& pool, const auth::InternalAuth& auth, const rpc::ServiceClient& org)
      : pool_(pool), auth_(auth), org_(org) {}

  grpc::Status Echo(grpc::ServerContext* context, const dangjian::echo::v1::EchoRequest* request,
                    dangjian::echo::v1::EchoReply* response) override;

  absl::StatusOr<dangjian::echo::v1::EchoReply> Echo(
      const auth::Principal& who, const dangjian::echo::v1::EchoRequest& request);

 private:
  db::Pool& pool_;
  const auth::InternalAuth& auth_;
  const rpc::ServiceClient& org_;
};

}  // namespace dj::echo
