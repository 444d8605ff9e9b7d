// Party dues rules: brackets, months due, payment checks and arrears.
#include "services/member/src/dues.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"

namespace dj::member {
namespace {

constexpr int32_t kMaxRateBasisPoints = 10000;
constexpr int64_t kMaxFixedFen = 100000;
constexpr int32_t kMaxMonths = 120;

void ValidateBrackets(const std::vector<DuesBracket>& table, std::string_view name,
                      std::vector<rpc::FieldViolation>& v) {
  const std::string at = absl::StrCat("rule_set.dues.", AV(name));
  if (table.empty()) {
    v.push_back({at, "required: at least one bracket, the last with up_to_fen 0 (no upper bound)"});
    return;
  }
  int64_t previous = 0;
  for (size_t i = 0; i < table.size(); ++i) {
    const DuesBracket& b = table[i];
    const std::string item = absl::StrCat(at, "[", i, "]");
    const bool last = i + 1 == table.size();
    if (last) {
      if (b.up_to_fen != 0) {
        v.push_back(
            {absl::StrCat(item, ".up_to_fen"), "the last bracket must be unbounded: up_to_fen 0"});
      }
    } else if (b.up_to_fen <= 0) {
      v.push_back({absl::StrCat(item, ".up_to_fen"),
                   "must be a positive bound in fen; only the last bracket is unbounded (0)"});
    } else if (b.up_to_fen <= previous) {
      v.push_back({absl::StrCat(item, ".up_to_fen"),
                   absl::StrCat("must be greater than the bound of the bracket before (", previous,
                                " fen): bounds increase strictly")});
    }
    if (b.up_to_fen > previous) {
      previous = b.up_to_fen;
    }
    if (b.rate_basis_points < 0 || b.rate_basis_points > kMaxRateBasisPoints) {
      v.push_back({absl::StrCat(item, ".rate_basis_points"),
                   "must be between 0 and 10000 basis points (0.5% is 50)"});
    }
  }
}

void ValidateRange(int64_t value, int64_t max, std::string_view name, std::string_view unit,
                   std::vector<rpc::FieldViolation>& v) {
  if (value < 0 || value > max) {
    v.push_back({absl::StrCat("rule_set.dues.", AV(name)),
                 absl::StrCat("must be between 0 and ", max, " ", AV(unit))});
  }
}

// round(base * bp / 10000), half up, for base >= 0 and bp in 0..10000. Splitting the base keeps
// every intermediate within int64: q * bp <= base and r * bp < 10^8; the sum is the exact
// rounded result, which is at most the base.
int64_t ApplyRate(int64_t base, int32_t bp) {
  const int64_t q = base / kMaxRateBasisPoints;
  const int64_t r = base % kMaxRateBasisPoints;
  return q * bp + (r * bp + kMaxRateBasisPoints / 2) / kMaxRateBasisPoints;
}

int64_t FromTable(const std::vector<DuesBracket>& table, int64_t base) {
  if (table.empty()) {
    return 0;
  }
  auto it = std::find_if(table.begin(), table.end(), [&](const DuesBracket& b) {
    return b.up_to_fen == 0 || base <= b.up_to_fen;
  });
  const DuesBracket& b = it != table.end() ? *it : table.back();
  return ApplyRate(base, std::clamp(b.rate_basis_points, 0, kMaxRateBasisPoints));
}

bool NeedsBase(DuesCategory category) {
  return category == DuesCategory::kInService || category == DuesCategory::kRetired;
}

int64_t MonthIndex(YearMonth ym) { return int64_t{ym.year} * 12 + (ym.month - 1); }

}  // namespace

YearMonth MonthOf(const time::CivilDate& date) { return {date.year, date.month}; }

YearMonth AddMonths(YearMonth ym, int32_t n) {
  const int64_t index = MonthIndex(ym) + n;
  // Floor division, so that months before year 0 still land on 1-12.
  int64_t year = index / 12;
  int64_t month = index % 12;
  if (month < 0) {
    month += 12;
    --year;
  }
  return {static_cast<int32_t>(year), static_cast<int32_t>(month + 1)};
}

int32_t MonthsBetween(YearMonth from, YearMonth to) {
  return static_cast<int32_t>(MonthIndex(to) - MonthIndex(from));
}

std::string ToText(YearMonth ym) { return absl::StrFormat("%04d-%02d", ym.year, ym.month); }

absl::StatusOr<YearMonth> ParseYearMonth(std::string_view text, std::string_view field) {
  const auto invalid = [&] {
    return rpc::InvalidArgument(
        {{std::string(field), "must be a month as YYYY-MM between 1900-01 and 9999-12"}});
  };
  if (text.size() != 7 || text[4] != '-') {
    return invalid();
  }
  int32_t digits[6] = {};
  for (size_t i = 0, d = 0; i < text.size(); ++i) {
    if (i == 4) {
      continue;
    }
    if (text[i] < '0' || text[i] > '9') {
      return invalid();
    }
    digits[d++] = text[i] - '0';
  }
  const YearMonth ym{digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3],
                     digits[4] * 10 + digits[5]};
  if (ym.year < 1900 || ym.month < 1 || ym.month > 12) {
    return invalid();
  }
  return ym;
}

absl::Status ValidateDuesRules(const DuesRules& rules) {
  std::vector<rpc::FieldViolation> v;
  ValidateBrackets(rules.in_service, "in_service", v);
  ValidateBrackets(rules.retired, "retired", v);
  ValidateRange(rules.student_fen, kMaxFixedFen, "student_fen", "fen", v);
  ValidateRange(rules.other_fen, kMaxFixedFen, "other_fen", "fen", v);
  ValidateRange(rules.max_back_months, kMaxMonths, "max_back_months", "months", v);
  ValidateRange(rules.arrears_alert_months, kMaxMonths, "arrears_alert_months", "months", v);
  if (!v.empty()) {
    return rpc::InvalidArgument(std::move(v));
  }
  return absl::OkStatus();
}

int64_t MonthlyDuesFen(const DuesRules& rules, DuesCategory category, int64_t base_fen) {
  const int64_t base = std::max<int64_t>(base_fen, 0);
  switch (category) {
    case DuesCategory::kInService:
      return FromTable(rules.in_service, base);
    case DuesCategory::kRetired:
      return FromTable(rules.retired, base);
    case DuesCategory::kStudent:
      return rules.student_fen;
    case DuesCategory::kOther:
      return rules.other_fen;
    case DuesCategory::kUnspecified:
      break;
  }
  return 0;
}

std::optional<int64_t> BaseFor(const std::vector<BaseDeclaration>& bases, YearMonth month) {
  const BaseDeclaration* found = nullptr;
  for (const BaseDeclaration& b : bases) {
    if (b.from <= month && (found == nullptr || b.from >= found->from)) {
      found = &b;
    }
  }
  if (found == nullptr) {
    return std::nullopt;
  }
  return found->base_fen;
}

std::vector<MonthDue> DueMonths(YearMonth from, YearMonth to, DuesCategory category,
                                const std::function<const DuesRules&(YearMonth)>& rules_for,
                                const std::vector<BaseDeclaration>& bases,
                                const std::vector<Reduction>& reductions) {
  std::vector<MonthDue> out;
  if (from > to) {
    return out;
  }
  out.reserve(static_cast<size_t>(MonthsBetween(from, to)) + 1);
  for (YearMonth m = from; m <= to; m = AddMonths(m, 1)) {
    MonthDue due;
    due.month = m;
    const Reduction* reduction = nullptr;
    for (const Reduction& r : reductions) {
      if (r.from <= m && m <= r.to) {
        reduction = &r;
      }
    }
    if (reduction != nullptr) {
      due.due_fen = reduction->amount_fen;
      due.reduced = true;
    } else if (!NeedsBase(category)) {
      due.due_fen = MonthlyDuesFen(rules_for(m), category, 0);
    } else if (std::optional<int64_t> base = BaseFor(bases, m)) {
      due.due_fen = MonthlyDuesFen(rules_for(m), category, *base);
    } else {
      due.base_missing = true;
    }
    out.push_back(due);
  }
  return out;
}

absl::Status CheckPaymentMonths(const DuesRules& rules, const std::vector<YearMonth>& months,
                                const std::set<YearMonth>& paid, YearMonth current,
                                std::string_view field) {
  const std::string at(field);
  if (months.empty()) {
    return rpc::InvalidArgument({{at, "required: at least one month to pay for"}},
                                "DUES_MONTHS_REQUIRED");
  }
  std::vector<rpc::FieldViolation> v;
  std::string reason;
  const auto refuse = [&](std::string_view why, std::string description) {
    if (reason.empty()) {
      reason = std::string(why);
    }
    v.push_back({at, std::move(description)});
  };
  std::set<YearMonth> seen;
  for (const YearMonth& m : months) {
    const std::string text = ToText(m);
    const bool first_time = seen.insert(m).second;
    if (m > current) {
      refuse("DUES_MONTH_IN_FUTURE",
             absl::StrCat(text, " is in the future: dues may be paid up to ", ToText(current),
                          ", the current month"));
    } else if (MonthsBetween(m, current) > rules.max_back_months) {
      refuse("DUES_MONTH_TOO_OLD",
             absl::StrCat(text, " is more than ", rules.max_back_months,
                          " months before the current month: back payment reaches ",
                          ToText(AddMonths(current, -rules.max_back_months))));
    } else if (!first_time) {
      refuse("DUES_MONTH_DUPLICATE", absl::StrCat(text, " is given more than once"));
    } else if (paid.contains(m)) {
      refuse("DUES_MONTH_ALREADY_PAID", absl::StrCat(text, " is already paid"));
    }
  }
  if (!v.empty()) {
    return rpc::InvalidArgument(std::move(v), reason);
  }
  return absl::OkStatus();
}

Arrears ArrearsOf(const std::vector<MonthDue>& due, const std::set<YearMonth>& paid) {
  Arrears out;
  for (const MonthDue& d : due) {
    if (d.due_fen > 0 && !paid.contains(d.month)) {
      out.unpaid.push_back(d.month);
      out.unpaid_fen += d.due_fen;
    }
  }
  // The run walks back from the last month and needs each month to follow the one before it, so
  // a gap in `due` ends it as a paid month would.
  for (auto it = due.rbegin(); it != due.rend(); ++it) {
    if (it->due_fen <= 0 || paid.contains(it->month)) {
      break;
    }
    if (it != due.rbegin() && MonthsBetween(it->month, std::prev(it)->month) != 1) {
      break;
    }
    ++out.trailing_unpaid_months;
  }
  return out;
}

DuesRules NationalDuesRules() {
  DuesRules r;
  r.in_service = {{300000, 50}, {500000, 100}, {1000000, 150}, {0, 200}};
  r.retired = {{500000, 50}, {0, 100}};
  r.student_fen = 20;
  r.other_fen = 20;
  r.max_back_months = 6;
  r.arrears_alert_months = 6;
  return r;
}

}  // namespace dj::member
