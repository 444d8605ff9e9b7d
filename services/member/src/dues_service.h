// gRPC handlers of dangjian.member.v1.DuesService: party dues (党费). Declared base incomes,
// what each month owes under the rule set in force that month (services/member/src/dues.h does
// the arithmetic), payments with receipts (alone, on a member's behalf, or a branch's month in one
// all-or-nothing batch), approved reductions, arrears and the committee's list, a branch's monthly
// sheet, a member's own history. Authorized as resource kind "dues" at the member's organization
// path (owner `members/{id}` for `self`); writes are audited with their DuesPaid outbox events.
//
// When dues are owed: from the month of joining (join_date: probationary members pay too; the
// full-member date when no join date is recorded), but not before the earlier of the month the
// record entered this system and the first declared base (months before either were settled on
// paper), and not from the month of leaving or death on (status LEFT/DECEASED with its date).
// Applicants, activists and candidates owe nothing. In service and retired members owe nothing
// computable before their first declared base (those months are "base missing", not arrears);
// each declaration keeps the member's category when declared, which picks the bracket table for
// the months it covers. Arrears count the months before the current one.
#pragma once

#include <functional>
#include <string>

#include "common/audit/recorder.h"
#include "common/auth/current_path.h"
#include "common/auth/principal.h"
#include "common/db/pool.h"
#include "common/ids/id_generator.h"
#include "dangjian/member/v1/dues.grpc.pb.h"
#include "services/member/src/dues.h"
#include "services/member/src/dues_store.h"
#include "services/member/src/member_access.h"
#include "services/member/src/member_rules.h"

namespace dj::member {

class DuesService final : public dangjian::member::v1::DuesService::Service,
                          private MemberHandlers {
 public:
  // `rules`: the member rule book (MemberRecords::rules()), read for the dues part.
  // `now_us`: microseconds since the epoch; the system clock when unset.
  DuesService(db::Pool& pool, ids::IdGenerator& ids, const auth::InternalAuth& auth,
              std::string audit_key, auth::OrgPathLookup org_paths, MemberRuleBook& rules,
              std::function<int64_t()> now_us = {});
  ~DuesService() override;

  grpc::Status GetMemberDues(grpc::ServerContext* ctx,
                             const dangjian::member::v1::GetMemberDuesRequest* req,
                             dangjian::member::v1::MemberDues* resp) override;
  grpc::Status DeclareDuesBase(grpc::ServerContext* ctx,
                               const dangjian::member::v1::DeclareDuesBaseRequest* req,
                               dangjian::member::v1::DuesDeclaration* resp) override;
  grpc::Status PayDues(grpc::ServerContext* ctx, const dangjian::member::v1::PayDuesRequest* req,
                       dangjian::member::v1::DuesPayment* resp) override;
  grpc::Status CreateDuesReduction(grpc::ServerContext* ctx,
                                   const dangjian::member::v1::CreateDuesReductionRequest* req,
                                   dangjian::member::v1::DuesReduction* resp) override;
  grpc::Status PayDuesMonth(grpc::ServerContext* ctx,
                            const dangjian::member::v1::PayDuesMonthRequest* req,
                            dangjian::member::v1::PayDuesMonthResponse* resp) override;
  grpc::Status GetDuesSheet(grpc::ServerContext* ctx,
                            const dangjian::member::v1::GetDuesSheetRequest* req,
                            dangjian::member::v1::DuesSheet* resp) override;
  grpc::Status ExportDuesSheet(grpc::ServerContext* ctx,
                               const dangjian::member::v1::ExportDuesSheetRequest* req,
                               dangjian::member::v1::ExportedFile* resp) override;
  grpc::Status ListArrears(grpc::ServerContext* ctx,
                           const dangjian::member::v1::ListArrearsRequest* req,
                           dangjian::member::v1::ListArrearsResponse* resp) override;

  // --- the operations without gRPC, on behalf of `who` (tests, in-process callers, exports) ---
  absl::StatusOr<dangjian::member::v1::MemberDues> MemberDuesOf(
      const auth::Principal& who, const dangjian::member::v1::GetMemberDuesRequest& request);
  absl::StatusOr<dangjian::member::v1::DuesDeclaration> Declare(
      const auth::Principal& who, const dangjian::member::v1::DeclareDuesBaseRequest& request);
  absl::StatusOr<dangjian::member::v1::DuesPayment> Pay(
      const auth::Principal& who, const dangjian::member::v1::PayDuesRequest& request);
  absl::StatusOr<dangjian::member::v1::DuesReduction> Reduce(
      const auth::Principal& who, const dangjian::member::v1::CreateDuesReductionRequest& request);
  absl::StatusOr<dangjian::member::v1::PayDuesMonthResponse> PayMonth(
      const auth::Principal& who, const dangjian::member::v1::PayDuesMonthRequest& request);
  absl::StatusOr<dangjian::member::v1::DuesSheet> Sheet(
      const auth::Principal& who, const dangjian::member::v1::GetDuesSheetRequest& request);
  // The sheet as .xlsx or CSV (member_export.h: no cell runs as a formula).
  absl::StatusOr<dangjian::member::v1::ExportedFile> ExportSheet(
      const auth::Principal& who, const dangjian::member::v1::ExportDuesSheetRequest& request);
  absl::StatusOr<dangjian::member::v1::ListArrearsResponse> Arrears(
      const auth::Principal& who, const dangjian::member::v1::ListArrearsRequest& request);

 private:
  // The member named by `name` (`members/{id}/dues`, or `members/me/dues` for the caller).
  absl::StatusOr<int64_t> MemberIdOf(const auth::Principal& who, std::string_view name,
                                     std::string_view field) const;
  // In the caller's transaction: the member locked, `action` on its dues authorized.
  absl::StatusOr<MemberRow> LockDues(db::Connection& c, const auth::Principal& who, int64_t id,
                                     std::string_view action, audit::Entry& entry);
  // The organization `name`'s path with `action` on dues there authorized (NOT_FOUND outside
  // the caller's scope; refusals recorded).
  absl::StatusOr<std::string> AuthorizeOrganization(const auth::Principal& who,
                                                    std::string_view name, std::string_view action,
                                                    std::string_view audit_action);

  MemberRuleBook& rules_;
};

}  // namespace dj::member
