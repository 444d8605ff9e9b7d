// Dues handlers: validate, authorize on kind "dues" at the member's (or organization's) path,
// compute each member's months from their declarations, reductions and payments under the rule
// set in force month by month, write payments with their receipts, audit rows and DuesPaid
// events in one transaction.
#include "services/member/src/dues_service.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/audit/caller.h"
#include "common/auth/authorize.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/rpc/requests.h"
#include "common/rpc/text.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "dangjian/member/v1/dues.pb.h"
#include "google/protobuf/util/time_util.h"
#include "services/member/src/dues_ledger.h"
#include "services/member/src/member_access.h"
#include "services/member/src/member_export.h"
#include "services/member/src/member_validation.h"

namespace dj::member {

namespace pb = dangjian::member::v1;
using google::protobuf::util::TimeUtil;

namespace {

// A declaration may correct up to ten years back and announce a change a year ahead.
constexpr int32_t kMaxDeclareBackMonths = 120;
constexpr int32_t kMaxDeclareAheadMonths = 12;
constexpr int64_t kMaxBaseFen = 10'000'000'000;  // 100 million yuan a month: a typing error
constexpr int32_t kMaxReductionMonths = 120;
constexpr int64_t kMaxFixedFen = 10'000'000;
constexpr int kMaxBatch = 2000;  // members of one organization paid in one batch
constexpr int kMaxNoteChars = 200;
constexpr int kMaxPayerChars = 50;

absl::Status OrganizationNotFound(std::string_view name) {
  return rpc::Error(absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND",
                    absl::StrCat(AV(name), " does not exist"));
}

absl::Status MembershipEndedError(std::string_view name, const MemberRow& row) {
  return rpc::WithViolation(
      rpc::Error(
          absl::StatusCode::kFailedPrecondition, "MEMBERSHIP_ENDED",
          absl::StrCat(AV(name), ": the membership has ended (status ",
                       pb::MembershipStatus_Name(static_cast<pb::MembershipStatus>(row.status)),
                       ")")),
      {"parent", "the membership has ended"});
}

}  // namespace

namespace {
// What an idempotent create of a member's dues row (`Row` has member_id) does on a replay: the
// earlier row answers again if `who` still holds `action` on that member's dues.
template <typename Row>
std::function<absl::Status(db::Connection&, const Row&, audit::Entry&)> ReplayAuthorized(
    const auth::Principal& who, const std::string& name, std::string_view action) {
  return [&who, name, action](db::Connection& c, const Row& earlier,
                              audit::Entry& e) -> absl::Status {
    ASSIGN_OR_RETURN(const std::optional<MemberRow> m,
                     MemberStore::Find(c, earlier.member_id, false));
    if (!m.has_value()) {
      return MemberNotFound(name);
    }
    e.org_path = m->org_path;
    return auth::AuthorizeOrHide(who, action, DuesResource(*m), MemberNotFound(name), &e.detail);
  };
}
}  // namespace

// --- gRPC adapters ---

#define DJ_DUES_RPC(Method, Request, Response, Call) \
  DJ_GRPC_HANDLER(DuesService, Method, pb::Request, pb::Response, Call)

DJ_DUES_RPC(GetMemberDues, GetMemberDuesRequest, MemberDues, MemberDuesOf(who, *req))
DJ_DUES_RPC(DeclareDuesBase, DeclareDuesBaseRequest, DuesDeclaration, Declare(who, *req))
DJ_DUES_RPC(PayDues, PayDuesRequest, DuesPayment, Pay(who, *req))
DJ_DUES_RPC(CreateDuesReduction, CreateDuesReductionRequest, DuesReduction, Reduce(who, *req))
DJ_DUES_RPC(PayDuesMonth, PayDuesMonthRequest, PayDuesMonthResponse, PayMonth(who, *req))
DJ_DUES_RPC(GetDuesSheet, GetDuesSheetRequest, DuesSheet, Sheet(who, *req))
DJ_DUES_RPC(ExportDuesSheet, ExportDuesSheetRequest, ExportedFile, ExportSheet(who, *req))
DJ_DUES_RPC(ListArrears, ListArrearsRequest, ListArrearsResponse, Arrears(who, *req))

#undef DJ_DUES_RPC

DuesService::DuesService(db::Pool& pool, ids::IdGenerator& ids, const auth::InternalAuth& auth,
                         std::string audit_key, auth::OrgPathLookup org_paths,
                         MemberRuleBook& rules, std::function<int64_t()> now_us)
    : MemberHandlers(pool, ids, auth, std::move(audit_key), std::move(org_paths),
                     std::move(now_us)),
      rules_(rules) {}

DuesService::~DuesService() = default;

absl::StatusOr<int64_t> DuesService::MemberIdOf(const auth::Principal& who, std::string_view name,
                                                std::string_view field) const {
  constexpr std::string_view kSuffix = "/dues";
  if (!name.ends_with(kSuffix)) {
    return rpc::InvalidArgument({{std::string(field), "must be members/{id}/dues"}});
  }
  std::string_view member = name.substr(0, name.size() - kSuffix.size());
  if (member == "members/me") {
    if (who.member.empty()) {
      return rpc::Error(absl::StatusCode::kNotFound, "NO_MEMBER_RECORD",
                        "your account is not bound to a member record");
    }
    member = who.member;
  }
  return rpc::ParseName(member, kMembers, field);
}

absl::StatusOr<MemberRow> DuesService::LockDues(db::Connection& c, const auth::Principal& who,
                                                int64_t id, std::string_view action,
                                                audit::Entry& entry) {
  const std::string name = DuesName(id);
  ASSIGN_OR_RETURN(std::optional<MemberRow> row, MemberStore::Find(c, id, /*for_update=*/true));
  if (!row.has_value()) {
    return MemberNotFound(name);
  }
  entry.org_path = row->org_path;
  RETURN_IF_ERROR(
      auth::AuthorizeOrHide(who, action, DuesResource(*row), MemberNotFound(name), &entry.detail));
  return *std::move(row);
}

absl::StatusOr<std::string> DuesService::AuthorizeOrganization(const auth::Principal& who,
                                                               std::string_view name,
                                                               std::string_view action,
                                                               std::string_view audit_action) {
  ASSIGN_OR_RETURN(const std::string path, OrganizationPath(org_paths_, who, name, "organization"));
  audit::Entry entry =
      audit::Recorder::For(who, std::string(audit_action), std::string(name), path);
  absl::Status allowed = auth::AuthorizeOrHide(who, action, {std::string(kDues), path, ""},
                                               OrganizationNotFound(name), &entry.detail);
  if (!allowed.ok()) {
    audit_.Refuse(std::move(entry), allowed);
    return allowed;
  }
  return path;
}

// --- a member's dues ---

absl::StatusOr<pb::MemberDues> DuesService::MemberDuesOf(const auth::Principal& who,
                                                         const pb::GetMemberDuesRequest& request) {
  ASSIGN_OR_RETURN(const int64_t id, MemberIdOf(who, request.name(), "name"));
  const std::string name = DuesName(id);
  ASSIGN_OR_RETURN(const std::optional<MemberRow> row,
                   pool_.Run([&](db::Connection& c) { return MemberStore::Find(c, id, false); }));
  if (!row.has_value()) {
    return MemberNotFound(name);
  }
  audit::Entry entry = audit::Recorder::For(who, "dues.read", name, row->org_path);
  auth::CurrentPaths current(org_paths_);
  absl::Status allowed =
      auth::AuthorizeCopiedPath(who, "read", DuesResource(*row), row->organization_id,
                                MemberNotFound(name), &entry.detail, &current);
  if (!allowed.ok()) {
    audit_.Refuse(std::move(entry), allowed);
    return allowed;
  }
  ASSIGN_OR_RETURN(const std::vector<MemberRuleVersion> versions, rules_.Versions());
  const RulesByDate rules(versions);
  std::vector<DuesRecord> records;
  std::vector<PaymentRow> payments;
  RETURN_IF_ERROR(pool_.Run([&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(records, DuesStore::Records(c, {id}));
    ASSIGN_OR_RETURN(payments, DuesStore::MemberPayments(c, id));
    return absl::OkStatus();
  }));
  const Ledger ledger(*row, records.front());
  const YearMonth current_month = MonthOf(Today());

  pb::MemberDues out;
  out.set_name(name);
  out.set_member(rpc::FormatName(kMembers, id));
  out.set_display_name(row->display_name);
  out.set_organization(rpc::FormatName(kOrganizations, row->organization_id));
  out.set_category(static_cast<pb::MemberCategory>(row->category));
  out.set_current_month(ToText(current_month));
  for (const DeclarationRow& d : ledger.record().declarations) {
    *out.add_declarations() = DeclarationProto(d, rules);
  }
  for (const PaymentRow& p : payments) {
    *out.add_payments() = PaymentProto(p);
  }
  for (const ReductionRow& r : ledger.record().reductions) {
    *out.add_reductions() = ReductionProto(r);
  }
  std::vector<MonthDue> due;
  if (ledger.window().has_value()) {
    out.set_start_month(ToText(ledger.window()->start));
    if (ledger.window()->end.has_value()) {
      out.set_end_month(ToText(*ledger.window()->end));
    }
    due = ledger.Due(ledger.window()->start, current_month, rules);
  }
  // Months owed, and months paid outside them (paid before a change of window or reduction).
  std::set<YearMonth> shown;
  for (const MonthDue& d : due) {
    *out.add_months() = MonthProto(ledger, d);
    shown.insert(d.month);
  }
  for (const PaidMonthRow& p : ledger.record().paid) {
    if (!shown.contains(p.month)) {
      *out.add_months() = PaidOnlyProto(ledger, p.month);
    }
  }
  std::sort(out.mutable_months()->begin(), out.mutable_months()->end(),
            [](const pb::DuesMonth& a, const pb::DuesMonth& b) { return a.month() < b.month(); });
  // Arrears: months before the current one.
  std::vector<MonthDue> past;
  for (const MonthDue& d : due) {
    if (d.month < current_month) {
      past.push_back(d);
    }
  }
  *out.mutable_arrears() = ArrearsProto(ArrearsOf(past, ledger.paid()), past);
  return out;
}

absl::StatusOr<pb::DuesDeclaration> DuesService::Declare(const auth::Principal& who,
                                                         const pb::DeclareDuesBaseRequest& r) {
  ASSIGN_OR_RETURN(const int64_t id, MemberIdOf(who, r.parent(), "parent"));
  if (!r.has_declaration()) {
    return rpc::InvalidArgument({{"declaration", "required: from_month and base_fen"}});
  }
  const pb::DuesDeclaration& in = r.declaration();
  const YearMonth current = MonthOf(Today());
  std::vector<rpc::FieldViolation> violations;
  const std::optional<YearMonth> from =
      Month(in.from_month(), "declaration.from_month", violations);
  if (from.has_value() && MonthsBetween(*from, current) > kMaxDeclareBackMonths) {
    violations.push_back(
        {"declaration.from_month", absl::StrCat("must be at most ", kMaxDeclareBackMonths,
                                                " months before the current month")});
  }
  if (from.has_value() && MonthsBetween(current, *from) > kMaxDeclareAheadMonths) {
    violations.push_back(
        {"declaration.from_month", absl::StrCat("must be at most ", kMaxDeclareAheadMonths,
                                                " months after the current month")});
  }
  if (in.base_fen() < 0) {
    violations.push_back({"declaration.base_fen",
                          "must not be negative: the monthly after-tax income or pension in fen"});
  } else if (in.base_fen() > kMaxBaseFen) {
    violations.push_back({"declaration.base_fen", "is too large for a monthly income in fen"});
  }
  std::string note;
  if (absl::Status s = TakeText(in.note(), "declaration.note", kMaxNoteChars, false, note);
      !s.ok()) {
    for (rpc::FieldViolation& v : rpc::Violations(s)) {
      violations.push_back(std::move(v));
    }
  }
  if (!violations.empty()) {
    return rpc::InvalidArgument(std::move(violations));
  }
  const std::string name = DuesName(id);
  audit::Entry entry = audit::Recorder::For(who, "dues.declare", name, "/");
  DeclarationRow row;
  pb::DuesDeclaration out;
  RETURN_IF_ERROR(audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const MemberRow member, LockDues(c, who, id, "declare", entry));
    if (MembershipEnded(member.status)) {
      return MembershipEndedError(name, member);
    }
    // The income itself stays out of the audit row.
    entry.detail = absl::StrCat("from ", ToText(*from));
    row = {.member_id = id,
           .from = *from,
           .base_fen = in.base_fen(),
           .category = member.category,
           .note = note,
           .declared_by = who.subject,
           .declare_time_us = NowUs()};
    RETURN_IF_ERROR(DuesStore::Declare(c, row));
    ASSIGN_OR_RETURN(const std::vector<MemberRuleVersion> versions, rules_.Versions(&c));
    out = DeclarationProto(row, RulesByDate(versions));
    return absl::OkStatus();
  }));
  return out;
}

// --- payments ---

absl::StatusOr<pb::DuesPayment> DuesService::Pay(const auth::Principal& who,
                                                 const pb::PayDuesRequest& r) {
  ASSIGN_OR_RETURN(const int64_t id, MemberIdOf(who, r.parent(), "parent"));
  if (!r.has_payment()) {
    return rpc::InvalidArgument({{"payment", "required: months and amount_fen"}});
  }
  RETURN_IF_ERROR(rpc::ValidateRequestId(r.request_id()));
  const pb::DuesPayment& in = r.payment();
  std::vector<rpc::FieldViolation> violations;
  std::vector<YearMonth> months;
  for (const std::string& text : in.months()) {
    if (const std::optional<YearMonth> m = Month(text, "payment.months", violations);
        m.has_value()) {
      months.push_back(*m);
    }
  }
  if (in.months().empty()) {
    violations.push_back({"payment.months", "required: the months paid (\"2026-07\")"});
  }
  if (in.amount_fen() <= 0) {
    violations.push_back({"payment.amount_fen", "must be positive: the amount paid in fen"});
  }
  std::string payer;
  if (absl::Status s = TakeText(in.payer(), "payment.payer", kMaxPayerChars, false, payer);
      !s.ok()) {
    for (rpc::FieldViolation& v : rpc::Violations(s)) {
      violations.push_back(std::move(v));
    }
  }
  if (!violations.empty()) {
    return rpc::InvalidArgument(std::move(violations));
  }
  const std::string name = DuesName(id);
  const std::string request_id =
      r.request_id().empty() ? "" : auth::IdempotencyKey(who, r.request_id());
  audit::Entry entry = audit::Recorder::For(who, "dues.pay", name, "/");
  std::vector<YearMonth> sorted = months;
  std::sort(sorted.begin(), sorted.end());
  PaymentRow written;
  ASSIGN_OR_RETURN(
      const std::optional<PaymentRow> replay,
      rpc::CreateOnce<PaymentRow>(
          audit_, pool_, entry,
          {.request_id = request_id,
           .what = "payment",
           .request_id_index = kPaymentRequestIdIndex,
           .find = DuesStore::PaymentByRequestId,
           .replay = ReplayAuthorized<PaymentRow>(who, name, "pay"),
           .write = [&](db::Connection& c, audit::Entry& e) -> absl::Status {
             ASSIGN_OR_RETURN(const MemberRow member, LockDues(c, who, id, "pay", e));
             ASSIGN_OR_RETURN(const std::vector<MemberRuleVersion> versions, rules_.Versions(&c));
             const RulesByDate rules(versions);
             ASSIGN_OR_RETURN(const std::vector<DuesRecord> records, DuesStore::Records(c, {id}));
             const Ledger ledger(member, records.front());
             const time::CivilDate today = Today();
             RETURN_IF_ERROR(CheckPaymentMonths(rules.On(today), months, ledger.paid(),
                                                MonthOf(today), "payment.months"));
             std::vector<rpc::FieldViolation> owed;
             PaymentRow p;
             int64_t total = 0;
             for (const YearMonth& m : sorted) {
               const std::vector<MonthDue> due = ledger.Due(m, m, rules);
               const std::string text = ToText(m);
               if (due.empty()) {
                 owed.push_back(
                     {"payment.months", absl::StrCat(text,
                                                     ": no dues are owed for this month (before "
                                                     "the member's dues start, or after the "
                                                     "membership ended)")});
               } else if (due.front().base_missing) {
                 owed.push_back(
                     {"payment.months", absl::StrCat(text,
                                                     ": no base income is declared for this "
                                                     "month; declare it first")});
               } else if (due.front().due_fen == 0) {
                 owed.push_back(
                     {"payment.months", absl::StrCat(text, ": nothing is owed (exempt)")});
               } else {
                 total += due.front().due_fen;
                 p.months.emplace_back(m, due.front().due_fen);
               }
             }
             if (!owed.empty()) {
               return rpc::InvalidArgument(std::move(owed));
             }
             if (in.amount_fen() != total) {
               return rpc::InvalidArgument(
                   {{"payment.amount_fen",
                     absl::StrCat("must equal what the months owe: ", total, " fen")}});
             }
             p.id = ids_.Next();
             p.member_id = id;
             p.organization_id = member.organization_id;
             p.org_path = member.org_path;
             p.amount_fen = total;
             p.payer = payer;
             p.pay_date = today;
             p.receipt_number = Receipt(today, p.id);
             p.recorded_by = who.subject;
             p.create_time_us = NowUs();
             RETURN_IF_ERROR(DuesStore::InsertPayment(c, p, request_id));
             RETURN_IF_ERROR(PublishPaid(c, ids_, member, p, NowUs()));
             e.resource = absl::StrCat(name, "/payments/", p.id);
             // What a member pays hints at their income: the amount stays out of the audit row.
             e.detail = absl::StrCat(p.months.size(), " months");
             written = std::move(p);
             return absl::OkStatus();
           },
           .same =
               [&](const PaymentRow& earlier) {
                 if (earlier.member_id != id || earlier.amount_fen != in.amount_fen() ||
                     earlier.months.size() != sorted.size()) {
                   return false;
                 }
                 for (size_t i = 0; i < sorted.size(); ++i) {
                   if (earlier.months[i].first != sorted[i]) {
                     return false;
                   }
                 }
                 return true;
               }}));
  return PaymentProto(replay.has_value() ? *replay : written);
}

absl::StatusOr<pb::PayDuesMonthResponse> DuesService::PayMonth(const auth::Principal& who,
                                                               const pb::PayDuesMonthRequest& r) {
  ASSIGN_OR_RETURN(const int64_t org,
                   rpc::ParseName(r.organization(), kOrganizations, "organization"));
  RETURN_IF_ERROR(rpc::ValidateRequestId(r.request_id()));
  std::vector<rpc::FieldViolation> violations;
  const std::optional<YearMonth> month = Month(r.month(), "month", violations);
  if (r.amount_fen() <= 0) {
    violations.push_back({"amount_fen", "must be positive: the total collected in fen"});
  }
  std::string payer;
  if (absl::Status s = TakeText(r.payer(), "payer", kMaxPayerChars, false, payer); !s.ok()) {
    for (rpc::FieldViolation& v : rpc::Violations(s)) {
      violations.push_back(std::move(v));
    }
  }
  if (!violations.empty()) {
    return rpc::InvalidArgument(std::move(violations));
  }
  ASSIGN_OR_RETURN(const std::string path,
                   AuthorizeOrganization(who, r.organization(), "pay", "dues.pay_month"));
  const std::string request_id =
      r.request_id().empty() ? "" : auth::IdempotencyKey(who, r.request_id());
  const std::string org_name = rpc::FormatName(kOrganizations, org);
  audit::Entry entry = audit::Recorder::For(who, "dues.pay_month", org_name, path);
  BatchRow batch;
  std::vector<PaymentRow> paid;
  ASSIGN_OR_RETURN(
      const std::optional<BatchRow> replay,
      rpc::CreateOnce<BatchRow>(
          audit_, pool_, entry,
          {.request_id = request_id,
           .what = "batch",
           .request_id_index = kBatchRequestIdIndex,
           .find = DuesStore::BatchByRequestId,
           .replay = [&](db::Connection&, const BatchRow& earlier,
                         audit::Entry& e) -> absl::Status {
             e.org_path = earlier.org_path;
             return auth::AuthorizeOrHide(who, "pay", {std::string(kDues), earlier.org_path, ""},
                                          OrganizationNotFound(r.organization()), &e.detail);
           },
           .write = [&](db::Connection& c, audit::Entry& e) -> absl::Status {
             // Every member of the organization locked: nobody pays one of them meanwhile.
             ASSIGN_OR_RETURN(const DuesStore::MemberPage members,
                              DuesStore::Members(c, {.organization_id = org, .direct_only = true},
                                                 std::nullopt, std::nullopt, kMaxBatch + 1, true));
             if (members.rows.size() > static_cast<size_t>(kMaxBatch)) {
               return rpc::WithViolation(
                   rpc::Error(
                       absl::StatusCode::kFailedPrecondition, "BATCH_TOO_LARGE",
                       absl::StrCat("more than ", kMaxBatch, " members: pay them one by one")),
                   {"organization", "has too many members for one batch"});
             }
             ASSIGN_OR_RETURN(const std::vector<MemberRuleVersion> versions, rules_.Versions(&c));
             const RulesByDate rules(versions);
             std::vector<int64_t> ids;
             for (const MemberRow& m : members.rows) {
               ids.push_back(m.id);
             }
             ASSIGN_OR_RETURN(const std::vector<DuesRecord> records, DuesStore::Records(c, ids));
             const time::CivilDate today = Today();
             RETURN_IF_ERROR(
                 CheckPaymentMonths(rules.On(today), {*month}, {}, MonthOf(today), "month"));
             std::vector<std::string> missing;
             std::vector<std::pair<const MemberRow*, int64_t>> owing;
             int64_t total = 0;
             for (size_t i = 0; i < members.rows.size(); ++i) {
               const Ledger ledger(members.rows[i], records[i]);
               if (ledger.paid().contains(*month)) {
                 continue;
               }
               const std::vector<MonthDue> due = ledger.Due(*month, *month, rules);
               if (due.empty()) {
                 continue;
               }
               if (due.front().base_missing) {
                 missing.push_back(absl::StrCat(members.rows[i].display_name, " (",
                                                rpc::FormatName(kMembers, members.rows[i].id),
                                                ")"));
               } else if (due.front().due_fen > 0) {
                 owing.emplace_back(&members.rows[i], due.front().due_fen);
                 total += due.front().due_fen;
               }
             }
             const std::string text = ToText(*month);
             if (!missing.empty()) {
               return rpc::WithViolation(
                   rpc::Error(absl::StatusCode::kFailedPrecondition, "DUES_BASE_MISSING",
                              absl::StrCat("no base income is declared for ", text, " for ",
                                           missing.size(), " members; declare them first")),
                   {"month", absl::StrCat("no base income declared for ", text, ": ",
                                          absl::StrJoin(missing, ", "))});
             }
             if (owing.empty()) {
               return rpc::WithViolation(
                   rpc::Error(absl::StatusCode::kFailedPrecondition, "NOTHING_DUE",
                              absl::StrCat("no member of ", org_name, " owes ", text, " unpaid")),
                   {"month", "nothing is owed and unpaid for this month"});
             }
             if (r.amount_fen() != total) {
               return rpc::InvalidArgument(
                   {{"amount_fen", absl::StrCat("must equal what ", owing.size(),
                                                " members owe for ", text, ": ", total, " fen")}});
             }
             batch = {.id = ids_.Next(),
                      .organization_id = org,
                      .org_path = path,
                      .month = *month,
                      .amount_fen = total,
                      .member_count = static_cast<int32_t>(owing.size()),
                      .payer = payer,
                      .recorded_by = who.subject,
                      .create_time_us = NowUs()};
             RETURN_IF_ERROR(DuesStore::InsertBatch(c, batch, request_id));
             for (const auto& [member, due_fen] : owing) {
               PaymentRow p{.id = ids_.Next(),
                            .member_id = member->id,
                            .organization_id = member->organization_id,
                            .org_path = member->org_path,
                            .amount_fen = due_fen,
                            .payer = payer,
                            .pay_date = today,
                            .batch_id = batch.id,
                            .recorded_by = who.subject,
                            .create_time_us = batch.create_time_us,
                            .months = {{*month, due_fen}}};
               p.receipt_number = Receipt(today, p.id);
               RETURN_IF_ERROR(DuesStore::InsertPayment(c, p, ""));
               RETURN_IF_ERROR(PublishPaid(c, ids_, *member, p, NowUs()));
               paid.push_back(std::move(p));
             }
             e.resource = absl::StrCat(org_name, "/duesBatches/", batch.id);
             e.detail = absl::StrCat(text, ": ", owing.size(), " members, ", total, " fen");
             return absl::OkStatus();
           },
           .same =
               [&](const BatchRow& earlier) {
                 return earlier.organization_id == org && earlier.month == *month &&
                        earlier.amount_fen == r.amount_fen();
               }}));
  if (replay.has_value()) {
    batch = *replay;
    ASSIGN_OR_RETURN(
        paid, pool_.Run([&](db::Connection& c) { return DuesStore::BatchPayments(c, batch.id); }));
  }
  pb::PayDuesMonthResponse out;
  out.set_batch(absl::StrCat(rpc::FormatName(kOrganizations, batch.organization_id),
                             "/duesBatches/", batch.id));
  out.set_organization(rpc::FormatName(kOrganizations, batch.organization_id));
  out.set_month(ToText(batch.month));
  out.set_amount_fen(batch.amount_fen);
  for (const PaymentRow& p : paid) {
    *out.add_payments() = PaymentProto(p);
  }
  return out;
}

// --- reductions ---

absl::StatusOr<pb::DuesReduction> DuesService::Reduce(const auth::Principal& who,
                                                      const pb::CreateDuesReductionRequest& r) {
  ASSIGN_OR_RETURN(const int64_t id, MemberIdOf(who, r.parent(), "parent"));
  if (!r.has_reduction()) {
    return rpc::InvalidArgument({{"reduction", "required: from_month, to_month, reason"}});
  }
  RETURN_IF_ERROR(rpc::ValidateRequestId(r.request_id()));
  const pb::DuesReduction& in = r.reduction();
  std::vector<rpc::FieldViolation> violations;
  const std::optional<YearMonth> from = Month(in.from_month(), "reduction.from_month", violations);
  const std::optional<YearMonth> to = Month(in.to_month(), "reduction.to_month", violations);
  if (from.has_value() && to.has_value()) {
    if (*to < *from) {
      violations.push_back({"reduction.to_month", "must not be before from_month"});
    } else if (MonthsBetween(*from, *to) >= kMaxReductionMonths) {
      violations.push_back({"reduction.to_month", absl::StrCat("the span must be at most ",
                                                               kMaxReductionMonths, " months")});
    }
  }
  if (in.amount_fen() < 0 || in.amount_fen() > kMaxFixedFen) {
    violations.push_back(
        {"reduction.amount_fen", "must be the monthly amount owed instead, in fen, 0 to exempt"});
  }
  std::string reason;
  if (absl::Status s = TakeText(in.reason(), "reduction.reason", kMaxNoteChars, true, reason);
      !s.ok()) {
    for (rpc::FieldViolation& v : rpc::Violations(s)) {
      violations.push_back(std::move(v));
    }
  }
  if (!violations.empty()) {
    return rpc::InvalidArgument(std::move(violations));
  }
  const std::string name = DuesName(id);
  const std::string request_id =
      r.request_id().empty() ? "" : auth::IdempotencyKey(who, r.request_id());
  audit::Entry entry = audit::Recorder::For(who, "dues.reduce", name, "/");
  ReductionRow written;
  ASSIGN_OR_RETURN(
      const std::optional<ReductionRow> replay,
      rpc::CreateOnce<ReductionRow>(
          audit_, pool_, entry,
          {.request_id = request_id,
           .what = "reduction",
           .request_id_index = kReductionRequestIdIndex,
           .find = DuesStore::ReductionByRequestId,
           .replay = ReplayAuthorized<ReductionRow>(who, name, "approve"),
           .write = [&](db::Connection& c, audit::Entry& e) -> absl::Status {
             ASSIGN_OR_RETURN(const MemberRow member, LockDues(c, who, id, "approve", e));
             // Approval one level up: not by the member's own organization.
             if (who.scope_org != 0 && who.scope_org == member.organization_id) {
               e.detail = "NOT_PERMITTED";
               return rpc::Error(absl::StatusCode::kPermissionDenied, "APPROVAL_ONE_LEVEL_UP",
                                 "a reduction or exemption is approved one level above the "
                                 "member's own organization");
             }
             written = {.id = ids_.Next(),
                        .member_id = id,
                        .from = *from,
                        .to = *to,
                        .amount_fen = in.amount_fen(),
                        .reason = reason,
                        .approved_by = who.subject,
                        .create_time_us = NowUs()};
             RETURN_IF_ERROR(DuesStore::InsertReduction(c, written, request_id));
             e.resource = absl::StrCat(name, "/reductions/", written.id);
             e.detail = absl::StrCat(ToText(*from), "..", ToText(*to));
             return absl::OkStatus();
           },
           .same =
               [&](const ReductionRow& earlier) {
                 return earlier.member_id == id && earlier.from == *from && earlier.to == *to &&
                        earlier.amount_fen == in.amount_fen();
               }}));
  return ReductionProto(replay.has_value() ? *replay : written);
}

}  // namespace dj::member
