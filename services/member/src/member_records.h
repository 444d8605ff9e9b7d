// gRPC handlers of dangjian.member.v1.MemberService: member records with protected personal data,
// the development pipeline, membership status and the member rule set. Validate, authorize at
// the member's organization path (resource kind "members"), write in one audited transaction with
// its outbox event (stream "member.members"), answer with the ID number and phone masked unless
// the caller's role grants read_pii (each unmasked answer is an audit row).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/audit/recorder.h"
#include "common/auth/current_path.h"
#include "common/auth/principal.h"
#include "common/crypto/pii.h"
#include "common/db/pool.h"
#include "common/events/events.h"
#include "common/ids/id_generator.h"
#include "dangjian/member/v1/member.grpc.pb.h"
#include "services/member/src/member_access.h"
#include "services/member/src/member_rules.h"
#include "services/member/src/member_store.h"

namespace dj::member {

class MemberRecords final : public dangjian::member::v1::MemberService::Service,
                            private MemberHandlers {
 public:
  // `now_us`: microseconds since the epoch; the system clock when unset.
  MemberRecords(db::Pool& pool, ids::IdGenerator& ids, const auth::InternalAuth& auth,
                std::string audit_key, auth::OrgPathLookup org_paths, const crypto::PiiVault& vault,
                std::function<int64_t()> now_us = {});
  ~MemberRecords() override;

  using Pb = dangjian::member::v1::Member;
  grpc::Status CreateMember(grpc::ServerContext* ctx,
                            const dangjian::member::v1::CreateMemberRequest* req,
                            Pb* resp) override;
  grpc::Status GetMember(grpc::ServerContext* ctx,
                         const dangjian::member::v1::GetMemberRequest* req, Pb* resp) override;
  grpc::Status GetMyMember(grpc::ServerContext* ctx,
                           const dangjian::member::v1::GetMyMemberRequest* req, Pb* resp) override;
  grpc::Status ListMembers(grpc::ServerContext* ctx,
                           const dangjian::member::v1::ListMembersRequest* req,
                           dangjian::member::v1::ListMembersResponse* resp) override;
  grpc::Status SearchMembers(grpc::ServerContext* ctx,
                             const dangjian::member::v1::SearchMembersRequest* req,
                             dangjian::member::v1::SearchMembersResponse* resp) override;
  grpc::Status UpdateMember(grpc::ServerContext* ctx,
                            const dangjian::member::v1::UpdateMemberRequest* req,
                            Pb* resp) override;
  grpc::Status AdmitActivist(grpc::ServerContext* ctx,
                             const dangjian::member::v1::AdmitActivistRequest* req,
                             Pb* resp) override;
  grpc::Status ApproveCandidate(grpc::ServerContext* ctx,
                                const dangjian::member::v1::ApproveCandidateRequest* req,
                                Pb* resp) override;
  grpc::Status AdmitProbationary(grpc::ServerContext* ctx,
                                 const dangjian::member::v1::AdmitProbationaryRequest* req,
                                 Pb* resp) override;
  grpc::Status ExtendProbation(grpc::ServerContext* ctx,
                               const dangjian::member::v1::ExtendProbationRequest* req,
                               Pb* resp) override;
  grpc::Status ConvertToFull(grpc::ServerContext* ctx,
                             const dangjian::member::v1::ConvertToFullRequest* req,
                             Pb* resp) override;
  grpc::Status ListStages(grpc::ServerContext* ctx,
                          const dangjian::member::v1::ListStagesRequest* req,
                          dangjian::member::v1::ListStagesResponse* resp) override;
  grpc::Status ListDueConversions(grpc::ServerContext* ctx,
                                  const dangjian::member::v1::ListDueConversionsRequest* req,
                                  dangjian::member::v1::ListDueConversionsResponse* resp) override;
  grpc::Status ChangeMemberStatus(grpc::ServerContext* ctx,
                                  const dangjian::member::v1::ChangeMemberStatusRequest* req,
                                  Pb* resp) override;
  grpc::Status ImportMembers(grpc::ServerContext* ctx,
                             const dangjian::member::v1::ImportMembersRequest* req,
                             dangjian::member::v1::ImportMembersResponse* resp) override;
  grpc::Status ExportMembers(grpc::ServerContext* ctx,
                             const dangjian::member::v1::ExportMembersRequest* req,
                             dangjian::member::v1::ExportedFile* resp) override;
  grpc::Status ListStandingMilestones(
      grpc::ServerContext* ctx, const dangjian::member::v1::ListStandingMilestonesRequest* req,
      dangjian::member::v1::ListStandingMilestonesResponse* resp) override;
  grpc::Status GetMemberRules(grpc::ServerContext* ctx,
                              const dangjian::member::v1::GetMemberRulesRequest* req,
                              dangjian::member::v1::MemberRuleSet* resp) override;
  grpc::Status ListMemberRuleSets(grpc::ServerContext* ctx,
                                  const dangjian::member::v1::ListMemberRuleSetsRequest* req,
                                  dangjian::member::v1::ListMemberRuleSetsResponse* resp) override;
  grpc::Status CreateMemberRuleSet(grpc::ServerContext* ctx,
                                   const dangjian::member::v1::CreateMemberRuleSetRequest* req,
                                   dangjian::member::v1::MemberRuleSet* resp) override;

  // --- the operations without gRPC, on behalf of `who` (tests, in-process callers) ---
  absl::StatusOr<Pb> Create(const auth::Principal& who,
                            const dangjian::member::v1::CreateMemberRequest& request);
  absl::StatusOr<Pb> Get(const auth::Principal& who,
                         const dangjian::member::v1::GetMemberRequest& request);
  absl::StatusOr<Pb> GetMine(const auth::Principal& who);
  absl::StatusOr<dangjian::member::v1::ListMembersResponse> List(
      const auth::Principal& who, const dangjian::member::v1::ListMembersRequest& request);
  absl::StatusOr<dangjian::member::v1::SearchMembersResponse> Search(
      const auth::Principal& who, const dangjian::member::v1::SearchMembersRequest& request);
  absl::StatusOr<Pb> Update(const auth::Principal& who,
                            const dangjian::member::v1::UpdateMemberRequest& request);
  absl::StatusOr<Pb> AdmitActivistOp(const auth::Principal& who,
                                     const dangjian::member::v1::AdmitActivistRequest& request);
  absl::StatusOr<Pb> ApproveCandidateOp(
      const auth::Principal& who, const dangjian::member::v1::ApproveCandidateRequest& request);
  absl::StatusOr<Pb> AdmitProbationaryOp(
      const auth::Principal& who, const dangjian::member::v1::AdmitProbationaryRequest& request);
  absl::StatusOr<Pb> ExtendProbationOp(const auth::Principal& who,
                                       const dangjian::member::v1::ExtendProbationRequest& request);
  absl::StatusOr<Pb> ConvertToFullOp(const auth::Principal& who,
                                     const dangjian::member::v1::ConvertToFullRequest& request);
  absl::StatusOr<dangjian::member::v1::ListStagesResponse> Stages(
      const auth::Principal& who, const dangjian::member::v1::ListStagesRequest& request);
  absl::StatusOr<dangjian::member::v1::ListDueConversionsResponse> DueConversions(
      const auth::Principal& who, const dangjian::member::v1::ListDueConversionsRequest& request);
  absl::StatusOr<Pb> ChangeStatus(const auth::Principal& who,
                                  const dangjian::member::v1::ChangeMemberStatusRequest& request);
  // A branch's spreadsheet, all rows or none (member_files.cc).
  absl::StatusOr<dangjian::member::v1::ImportMembersResponse> Import(
      const auth::Principal& who, const dangjian::member::v1::ImportMembersRequest& request);
  absl::StatusOr<dangjian::member::v1::ExportedFile> Export(
      const auth::Principal& who, const dangjian::member::v1::ExportMembersRequest& request);
  absl::StatusOr<dangjian::member::v1::ListStandingMilestonesResponse> Milestones(
      const auth::Principal& who, const dangjian::member::v1::ListStandingMilestonesRequest& r);
  absl::StatusOr<dangjian::member::v1::MemberRuleSet> RulesInForce(
      const auth::Principal& who, const dangjian::member::v1::GetMemberRulesRequest& request);
  absl::StatusOr<dangjian::member::v1::ListMemberRuleSetsResponse> RuleSets(
      const auth::Principal& who);
  absl::StatusOr<dangjian::member::v1::MemberRuleSet> AddRuleSet(
      const auth::Principal& who, const dangjian::member::v1::CreateMemberRuleSetRequest& request);

  // In the consumer's transaction of an OrganizationMoved: member paths follow the subtree.
  static absl::StatusOr<int64_t> FollowMove(db::Connection& c, std::string_view old_path,
                                            std::string_view new_path);

  MemberRuleBook& rules() { return *rules_; }

 private:
  struct Step;  // one pipeline step: what it checks and writes
  absl::StatusOr<Pb> Advance(const auth::Principal& who, const Step& step);

  // Whether `who` may read personal data of `row` (read_pii granted at its path).
  bool MayReadPii(const auth::Principal& who, const MemberRow& row) const;
  // The record as answered: masked, or in clear (and then an audit row, `action`).
  absl::StatusOr<Pb> Answer(const auth::Principal& who, const MemberRow& row,
                            std::string_view action);
  Pb ToProto(const MemberRow& row) const;
  // The ID number and phone of `row` opened into `m` (pii_masked false). No audit row: the
  // caller records the read.
  absl::Status InClear(const MemberRow& row, Pb& m) const;
  // Seals, indexes and masks `id_number` and `phone` (already normalized) for row `id`.
  absl::Status Seal(MemberRow& row, const std::string& id_number, const std::string& phone) const;
  // The current path of `organization` for `who`, with the right to `action` members there
  // (refusals audited as `audit_action`; out of scope NOT_FOUND as a missing organization).
  absl::StatusOr<std::string> MembersAt(const auth::Principal& who, std::string_view organization,
                                        std::string_view action, std::string_view audit_action);
  // The path of `who`'s scope organization ("/" for the whole tree).
  absl::StatusOr<std::string> ScopePath(const auth::Principal& who);

  const crypto::PiiVault& vault_;
  std::unique_ptr<MemberRuleBook> rules_;
};

}  // namespace dj::member
