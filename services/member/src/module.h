// The member service as a module of the suite (common/runtime/module.h): registered once in
// services/registry.cc; dj-member is ServiceMain over it, dangjian starts it in-process.
#pragma once

#include <memory>

#include "common/runtime/module.h"
#include "services/member/src/dues_service.h"
#include "services/member/src/member_records.h"
#include "services/member/src/member_service.h"
#include "services/member/src/transfer_service.h"

namespace dj::member {

extern const runtime::ServiceModule kModule;

class MemberInstance final : public runtime::ServiceInstance {
 public:
  MemberInstance(std::unique_ptr<MemberService> service, std::unique_ptr<crypto::PiiVault> vault,
                 std::unique_ptr<MemberRecords> records, std::unique_ptr<TransferService> transfers,
                 std::unique_ptr<DuesService> dues)
      : service_(std::move(service)),
        vault_(std::move(vault)),
        records_(std::move(records)),
        transfers_(std::move(transfers)),
        dues_(std::move(dues)) {}

  std::vector<grpc::Service*> grpc_services() override {
    return {service_->auth_service(), service_->account_service(), records_.get(), transfers_.get(),
            dues_.get()};
  }
  std::vector<runtime::Subscription> subscriptions() override;

  MemberService& service() { return *service_; }
  MemberRecords& records() { return *records_; }
  TransferService& transfers() { return *transfers_; }
  DuesService& dues() { return *dues_; }

 private:
  std::unique_ptr<MemberService> service_;
  std::unique_ptr<crypto::PiiVault> vault_;  // used by records_
  std::unique_ptr<MemberRecords> records_;   // owns the member rule book the others read
  std::unique_ptr<TransferService> transfers_;
  std::unique_ptr<DuesService> dues_;
};

}  // namespace dj::member
