// gRPC handlers of dangjian.member.v1.TransferService (组织关系接转): introduction letters issued
// by the member's organization, accepted or rejected by the receiving one (the member's record
// moves on acceptance, in the same transaction, with its MemberTransferred event), cancelled by
// the issuing one, expired past the letter's validity; transfers to and from organizations
// outside the system with their receipts. Authorized as resource kind "transfers" at the side
// that acts; every change audited ("transfers.create", "transfers.accept", ...).
#pragma once

#include <functional>
#include <string>

#include "common/audit/recorder.h"
#include "common/auth/current_path.h"
#include "common/auth/principal.h"
#include "common/db/pool.h"
#include "common/ids/id_generator.h"
#include "dangjian/member/v1/transfer.grpc.pb.h"
#include "services/member/src/member_access.h"
#include "services/member/src/member_rules.h"
#include "services/member/src/transfer_store.h"

namespace dj::member {

class TransferService final : public dangjian::member::v1::TransferService::Service,
                              private MemberHandlers {
 public:
  // `org_paths`: an organization's current path as the org service answers it for a caller.
  // `rules`: the member rule book (letter_valid_months), shared with MemberRecords. `now_us`:
  // microseconds since the epoch; the system clock when unset.
  TransferService(db::Pool& pool, ids::IdGenerator& ids, const auth::InternalAuth& auth,
                  std::string audit_key, auth::OrgPathLookup org_paths, MemberRuleBook& rules,
                  std::function<int64_t()> now_us = {});
  ~TransferService() override;

  using Pb = dangjian::member::v1::Transfer;
  grpc::Status CreateTransfer(grpc::ServerContext* ctx,
                              const dangjian::member::v1::CreateTransferRequest* req,
                              Pb* resp) override;
  grpc::Status GetTransfer(grpc::ServerContext* ctx,
                           const dangjian::member::v1::GetTransferRequest* req, Pb* resp) override;
  grpc::Status ListTransfers(grpc::ServerContext* ctx,
                             const dangjian::member::v1::ListTransfersRequest* req,
                             dangjian::member::v1::ListTransfersResponse* resp) override;
  grpc::Status ListMemberTransfers(
      grpc::ServerContext* ctx, const dangjian::member::v1::ListMemberTransfersRequest* req,
      dangjian::member::v1::ListMemberTransfersResponse* resp) override;
  grpc::Status AcceptTransfer(grpc::ServerContext* ctx,
                              const dangjian::member::v1::AcceptTransferRequest* req,
                              Pb* resp) override;
  grpc::Status RejectTransfer(grpc::ServerContext* ctx,
                              const dangjian::member::v1::RejectTransferRequest* req,
                              Pb* resp) override;
  grpc::Status CancelTransfer(grpc::ServerContext* ctx,
                              const dangjian::member::v1::CancelTransferRequest* req,
                              Pb* resp) override;
  grpc::Status ConfirmTransferReceipt(
      grpc::ServerContext* ctx, const dangjian::member::v1::ConfirmTransferReceiptRequest* req,
      Pb* resp) override;

  // --- the operations without gRPC, on behalf of `who` (tests, in-process callers) ---
  absl::StatusOr<Pb> Create(const auth::Principal& who,
                            const dangjian::member::v1::CreateTransferRequest& request);
  absl::StatusOr<Pb> Get(const auth::Principal& who,
                         const dangjian::member::v1::GetTransferRequest& request);
  absl::StatusOr<dangjian::member::v1::ListTransfersResponse> List(
      const auth::Principal& who, const dangjian::member::v1::ListTransfersRequest& request);
  absl::StatusOr<dangjian::member::v1::ListMemberTransfersResponse> ListOfMember(
      const auth::Principal& who, const dangjian::member::v1::ListMemberTransfersRequest& request);
  absl::StatusOr<Pb> Accept(const auth::Principal& who,
                            const dangjian::member::v1::AcceptTransferRequest& request);
  absl::StatusOr<Pb> Reject(const auth::Principal& who,
                            const dangjian::member::v1::RejectTransferRequest& request);
  absl::StatusOr<Pb> Cancel(const auth::Principal& who,
                            const dangjian::member::v1::CancelTransferRequest& request);
  absl::StatusOr<Pb> ConfirmReceipt(
      const auth::Principal& who,
      const dangjian::member::v1::ConfirmTransferReceiptRequest& request);

  // In the consumer's transaction of an OrganizationMoved: both sides' path copies follow the
  // subtree (as MemberRecords::FollowMove does for members).
  static absl::StatusOr<int64_t> FollowMove(db::Connection& c, std::string_view old_path,
                                            std::string_view new_path);

 private:
  struct Decision;  // accept, reject, cancel or confirm a receipt: what each checks and writes
  absl::StatusOr<Pb> Decide(const auth::Principal& who, const Decision& d);

  Pb ToProto(const TransferRow& row, const time::CivilDate& today) const;
  // Read access to `row` for `who`: either side, or the member it moves. NOT_FOUND when neither
  // side is in scope (PERMISSION_DENIED when one is but without `read`); the refusal audited.
  absl::Status AuthorizeRead(const auth::Principal& who, const TransferRow& row,
                             std::string_view action, std::string_view name);
  absl::StatusOr<dangjian::member::v1::ListTransfersResponse> Page(const TransferFilter& filter,
                                                                   std::string_view fingerprint,
                                                                   int32_t page_size,
                                                                   std::string_view page_token);

  MemberRuleBook& rules_;
};

}  // namespace dj::member
