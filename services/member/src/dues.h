// Party dues (党费, 中组部 2008 规定) as plain rules over months and integer fen: the amount for a
// declared base under a versioned rule set, what is due month by month, whether a payment may
// cover given months, and arrears. No SQL, no gRPC, so the bracket and month edges are tested
// alone.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/time/civil_date.h"

namespace dj::member {

// A calendar month: dues are owed, paid and reduced by whole months.
struct YearMonth {
  int32_t year = 0;
  int32_t month = 0;  // 1-12

  auto operator<=>(const YearMonth&) const = default;
};

YearMonth MonthOf(const time::CivilDate& date);
// Plain calendar arithmetic on a valid month (month 1-12); `n` may be negative
// (2026-12 + 1 = 2027-01, 2027-01 - 13 = 2025-12). No range check: ParseYearMonth is the gate
// for what users enter.
YearMonth AddMonths(YearMonth ym, int32_t n);
// to - from in months: 0 for the same month, negative when `to` is earlier.
int32_t MonthsBetween(YearMonth from, YearMonth to);
std::string ToText(YearMonth ym);  // "2026-07"
// Exactly "YYYY-MM" (7 characters, zero-padded month) between 1900-01 and 9999-12, or
// INVALID_ARGUMENT naming `field`. The text is not echoed in the error.
absl::StatusOr<YearMonth> ParseYearMonth(std::string_view text, std::string_view field);

enum class DuesCategory {
  kUnspecified = 0,
  kInService = 1,  // base: monthly after-tax regular income
  kRetired = 2,    // base: monthly pension
  kStudent = 3,    // fixed amount
  kOther = 4,      // unemployed, low-income, others: fixed amount
};

// One bracket: bases up to and including `up_to_fen` (0: no upper bound, only the last) pay
// `rate_basis_points` (1/100 of a percent: 0.5% = 50) of the WHOLE base (not progressive).
struct DuesBracket {
  int64_t up_to_fen = 0;
  int32_t rate_basis_points = 0;
};

// One version of the dues rules; a rule set version carries an effective date, kept by the caller.
struct DuesRules {
  std::vector<DuesBracket> in_service;  // national: <=300000 fen 0.5%, <=500000 1%,
                                        // <=1000000 1.5%, above 2%
  std::vector<DuesBracket> retired;     // national: <=500000 0.5%, above 1%
  int64_t student_fen = 20;             // students: 0.2 yuan a month
  int64_t other_fen = 20;               // unemployed, low-income, others: 0.2 yuan
  int32_t max_back_months = 6;          // a payment may cover at most this many months before
                                        // the current one
  int32_t arrears_alert_months = 6;     // consecutive unpaid months that put a member on the
                                        // committee's list
};

// Every violation at once, each naming "rule_set.dues.<field>" in snake_case
// ("rule_set.dues.in_service[1].up_to_fen", "rule_set.dues.retired[0].rate_basis_points",
// "rule_set.dues.student_fen", "rule_set.dues.max_back_months"): each table non-empty, bounds
// positive and strictly increasing, the last (and only the last) unbounded (0), rates 0-10000,
// fixed amounts 0-100000 fen, months 0-120.
absl::Status ValidateDuesRules(const DuesRules& rules);

// The monthly amount in fen for a declared monthly base (fen), rounded half-up to the fen:
// (base * bp + 5000) / 10000, computed without overflow for any int64 base. The bracket is the
// first whose bound is >= base (or unbounded). Students and others pay the fixed amount whatever
// the base. kUnspecified (request validation refuses it) owes 0. Defined on unvalidated rules too:
// a negative base counts as 0, a rate outside 0-10000 is clamped, an empty table owes 0 and a
// base above every bound takes the last bracket.
int64_t MonthlyDuesFen(const DuesRules& rules, DuesCategory category, int64_t base_fen);

// A declared base with the month it applies from (a salary change applies from the month it is
// paid).
struct BaseDeclaration {
  YearMonth from;
  int64_t base_fen = 0;
};
// The base in force in `month`: the declaration with the latest `from` <= month (declarations in
// any order; of two with the same `from`, the later in the vector, i.e. the correction, wins);
// nullopt when none applies yet.
std::optional<int64_t> BaseFor(const std::vector<BaseDeclaration>& bases, YearMonth month);

// An approved reduction or exemption for the months [from, to] (both included): the amount due
// becomes `amount_fen` (0 = exempt).
struct Reduction {
  YearMonth from;
  YearMonth to;
  int64_t amount_fen = 0;
};
struct MonthDue {
  YearMonth month;
  int64_t due_fen = 0;
  bool reduced = false;       // a reduction or exemption set the amount
  bool base_missing = false;  // in service or retired with no base declared yet: due_fen is 0
                              // until one is, so the month is not counted as arrears
};

// What is due month by month over [from, to] (both included; empty when from > to), in month
// order, for a member of `category`, with `rules_for(month)` giving the rule set version in force
// in that month, their base declarations and reductions. A reduction covering a month overrides
// the computed amount, and base_missing is then false since no base is needed; when several
// cover a month, the later in the vector wins. The caller bounds the span (one entry per month).
std::vector<MonthDue> DueMonths(YearMonth from, YearMonth to, DuesCategory category,
                                const std::function<const DuesRules&(YearMonth)>& rules_for,
                                const std::vector<BaseDeclaration>& bases,
                                const std::vector<Reduction>& reductions);

// Checks a payment covering `months` against what is paid already and the back-payment limit of
// `rules` (those in force in `current`). INVALID_ARGUMENT with one violation naming `field`
// ("payment.months") per offending month, each description giving the month ("2026-03") and the
// first of: in the future (after `current`), older than max_back_months before `current`
// (exactly max_back_months back is allowed), given twice, already paid. No months at all is a
// violation too. The ErrorInfo reason is that of the first violation: DUES_MONTHS_REQUIRED,
// DUES_MONTH_IN_FUTURE, DUES_MONTH_TOO_OLD, DUES_MONTH_DUPLICATE or DUES_MONTH_ALREADY_PAID.
absl::Status CheckPaymentMonths(const DuesRules& rules, const std::vector<YearMonth>& months,
                                const std::set<YearMonth>& paid, YearMonth current,
                                std::string_view field);

// Arrears over the months of `due` (as DueMonths gives them, in month order): the months with
// something due (due_fen > 0) and not paid, their total, and the run of consecutive unpaid due
// months ending at the last month of `due` (for the "6+ consecutive months without dues" list:
// compare with arrears_alert_months). The run stops at a paid month and at a month with nothing
// due (exempt, or no base declared), so only months a member certainly owed count.
struct Arrears {
  std::vector<YearMonth> unpaid;
  int64_t unpaid_fen = 0;
  int32_t trailing_unpaid_months = 0;
};
Arrears ArrearsOf(const std::vector<MonthDue>& due, const std::set<YearMonth>& paid);

// The national default rule set (version 0), for tests and as the shipped default.
DuesRules NationalDuesRules();

}  // namespace dj::member
