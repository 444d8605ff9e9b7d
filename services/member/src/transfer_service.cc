// Transfer handlers: validate, authorize at the side that acts (the issuing organization creates
// and cancels, the receiving one accepts and rejects), write with the audit row, and on
// acceptance move the member's record with its event, all in one transaction.
#include "services/member/src/transfer_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/audit/caller.h"
#include "common/auth/authorize.h"
#include "common/db/errors.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/rpc/requests.h"
#include "common/rpc/text.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "dangjian/member/v1/events.pb.h"
#include "google/protobuf/util/time_util.h"
#include "services/member/src/member_access.h"
#include "services/member/src/member_store.h"

namespace dj::member {

namespace pb = dangjian::member::v1;
using google::protobuf::util::TimeUtil;

namespace {

constexpr std::string_view kTransfers = "transfers";
constexpr int kMaxNameChars = 50;
constexpr int kMaxExternalChars = 100;
constexpr int kMaxReasonChars = 200;
constexpr int kMaxLetterChars = 50;

absl::Status TransferNotFound(std::string_view name) {
  return rpc::Error(absl::StatusCode::kNotFound, "TRANSFER_NOT_FOUND",
                    absl::StrCat(AV(name), " does not exist"));
}

absl::Status TransferChanged(std::string_view name) {
  return rpc::Error(
      absl::StatusCode::kAborted, "ETAG_MISMATCH",
      absl::StrCat(AV(name), " was changed since it was read; get it again and retry"));
}

// A refusal because of where the transfer stands (closed, expired, the member gone): 400 with
// the request field it concerns.
absl::Status Precondition(std::string_view reason, std::string message, std::string field,
                          std::string description) {
  return rpc::WithViolation(rpc::Error(absl::StatusCode::kFailedPrecondition, reason, message),
                            {std::move(field), std::move(description)});
}

absl::Status TakeText(std::string_view in, std::string_view field, int max_chars, bool required,
                      std::string& out) {
  out = rpc::TrimDisplayName(in);
  return rpc::ValidateText(out, field, max_chars, required);
}

// "2026-000123": the form generated numbers take, which a given number may not.
bool LooksGenerated(std::string_view letter) {
  if (letter.size() < 6 || letter[4] != '-') {
    return false;
  }
  for (size_t i = 0; i < letter.size(); ++i) {
    if (i != 4 && !absl::ascii_isdigit(static_cast<unsigned char>(letter[i]))) {
      return false;
    }
  }
  return true;
}

// The state a caller sees: a pending letter past its last valid day is expired.
int32_t Shown(const TransferRow& row, const time::CivilDate& today) {
  if (row.state == pb::TRANSFER_PENDING && row.expire_date < today) {
    return pb::TRANSFER_EXPIRED;
  }
  return row.state;
}

std::string StateName(int32_t state) {
  return pb::TransferState_Name(static_cast<pb::TransferState>(state));
}

std::string MemberName(const TransferRow& row) {
  return row.member_id == 0 ? std::string() : rpc::FormatName(kMembers, row.member_id);
}

auth::Resource At(std::string_view path, const TransferRow& row) {
  return {std::string(kTransfers), std::string(path), MemberName(row)};
}

void SetDate(const std::optional<time::CivilDate>& d, google::type::Date* out) {
  if (d.has_value()) {
    *out = time::ToProto(*d);
  }
}

}  // namespace

// --- gRPC adapters: who is calling, then the operation, then the reply ---

#define DJ_TRANSFER_RPC(Method, Request, Response, Call) \
  DJ_GRPC_HANDLER(TransferService, Method, pb::Request, Response, Call)

DJ_TRANSFER_RPC(CreateTransfer, CreateTransferRequest, Pb, Create(who, *req))
DJ_TRANSFER_RPC(GetTransfer, GetTransferRequest, Pb, Get(who, *req))
DJ_TRANSFER_RPC(ListTransfers, ListTransfersRequest, pb::ListTransfersResponse, List(who, *req))
DJ_TRANSFER_RPC(ListMemberTransfers, ListMemberTransfersRequest, pb::ListMemberTransfersResponse,
                ListOfMember(who, *req))
DJ_TRANSFER_RPC(AcceptTransfer, AcceptTransferRequest, Pb, Accept(who, *req))
DJ_TRANSFER_RPC(RejectTransfer, RejectTransferRequest, Pb, Reject(who, *req))
DJ_TRANSFER_RPC(CancelTransfer, CancelTransferRequest, Pb, Cancel(who, *req))
DJ_TRANSFER_RPC(ConfirmTransferReceipt, ConfirmTransferReceiptRequest, Pb,
                ConfirmReceipt(who, *req))

#undef DJ_TRANSFER_RPC

TransferService::TransferService(db::Pool& pool, ids::IdGenerator& ids,
                                 const auth::InternalAuth& auth, std::string audit_key,
                                 auth::OrgPathLookup org_paths, MemberRuleBook& rules,
                                 std::function<int64_t()> now_us)
    : MemberHandlers(pool, ids, auth, std::move(audit_key), std::move(org_paths),
                     std::move(now_us)),
      rules_(rules) {}

TransferService::~TransferService() = default;

absl::StatusOr<int64_t> TransferService::FollowMove(db::Connection& c, std::string_view old_path,
                                                    std::string_view new_path) {
  return TransferStore::RewritePaths(c, old_path, new_path);
}

pb::Transfer TransferService::ToProto(const TransferRow& row, const time::CivilDate& today) const {
  pb::Transfer t;
  t.set_name(rpc::FormatName(kTransfers, row.id));
  t.set_kind(static_cast<pb::TransferKind>(row.kind));
  t.set_member(MemberName(row));
  t.set_member_display_name(row.member_display_name);
  if (row.from_org_id != 0) {
    t.set_from_organization(rpc::FormatName(kOrganizations, row.from_org_id));
  }
  t.set_from_external_name(row.from_external_name);
  if (row.to_org_id != 0) {
    t.set_to_organization(rpc::FormatName(kOrganizations, row.to_org_id));
  }
  t.set_to_external_name(row.to_external_name);
  t.set_letter_number(row.letter_number);
  *t.mutable_issue_date() = time::ToProto(row.issue_date);
  *t.mutable_expire_date() = time::ToProto(row.expire_date);
  t.set_note(row.note);
  t.set_state(static_cast<pb::TransferState>(Shown(row, today)));
  t.set_decision_reason(row.decision_reason);
  SetDate(row.decision_date, t.mutable_decision_date());
  SetDate(row.receipt_date, t.mutable_receipt_date());
  t.set_transferred_out(row.transferred_out);
  t.set_creator(row.creator);
  t.set_etag(rpc::Etag(row.version));
  *t.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.create_time_us);
  *t.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row.update_time_us);
  return t;
}

namespace {

// Read access to `row`: either side, or the member it moves (a `self` row). NOT_FOUND when
// neither side is in the caller's scope, PERMISSION_DENIED when one is but without `read`.
absl::Status ReadAccess(const auth::Principal& who, const TransferRow& row, std::string_view name) {
  absl::Status refused = TransferNotFound(name);
  for (const std::string* path : {&row.from_path, &row.to_path}) {
    if (path->empty()) {
      continue;
    }
    absl::Status s = auth::Authorize(who, "read", At(*path, row));
    if (s.ok()) {
      return s;
    }
    if (s.code() == absl::StatusCode::kPermissionDenied) {
      refused = s;
    }
  }
  return refused;
}

}  // namespace

absl::Status TransferService::AuthorizeRead(const auth::Principal& who, const TransferRow& row,
                                            std::string_view action, std::string_view name) {
  absl::Status refused = ReadAccess(who, row, name);
  if (refused.ok()) {
    return refused;
  }
  audit::Entry entry = audit::Recorder::For(who, std::string(action), std::string(name),
                                            row.from_path.empty() ? row.to_path : row.from_path);
  entry.detail = refused.code() == absl::StatusCode::kNotFound ? "OUT_OF_SCOPE" : "NOT_PERMITTED";
  audit_.Refuse(std::move(entry), refused);
  return refused;
}

// --- create ---

absl::StatusOr<pb::Transfer> TransferService::Create(const auth::Principal& who,
                                                     const pb::CreateTransferRequest& request) {
  if (!request.has_transfer()) {
    return rpc::InvalidArgument({{"transfer", "required"}});
  }
  const pb::Transfer& in = request.transfer();
  RETURN_IF_ERROR(rpc::ValidateRequestId(request.request_id()));
  for (const auto& [set, field] :
       {std::pair<bool, const char*>{!in.name().empty(), "transfer.name"},
        {!in.from_organization().empty(), "transfer.from_organization"},
        {in.has_expire_date(), "transfer.expire_date"},
        {in.state() != 0, "transfer.state"},
        {in.kind() != 0, "transfer.kind"}}) {
    if (set) {
      return rpc::InvalidArgument(
          {{field, "is set by the service (from_organization: the member's); leave it empty"}});
    }
  }
  TransferRow row;
  RETURN_IF_ERROR(TakeText(in.note(), "transfer.note", kMaxReasonChars, false, row.note));
  RETURN_IF_ERROR(TakeText(in.from_external_name(), "transfer.from_external_name",
                           kMaxExternalChars, false, row.from_external_name));
  RETURN_IF_ERROR(TakeText(in.to_external_name(), "transfer.to_external_name", kMaxExternalChars,
                           false, row.to_external_name));
  const bool inbound = !row.from_external_name.empty();
  if (inbound) {
    row.kind = pb::TRANSFER_INBOUND;
    if (!row.to_external_name.empty()) {
      return rpc::InvalidArgument(
          {{"transfer.to_external_name",
            "must be empty from outside the system: the receiving organization is "
            "to_organization"}});
    }
    if (in.to_organization().empty()) {
      return rpc::InvalidArgument(
          {{"transfer.to_organization", "required: the organization receiving the member"}});
    }
  } else {
    if (in.member().empty()) {
      return rpc::InvalidArgument({{"transfer.member", "required: members/{id}"}});
    }
    if (in.to_organization().empty() == row.to_external_name.empty()) {
      return rpc::InvalidArgument(
          {{"transfer.to_organization",
            "give exactly one of to_organization (in the system) and to_external_name (outside "
            "it)"}});
    }
    row.kind = row.to_external_name.empty() ? pb::TRANSFER_WITHIN : pb::TRANSFER_OUTBOUND;
  }
  if (!in.member().empty()) {
    ASSIGN_OR_RETURN(row.member_id, rpc::ParseName(in.member(), kMembers, "transfer.member"));
  } else {
    RETURN_IF_ERROR(TakeText(in.member_display_name(), "transfer.member_display_name",
                             kMaxNameChars, true, row.member_display_name));
  }
  RETURN_IF_ERROR(TakeText(in.letter_number(), "transfer.letter_number", kMaxLetterChars, false,
                           row.letter_number));
  if (LooksGenerated(row.letter_number)) {
    return rpc::InvalidArgument(
        {{"transfer.letter_number",
          "the form YYYY-NNNNNN is kept for numbers the service generates; leave it empty to "
          "have one, or give the letter's own number"}});
  }
  const time::CivilDate today = Today();
  row.issue_date = today;
  if (in.has_issue_date()) {
    ASSIGN_OR_RETURN(row.issue_date, time::FromProto(in.issue_date(), "transfer.issue_date"));
    if (row.issue_date > today) {
      return rpc::InvalidArgument({{"transfer.issue_date", "must not be in the future"}});
    }
  }
  // The destination may lie outside the caller's scope: it is looked up as the system, only to
  // learn that it exists and where it hangs. Nothing of it is shown but its name.
  if (!in.to_organization().empty()) {
    ASSIGN_OR_RETURN(row.to_org_id, rpc::ParseName(in.to_organization(), kOrganizations,
                                                   "transfer.to_organization"));
    auto path = org_paths_(auth::SystemPrincipal(), rpc::FormatName(kOrganizations, row.to_org_id));
    if (path.status().code() == absl::StatusCode::kNotFound) {
      return rpc::InvalidArgument({{"transfer.to_organization", "no such organization"}});
    }
    RETURN_IF_ERROR(path.status());
    row.to_path = *std::move(path);
  }
  row.state = pb::TRANSFER_PENDING;
  row.creator = who.subject;
  row.id = ids_.Next();
  row.create_time_us = row.update_time_us = NowUs();
  const std::string name = rpc::FormatName(kTransfers, row.id);
  const std::string request_id = auth::IdempotencyKey(who, request.request_id());
  audit::Entry entry = audit::Recorder::For(who, "transfers.create", name, "/");
  // The side that issues: the member's organization, or the receiving one from outside.
  auto issuer_path = [](const TransferRow& t) {
    return t.from_path.empty() ? t.to_path : t.from_path;
  };
  const std::string given_letter = row.letter_number;
  ASSIGN_OR_RETURN(
      const std::optional<TransferRow> replay,
      rpc::CreateOnce<TransferRow>(
          audit_, pool_, entry,
          {.request_id = request_id,
           .what = "transfer",
           .request_id_index = kTransferRequestIdIndex,
           .find = TransferStore::FindByRequestId,
           .replay =
               [&](db::Connection&, const TransferRow& earlier, audit::Entry& e) {
                 e.resource = rpc::FormatName(kTransfers, earlier.id);
                 e.org_path = issuer_path(earlier);
                 return auth::AuthorizeOrHide(who, "create", At(e.org_path, earlier),
                                              TransferNotFound(e.resource), &e.detail);
               },
           .write = [&](db::Connection& c, audit::Entry& e) -> absl::Status {
             if (row.member_id != 0) {
               ASSIGN_OR_RETURN(const std::optional<MemberRow> member,
                                MemberStore::Find(c, row.member_id, /*for_update=*/true));
               const absl::Status hidden =
                   rpc::WithViolation(MemberNotFound(in.member()),
                                      {"transfer.member", "no such member in your scope"});
               if (!member.has_value()) {
                 return hidden;
               }
               e.org_path = member->org_path;
               RETURN_IF_ERROR(auth::AuthorizeOrHide(who, "create", At(member->org_path, row),
                                                     hidden, &e.detail));
               if (inbound && member->organization_id != row.to_org_id) {
                 return rpc::InvalidArgument(
                     {{"transfer.member",
                       "from outside the system, the record must already belong to the "
                       "receiving organization (to_organization)"}});
               }
               if (member->status == pb::TRANSFERRED_OUT) {
                 return Precondition("TRANSFERRED_OUT",
                                     absl::StrCat(in.member(), " left the system by a transfer"),
                                     "transfer.member", "has been transferred out of the system");
               }
               if (MembershipEnded(member->status)) {
                 return Precondition(
                     "MEMBERSHIP_ENDED",
                     absl::StrCat(in.member(), " is no longer a member (status ",
                                  pb::MembershipStatus_Name(
                                      static_cast<pb::MembershipStatus>(member->status)),
                                  ")"),
                     "transfer.member", "the membership has ended: nothing to transfer");
               }
               if (!inbound) {
                 if (member->organization_id == row.to_org_id) {
                   return rpc::InvalidArgument(
                       {{"transfer.to_organization",
                         "is the member's own organization: a transfer goes elsewhere"}});
                 }
                 row.from_org_id = member->organization_id;
                 row.from_path = member->org_path;
               }
               row.member_display_name = member->display_name;
               ASSIGN_OR_RETURN(const std::optional<TransferRow> open,
                                TransferStore::OpenFor(c, row.member_id, today));
               if (open.has_value()) {
                 const std::string other = rpc::FormatName(kTransfers, open->id);
                 return Precondition("TRANSFER_OPEN",
                                     absl::StrCat(in.member(), " has an open transfer, ", other),
                                     "transfer.member",
                                     absl::StrCat("has an open transfer (", other, ", valid until ",
                                                  time::ToIso(open->expire_date),
                                                  "): cancel it, or let it be decided, first"));
               }
               ASSIGN_OR_RETURN(const std::optional<TransferRow> gone,
                                TransferStore::TransferredOut(c, row.member_id));
               if (gone.has_value()) {
                 return Precondition("TRANSFERRED_OUT",
                                     absl::StrCat(in.member(), " left the system by ",
                                                  rpc::FormatName(kTransfers, gone->id)),
                                     "transfer.member", "has been transferred out of the system");
               }
             } else {
               e.org_path = row.to_path;
               RETURN_IF_ERROR(auth::AuthorizeOrHide(
                   who, "create", At(row.to_path, row),
                   rpc::WithViolation(
                       rpc::Error(absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND",
                                  absl::StrCat(in.to_organization(),
                                               " is outside your scope or does not exist")),
                       {"transfer.to_organization", "no such organization in your scope"}),
                   &e.detail));
             }
             ASSIGN_OR_RETURN(const MemberRules rules, rules_.InForce(row.issue_date, &c));
             ASSIGN_OR_RETURN(row.expire_date,
                              time::AddMonths(row.issue_date, rules.letter_valid_months));
             // Generated on every attempt: a rolled-back attempt gave its number back.
             row.letter_number = given_letter;
             if (row.letter_number.empty()) {
               ASSIGN_OR_RETURN(const int64_t seq,
                                TransferStore::NextLetterSeq(c, row.issue_date.year));
               row.letter_number = absl::StrFormat("%04d-%06d", row.issue_date.year, seq);
             }
             e.detail = absl::StrCat(pb::TransferKind_Name(static_cast<pb::TransferKind>(row.kind)),
                                     " letter ", row.letter_number);
             return TransferStore::Insert(c, row, request_id);
           },
           .same =
               [&](const TransferRow& earlier) {
                 return earlier.member_id == row.member_id && earlier.to_org_id == row.to_org_id &&
                        earlier.to_external_name == row.to_external_name &&
                        earlier.from_external_name == row.from_external_name;
               },
           .explain = [&](absl::Status status) -> absl::Status {
             if (db::DuplicateKeyOn(status, kLetterNumberIndex)) {
               return rpc::WithViolation(
                   rpc::Error(absl::StatusCode::kAlreadyExists, "LETTER_NUMBER_TAKEN",
                              "transfer.letter_number: another transfer has this letter number"),
                   {"transfer.letter_number", "is already used by another transfer"});
             }
             return status;
           }}));
  return ToProto(replay.has_value() ? *replay : row, today);
}

// --- reads ---

absl::StatusOr<pb::Transfer> TransferService::Get(const auth::Principal& who,
                                                  const pb::GetTransferRequest& request) {
  ASSIGN_OR_RETURN(const int64_t id, rpc::ParseName(request.name(), kTransfers, "name"));
  ASSIGN_OR_RETURN(const std::optional<TransferRow> row,
                   pool_.Run([&](db::Connection& c) { return TransferStore::Find(c, id, false); }));
  if (!row.has_value()) {
    return TransferNotFound(request.name());
  }
  RETURN_IF_ERROR(AuthorizeRead(who, *row, "transfers.read", request.name()));
  return ToProto(*row, Today());
}

absl::StatusOr<pb::ListTransfersResponse> TransferService::Page(const TransferFilter& filter,
                                                                std::string_view fingerprint,
                                                                int32_t page_size,
                                                                std::string_view page_token) {
  ASSIGN_OR_RETURN(const rpc::IdPage page, rpc::StartIdPage(page_size, page_token, fingerprint));
  ASSIGN_OR_RETURN(std::vector<TransferRow> rows, pool_.Run([&](db::Connection& c) {
    return TransferStore::List(c, filter, page.after_id, page.size + 1);
  }));
  const bool more = rpc::TrimPage(rows, page.size);
  pb::ListTransfersResponse out;
  for (const TransferRow& r : rows) {
    *out.add_transfers() = ToProto(r, filter.today);
  }
  if (more && !rows.empty()) {
    out.set_next_page_token(rpc::EncodePageToken(fingerprint, absl::StrCat(rows.back().id)));
  }
  return out;
}

absl::StatusOr<pb::ListTransfersResponse> TransferService::List(
    const auth::Principal& who, const pb::ListTransfersRequest& request) {
  if (request.organization().empty()) {
    return rpc::InvalidArgument({{"organization", "required: organizations/{id}"}});
  }
  ASSIGN_OR_RETURN(const int64_t org,
                   rpc::ParseName(request.organization(), kOrganizations, "organization"));
  if (!pb::TransferDirection_IsValid(request.direction())) {
    return rpc::InvalidArgument({{"direction", "must be IN, OUT or BOTH"}});
  }
  if (!pb::TransferState_IsValid(request.state())) {
    return rpc::InvalidArgument({{"state", "must be a known state"}});
  }
  if (request.overdue_only() && request.state() != pb::TRANSFER_STATE_UNSPECIFIED &&
      request.state() != pb::TRANSFER_EXPIRED) {
    return rpc::InvalidArgument(
        {{"overdue_only",
          "lists pending transfers past their validity (shown EXPIRED); leave "
          "state unset"}});
  }
  TransferFilter filter{.today = Today()};
  filter.incoming = request.direction() != pb::TRANSFER_OUT;
  filter.outgoing = request.direction() != pb::TRANSFER_IN;
  if (request.overdue_only() || request.state() == pb::TRANSFER_EXPIRED) {
    filter.stored_state = pb::TRANSFER_PENDING;
    filter.validity = TransferFilter::Validity::kExpired;
  } else if (request.state() == pb::TRANSFER_PENDING) {
    filter.stored_state = pb::TRANSFER_PENDING;
    filter.validity = TransferFilter::Validity::kValid;
  } else {
    filter.stored_state = request.state();
  }
  // The fingerprint holds the day: "pending" and "expired" move with it.
  const std::string fingerprint = absl::StrCat(
      "transfers|", org, "|", filter.incoming, filter.outgoing, "|", filter.stored_state, "|",
      static_cast<int>(filter.validity), "|", time::ToIso(filter.today));
  RETURN_IF_ERROR(
      rpc::StartIdPage(request.page_size(), request.page_token(), fingerprint).status());
  ASSIGN_OR_RETURN(filter.subtree,
                   OrganizationPath(org_paths_, who, request.organization(), "organization"));
  audit::Entry entry =
      audit::Recorder::For(who, "transfers.list", request.organization(), filter.subtree);
  absl::Status allowed =
      auth::AuthorizeOrHide(who, "read", {std::string(kTransfers), filter.subtree, ""},
                            rpc::Error(absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND",
                                       absl::StrCat(request.organization(), " does not exist")),
                            &entry.detail);
  if (!allowed.ok()) {
    audit_.Refuse(std::move(entry), allowed);
    return allowed;
  }
  return Page(filter, fingerprint, request.page_size(), request.page_token());
}

absl::StatusOr<pb::ListMemberTransfersResponse> TransferService::ListOfMember(
    const auth::Principal& who, const pb::ListMemberTransfersRequest& request) {
  ASSIGN_OR_RETURN(const int64_t id, rpc::ParseName(request.parent(), kMembers, "parent"));
  const std::string fingerprint = absl::StrCat("member_transfers|", id);
  RETURN_IF_ERROR(
      rpc::StartIdPage(request.page_size(), request.page_token(), fingerprint).status());
  ASSIGN_OR_RETURN(const std::optional<MemberRow> member,
                   pool_.Run([&](db::Connection& c) { return MemberStore::Find(c, id, false); }));
  if (!member.has_value()) {
    return MemberNotFound(request.parent());
  }
  audit::Entry entry =
      audit::Recorder::For(who, "transfers.list_member", request.parent(), member->org_path);
  absl::Status allowed = auth::AuthorizeOrHide(
      who, "read", {std::string(kTransfers), member->org_path, request.parent()},
      MemberNotFound(request.parent()), &entry.detail);
  if (!allowed.ok()) {
    audit_.Refuse(std::move(entry), allowed);
    return allowed;
  }
  TransferFilter filter{.member_id = id, .today = Today()};
  ASSIGN_OR_RETURN(pb::ListTransfersResponse page,
                   Page(filter, fingerprint, request.page_size(), request.page_token()));
  pb::ListMemberTransfersResponse out;
  out.mutable_transfers()->Swap(page.mutable_transfers());
  out.set_next_page_token(page.next_page_token());
  return out;
}

// --- decisions ---

struct TransferService::Decision {
  std::string_view action;  // audit action
  std::string_view name;
  std::string_view etag;
  int32_t to_state = 0;  // ACCEPTED (also a confirmed receipt), REJECTED, CANCELLED
  bool receipt = false;  // :confirmReceipt
  std::string reason;
  std::optional<time::CivilDate> receipt_date;
};

absl::StatusOr<pb::Transfer> TransferService::Decide(const auth::Principal& who,
                                                     const Decision& d) {
  ASSIGN_OR_RETURN(const int64_t id, rpc::ParseName(d.name, kTransfers, "name"));
  const time::CivilDate today = Today();
  audit::Entry entry = audit::Recorder::For(who, std::string(d.action), std::string(d.name), "/");
  TransferRow changed;
  RETURN_IF_ERROR(audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<TransferRow> found, TransferStore::Find(c, id, true));
    if (!found.has_value()) {
      return TransferNotFound(d.name);
    }
    TransferRow row = *std::move(found);
    const bool cancel = d.to_state == pb::TRANSFER_CANCELLED;
    // Who acts: the issuing side cancels (the receiving one for a letter from outside, which
    // it entered) and confirms an outbound receipt; the receiving side accepts and rejects.
    const bool by_receiver = cancel ? row.kind == pb::TRANSFER_INBOUND : !d.receipt;
    const std::string& acting = by_receiver ? row.to_path : row.from_path;
    const std::string& other = by_receiver ? row.from_path : row.to_path;
    const std::string right = cancel ? "cancel" : "accept";
    entry.org_path = acting.empty() ? other : acting;
    if (d.receipt && row.kind != pb::TRANSFER_OUTBOUND) {
      RETURN_IF_ERROR(ReadAccess(who, row, d.name));
      return rpc::InvalidArgument(
          {{"name",
            "only a transfer out of the system has a receipt to confirm; the receiving "
            "organization accepts the others"}});
    }
    if (!d.receipt && !cancel && row.kind == pb::TRANSFER_OUTBOUND) {
      RETURN_IF_ERROR(ReadAccess(who, row, d.name));
      return rpc::InvalidArgument(
          {{"name", "a transfer out of the system is closed by :confirmReceipt, or cancelled"}});
    }
    absl::Status allowed =
        auth::AuthorizeOrHide(who, right, At(acting, row), TransferNotFound(d.name), &entry.detail);
    if (allowed.code() == absl::StatusCode::kNotFound && !other.empty() &&
        auth::Authorize(who, "read", At(other, row)).ok()) {
      // The caller stands on the other side of the transfer: not theirs to decide.
      return rpc::InvalidArgument(
          {{"name",
            by_receiver
                ? absl::StrCat("only the receiving organization (",
                               rpc::FormatName(kOrganizations, row.to_org_id), ") may ",
                               right == "cancel" ? "cancel" : "accept or reject", " this transfer")
                : absl::StrCat("only the issuing organization (",
                               rpc::FormatName(kOrganizations, row.from_org_id), ") may ",
                               cancel ? "cancel" : "confirm the receipt of", " this transfer")}});
    }
    RETURN_IF_ERROR(allowed);
    if (!d.etag.empty() && d.etag != rpc::Etag(row.version)) {
      return TransferChanged(d.name);
    }
    const int32_t shown = Shown(row, today);
    if (row.state != pb::TRANSFER_PENDING) {
      return Precondition("TRANSFER_CLOSED",
                          absl::StrCat(AV(d.name), " is ", StateName(shown), " already"), "name",
                          absl::StrCat("is ", StateName(shown), ": only a pending transfer can be ",
                                       cancel ? "cancelled" : "decided"));
    }
    // An expired letter can still be withdrawn (to close it); a receipt dated within the
    // validity can be recorded after it, as receipts come back by post.
    if (shown == pb::TRANSFER_EXPIRED && !cancel && !d.receipt) {
      return Precondition(
          "TRANSFER_EXPIRED",
          absl::StrCat(AV(d.name), " expired after ", time::ToIso(row.expire_date)), "name",
          absl::StrCat("the letter was valid until ", time::ToIso(row.expire_date),
                       ": the issuing organization cancels it and issues a new one"));
    }
    if (d.receipt) {
      if (*d.receipt_date < row.issue_date || *d.receipt_date > row.expire_date) {
        return rpc::InvalidArgument(
            {{"receipt_date",
              absl::StrCat("must lie within the letter's validity (", time::ToIso(row.issue_date),
                           " to ", time::ToIso(row.expire_date), ")")}});
      }
      row.receipt_date = d.receipt_date;
      row.transferred_out = true;
    }
    const int64_t now = NowUs();
    if (row.member_id != 0 && d.to_state == pb::TRANSFER_ACCEPTED &&
        row.kind != pb::TRANSFER_INBOUND) {
      // The member moves (or leaves the system) now, with its event, or not at all.
      ASSIGN_OR_RETURN(std::optional<MemberRow> member,
                       MemberStore::Find(c, row.member_id, /*for_update=*/true));
      if (!member.has_value() || member->organization_id != row.from_org_id) {
        return Precondition("MEMBER_CHANGED",
                            absl::StrCat(MemberName(row), " is no longer in ",
                                         rpc::FormatName(kOrganizations, row.from_org_id)),
                            "name",
                            "the member's record no longer belongs to the issuing "
                            "organization: cancel this transfer");
      }
      if (MembershipEnded(member->status)) {
        return Precondition("MEMBERSHIP_ENDED",
                            absl::StrCat(MemberName(row), " is no longer a member"), "name",
                            "the membership has ended: cancel this transfer");
      }
      pb::MemberTransferred event;
      event.set_from_organization(rpc::FormatName(kOrganizations, row.from_org_id));
      if (row.kind == pb::TRANSFER_WITHIN) {
        const int64_t when = std::max(now, member->update_time_us + 1);
        ASSIGN_OR_RETURN(const bool moved,
                         MemberStore::Reassign(c, member->id, row.to_org_id, row.to_path,
                                               member->version, when));
        if (!moved) {
          return EtagMismatch(MemberName(row));
        }
        member->organization_id = row.to_org_id;
        member->org_path = row.to_path;
        member->version += 1;
        member->update_time_us = when;
        event.set_to_organization(rpc::FormatName(kOrganizations, row.to_org_id));
        *event.mutable_date() = time::ToProto(today);
      } else {
        // Out of the system: the record stays where it is, for the history, its status
        // TRANSFERRED_OUT from the date on the receipt (final: no dues, no pipeline after it).
        const int32_t from_status = member->status;
        member->status = pb::TRANSFERRED_OUT;
        member->status_date = *row.receipt_date;
        member->version += 1;
        member->update_time_us = std::max(now, member->update_time_us + 1);
        ASSIGN_OR_RETURN(const bool written, MemberStore::Update(c, *member, member->version - 1));
        if (!written) {
          return EtagMismatch(MemberName(row));
        }
        RETURN_IF_ERROR(MemberStore::AppendStatusChange(
            c, {.member_id = member->id,
                .from_status = from_status,
                .to_status = member->status,
                .date = *row.receipt_date,
                .reason = absl::StrCat("transferred to ", row.to_external_name),
                .recorded_by = who.subject,
                .record_time_us = member->update_time_us}));
        event.set_to_external(row.to_external_name);
        *event.mutable_date() = time::ToProto(*row.receipt_date);
      }
      *event.mutable_member() = Snapshot(*member);
      RETURN_IF_ERROR(PublishMemberEvent(c, ids_, *member, now, event));
    }
    row.state = d.to_state;
    row.decision_reason = d.reason;
    row.decision_date = today;
    row.version += 1;
    row.update_time_us = std::max(now, row.update_time_us + 1);
    ASSIGN_OR_RETURN(const bool written, TransferStore::UpdateState(c, row, row.version - 1));
    if (!written) {
      return TransferChanged(d.name);
    }
    entry.detail = absl::StrCat(MemberName(row), " ", StateName(row.state));
    changed = std::move(row);
    return absl::OkStatus();
  }));
  return ToProto(changed, today);
}

absl::StatusOr<pb::Transfer> TransferService::Accept(const auth::Principal& who,
                                                     const pb::AcceptTransferRequest& r) {
  return Decide(who, {.action = "transfers.accept",
                      .name = r.name(),
                      .etag = r.etag(),
                      .to_state = pb::TRANSFER_ACCEPTED});
}

absl::StatusOr<pb::Transfer> TransferService::Reject(const auth::Principal& who,
                                                     const pb::RejectTransferRequest& r) {
  Decision d{.action = "transfers.reject",
             .name = r.name(),
             .etag = r.etag(),
             .to_state = pb::TRANSFER_REJECTED};
  RETURN_IF_ERROR(TakeText(r.reason(), "reason", kMaxReasonChars, true, d.reason));
  return Decide(who, d);
}

absl::StatusOr<pb::Transfer> TransferService::Cancel(const auth::Principal& who,
                                                     const pb::CancelTransferRequest& r) {
  Decision d{.action = "transfers.cancel",
             .name = r.name(),
             .etag = r.etag(),
             .to_state = pb::TRANSFER_CANCELLED};
  RETURN_IF_ERROR(TakeText(r.reason(), "reason", kMaxReasonChars, false, d.reason));
  return Decide(who, d);
}

absl::StatusOr<pb::Transfer> TransferService::ConfirmReceipt(
    const auth::Principal& who, const pb::ConfirmTransferReceiptRequest& r) {
  if (!r.has_receipt_date()) {
    return rpc::InvalidArgument({{"receipt_date", "required: the date on the receipt (回执)"}});
  }
  ASSIGN_OR_RETURN(const time::CivilDate date, time::FromProto(r.receipt_date(), "receipt_date"));
  if (date > Today()) {
    return rpc::InvalidArgument({{"receipt_date", "must not be in the future"}});
  }
  return Decide(who, {.action = "transfers.confirm_receipt",
                      .name = r.name(),
                      .etag = r.etag(),
                      .to_state = pb::TRANSFER_ACCEPTED,
                      .receipt = true,
                      .receipt_date = date});
}

}  // namespace dj::member
