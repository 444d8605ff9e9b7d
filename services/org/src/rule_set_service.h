// gRPC handlers of dangjian.org.v1.RuleSetService: the structure rules in force, their versions,
// and adding a version (committee admins over the whole tree; audited with its write).
#pragma once

#include <string>

#include "common/audit/recorder.h"
#include "common/auth/principal.h"
#include "dangjian/org/v1/rules.grpc.pb.h"
#include "services/org/src/rule_book.h"

namespace dj::org {

class RuleSetService final : public dangjian::org::v1::RuleSetService::Service {
 public:
  RuleSetService(RuleBook& book, db::Pool& pool, const auth::InternalAuth& auth,
                 std::string audit_key);

  grpc::Status GetStructureRules(grpc::ServerContext* context,
                                 const dangjian::org::v1::GetStructureRulesRequest* request,
                                 dangjian::org::v1::StructureRuleSet* response) override;
  grpc::Status ListStructureRuleSets(
      grpc::ServerContext* context, const dangjian::org::v1::ListStructureRuleSetsRequest* request,
      dangjian::org::v1::ListStructureRuleSetsResponse* response) override;
  grpc::Status CreateStructureRuleSet(
      grpc::ServerContext* context, const dangjian::org::v1::CreateStructureRuleSetRequest* request,
      dangjian::org::v1::StructureRuleSet* response) override;

  // The same without gRPC, on behalf of `who`.
  absl::StatusOr<dangjian::org::v1::StructureRuleSet> InForce(
      const auth::Principal& who, const dangjian::org::v1::GetStructureRulesRequest& request);
  absl::StatusOr<dangjian::org::v1::ListStructureRuleSetsResponse> List(
      const auth::Principal& who);
  absl::StatusOr<dangjian::org::v1::StructureRuleSet> Create(
      const auth::Principal& who, const dangjian::org::v1::CreateStructureRuleSetRequest& request);

 private:
  RuleBook& book_;
  const auth::InternalAuth& auth_;
  audit::Recorder audit_;
};

}  // namespace dj::org
