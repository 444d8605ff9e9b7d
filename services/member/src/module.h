// The member service as a module of the suite (common/runtime/module.h): registered once in
// services/registry.cc; dj-member is ServiceMain over it, dangjian starts it in-process.
#pragma once

#include <memory>

#include "common/runtime/module.h"
#include "services/member/src/member_service.h"

namespace dj::member {

extern const runtime::ServiceModule kModule;

class MemberInstance final : public runtime::ServiceInstance {
 public:
  explicit MemberInstance(std::unique_ptr<MemberService> service) : service_(std::move(service)) {}

  std::vector<grpc::Service*> grpc_services() override {
    return {service_->auth_service(), service_->account_service()};
  }
  std::vector<runtime::Subscription> subscriptions() override;

  MemberService& service() { return *service_; }

 private:
  std::unique_ptr<MemberService> service_;
};

}  // namespace dj::member
