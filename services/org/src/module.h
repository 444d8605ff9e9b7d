// The org service as a module of the suite (common/runtime/module.h): registered once in
// services/registry.cc; dj-org is ServiceMain over it, dangjian starts it in-process.
#pragma once

#include "common/runtime/module.h"
#include "services/org/src/org_server.h"

namespace dj::org {

extern const runtime::ServiceModule kModule;

class OrgInstance final : public runtime::ServiceInstance {
 public:
  explicit OrgInstance(runtime::ServiceContext& context);

  std::vector<grpc::Service*> grpc_services() override { return server_.services(); }
  std::vector<runtime::Subscription> subscriptions() override;

  OrgServer& server() { return server_; }  // the demo loader writes through it

 private:
  OrgServer server_;
};

}  // namespace dj::org
