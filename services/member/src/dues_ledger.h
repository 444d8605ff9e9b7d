// One member's dues as the dues service computes them (internal to dues_service.cc and
// dues_reports.cc): which rule set a month is owed under, the months a member owes, what each
// owes and what is paid (Ledger), and the protos of months, arrears, payments, reductions and
// declarations. Plain C++ over the store's rows.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "dangjian/member/v1/dues.pb.h"
#include "google/protobuf/util/time_util.h"
#include "services/member/src/dues.h"
#include "services/member/src/dues_store.h"
#include "services/member/src/member_access.h"
#include "services/member/src/member_rules.h"

namespace dj::member {

namespace pb = dangjian::member::v1;
using google::protobuf::util::TimeUtil;

inline constexpr std::string_view kDues = "dues";
inline constexpr int kChunk = 500;  // members read at a time by the lists
inline constexpr int32_t kMaxThresholdMonths = 600;

// Collects what ParseYearMonth (or any check) says into `violations`; the value when valid.
inline std::optional<YearMonth> Month(std::string_view text, std::string_view field,
                                      std::vector<rpc::FieldViolation>& violations) {
  auto ym = ParseYearMonth(text, field);
  if (!ym.ok()) {
    for (rpc::FieldViolation& v : rpc::Violations(ym.status())) {
      violations.push_back(std::move(v));
    }
    return std::nullopt;
  }
  return *ym;
}

inline auth::Resource DuesResource(const MemberRow& row) {
  return {std::string(kDues), row.org_path, rpc::FormatName(kMembers, row.id)};
}

inline std::string DuesName(int64_t member_id) {
  return absl::StrCat("members/", member_id, "/dues");
}

inline std::string Receipt(const time::CivilDate& day, int64_t payment_id) {
  return absl::StrCat("DF", day.year, absl::Dec(day.month, absl::kZeroPad2),
                      absl::Dec(day.day, absl::kZeroPad2), "-", payment_id);
}

inline DuesCategory CategoryOf(int32_t category) {
  return category >= 1 && category <= 4 ? static_cast<DuesCategory>(category)
                                        : DuesCategory::kUnspecified;
}

// The versions of the member rule set read once for a request (newest first, the national
// default last), by the date they answer for.
class RulesByDate {
 public:
  explicit RulesByDate(std::vector<MemberRuleVersion> versions) : versions_(std::move(versions)) {}

  const DuesRules& On(const time::CivilDate& date) const {
    return rules::VersionOn(versions_, date).rules.dues;
  }
  // A month is owed under the rules in force on its first day.
  const DuesRules& InMonth(YearMonth m) const { return On({m.year, m.month, 1}); }

 private:
  std::vector<MemberRuleVersion> versions_;
};

// The months a member owes dues in: from `start` to `end` (none: still a member).
struct Window {
  YearMonth start;
  std::optional<YearMonth> end;
};

// One member's dues: what each month owes, what is paid. See the header for when dues are owed.
class Ledger {
 public:
  Ledger(const MemberRow& member, const DuesRecord& record) : member_(member), record_(record) {
    for (const DeclarationRow& d : record.declarations) {
      bases_.push_back({d.from, d.base_fen});
    }
    for (const ReductionRow& r : record.reductions) {
      reductions_.push_back({r.from, r.to, r.amount_fen});
    }
    for (const PaidMonthRow& p : record.paid) {
      paid_.insert(p.month);
      paid_rows_[p.month] = &p;
    }
    window_ = WindowOf();
  }

  const MemberRow& member() const { return member_; }
  const DuesRecord& record() const { return record_; }
  const std::optional<Window>& window() const { return window_; }
  const std::set<YearMonth>& paid() const { return paid_; }
  const std::vector<BaseDeclaration>& bases() const { return bases_; }
  const PaidMonthRow* PaidRow(YearMonth m) const {
    auto it = paid_rows_.find(m);
    return it == paid_rows_.end() ? nullptr : it->second;
  }

  // What the months of [from, to] inside the window owe, in month order. Each declaration's
  // months are owed under the category it was declared with; months before the first under the
  // member's current category.
  std::vector<MonthDue> Due(YearMonth from, YearMonth to, const RulesByDate& rules) const {
    std::vector<MonthDue> out;
    if (!window_.has_value()) {
      return out;
    }
    from = std::max(from, window_->start);
    if (window_->end.has_value()) {
      to = std::min(to, *window_->end);
    }
    const auto rules_for = [&rules](YearMonth m) -> const DuesRules& { return rules.InMonth(m); };
    const std::vector<DeclarationRow>& decls = record_.declarations;
    YearMonth start = from;
    for (size_t i = 0; i <= decls.size() && start <= to; ++i) {
      YearMonth end = i < decls.size() ? AddMonths(decls[i].from, -1) : to;
      end = std::min(end, to);
      if (start > end) {
        continue;
      }
      const DuesCategory category = CategoryOf(i == 0 ? member_.category : decls[i - 1].category);
      std::vector<MonthDue> part = DueMonths(start, end, category, rules_for, bases_, reductions_);
      out.insert(out.end(), part.begin(), part.end());
      start = AddMonths(end, 1);
    }
    return out;
  }

 private:
  std::optional<Window> WindowOf() const {
    if (member_.stage != pb::PROBATIONARY && member_.stage != pb::FULL) {
      return std::nullopt;
    }
    const std::optional<time::CivilDate>& joined =
        member_.join_date.has_value() ? member_.join_date : member_.full_member_date;
    if (!joined.has_value()) {
      return std::nullopt;
    }
    YearMonth begin = MonthOf(time::ShanghaiDate(member_.create_time_us / 1'000'000));
    if (!record_.declarations.empty()) {
      begin = std::min(begin, record_.declarations.front().from);  // by from month
    }
    Window w{.start = std::max(MonthOf(*joined), begin)};
    if ((MembershipEnded(member_.status)) && member_.status_date.has_value()) {
      w.end = AddMonths(MonthOf(*member_.status_date), -1);
      if (*w.end < w.start) {
        return std::nullopt;
      }
    }
    return w;
  }

  const MemberRow& member_;
  const DuesRecord& record_;
  std::vector<BaseDeclaration> bases_;
  std::vector<Reduction> reductions_;
  std::set<YearMonth> paid_;
  std::map<YearMonth, const PaidMonthRow*> paid_rows_;
  std::optional<Window> window_;
};

inline pb::DuesMonth MonthProto(const Ledger& ledger, const MonthDue& due) {
  pb::DuesMonth m;
  m.set_month(ToText(due.month));
  if (const std::optional<int64_t> base = BaseFor(ledger.bases(), due.month); base.has_value()) {
    m.set_base_fen(*base);
    m.set_has_base(true);
  }
  m.set_due_fen(due.due_fen);
  m.set_reduced(due.reduced);
  m.set_base_missing(due.base_missing);
  if (const PaidMonthRow* p = ledger.PaidRow(due.month); p != nullptr) {
    m.set_paid(true);
    m.set_paid_fen(p->due_fen);
    *m.mutable_pay_date() = time::ToProto(p->pay_date);
    m.set_receipt_number(p->receipt_number);
    m.set_payment(absl::StrCat(DuesName(p->member_id), "/payments/", p->payment_id));
    m.set_payer(p->payer);
  }
  return m;
}

// A month paid although nothing is owed in it now (the window or a reduction changed since).
inline pb::DuesMonth PaidOnlyProto(const Ledger& ledger, YearMonth month) {
  return MonthProto(ledger, {.month = month});
}

inline pb::DuesArrears ArrearsProto(const Arrears& a, const std::vector<MonthDue>& due) {
  pb::DuesArrears out;
  std::map<YearMonth, int64_t> owed;
  for (const MonthDue& d : due) {
    owed[d.month] = d.due_fen;
  }
  for (const YearMonth& m : a.unpaid) {
    pb::UnpaidMonth* u = out.add_months();
    u->set_month(ToText(m));
    u->set_due_fen(owed[m]);
  }
  out.set_unpaid_fen(a.unpaid_fen);
  out.set_consecutive_months(a.trailing_unpaid_months);
  return out;
}

inline pb::DuesPayment PaymentProto(const PaymentRow& p) {
  pb::DuesPayment out;
  out.set_name(absl::StrCat(DuesName(p.member_id), "/payments/", p.id));
  for (const auto& [month, due_fen] : p.months) {
    out.add_months(ToText(month));
  }
  out.set_amount_fen(p.amount_fen);
  out.set_payer(p.payer);
  out.set_receipt_number(p.receipt_number);
  *out.mutable_pay_date() = time::ToProto(p.pay_date);
  out.set_recorded_by(p.recorded_by);
  if (p.batch_id != 0) {
    out.set_batch(absl::StrCat(rpc::FormatName(kOrganizations, p.organization_id), "/duesBatches/",
                               p.batch_id));
  }
  out.set_organization(rpc::FormatName(kOrganizations, p.organization_id));
  *out.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(p.create_time_us);
  return out;
}

inline pb::DuesReduction ReductionProto(const ReductionRow& r) {
  pb::DuesReduction out;
  out.set_name(absl::StrCat(DuesName(r.member_id), "/reductions/", r.id));
  out.set_from_month(ToText(r.from));
  out.set_to_month(ToText(r.to));
  out.set_amount_fen(r.amount_fen);
  out.set_reason(r.reason);
  out.set_approved_by(r.approved_by);
  *out.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(r.create_time_us);
  return out;
}

inline pb::DuesDeclaration DeclarationProto(const DeclarationRow& d, const RulesByDate& rules) {
  pb::DuesDeclaration out;
  out.set_name(absl::StrCat(DuesName(d.member_id), "/declarations/", ToText(d.from)));
  out.set_from_month(ToText(d.from));
  out.set_base_fen(d.base_fen);
  out.set_category(static_cast<pb::MemberCategory>(d.category));
  out.set_monthly_fen(MonthlyDuesFen(rules.InMonth(d.from), CategoryOf(d.category), d.base_fen));
  out.set_note(d.note);
  out.set_declared_by(d.declared_by);
  *out.mutable_declare_time() = TimeUtil::MicrosecondsToTimestamp(d.declare_time_us);
  return out;
}

inline absl::Status PublishPaid(db::Connection& c, ids::IdGenerator& ids, const MemberRow& member,
                                const PaymentRow& p, int64_t now_us) {
  pb::DuesPaid event;
  *event.mutable_member() = Snapshot(member);
  for (const auto& [month, due_fen] : p.months) {
    event.add_months(ToText(month));
  }
  event.set_amount_fen(p.amount_fen);
  return PublishMemberEvent(c, ids, member, now_us, event);
}

}  // namespace dj::member
