// Party dues at the edges: bracket bounds to the fen, rounding half-up at .5 fen, huge bases,
// months across year ends, salary and rule changes mid-year, reductions, the back-payment limit
// and the trailing run of unpaid months.
#include "services/member/src/dues.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/rpc/errors.h"
#include "gtest/gtest.h"

namespace dj::member {
namespace {

std::vector<std::string> Texts(const std::vector<YearMonth>& months) {
  std::vector<std::string> out;
  for (const YearMonth& m : months) {
    out.push_back(ToText(m));
  }
  return out;
}

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> out;
  for (const rpc::FieldViolation& v : rpc::Violations(status)) {
    out.push_back(v.field);
  }
  return out;
}

struct AmountCase {
  int64_t base_fen;
  int64_t want_fen;
};

TEST(DuesTest, InServiceBracketsToTheFen) {
  const DuesRules rules = NationalDuesRules();
  const std::vector<AmountCase> cases = {
      {0, 0},            // base 0
      {1, 0},            // 0.005 fen
      {99, 0},           // 0.495 fen
      {100, 1},          // 0.5 fen rounds up
      {299999, 1500},    // 1499.995 fen
      {300000, 1500},    // 3000.00 yuan: 0.5%
      {300001, 3000},    // 3000.01 yuan: 1% of the whole base, 3000.01 fen
      {300050, 3001},    // 3000.5 fen rounds up
      {500000, 5000},    // 5000.00 yuan: 1%
      {500001, 7500},    // 5000.01 yuan: 1.5%, 7500.015 fen
      {500100, 7502},    // 7501.5 fen rounds up
      {1000000, 15000},  // 10000.00 yuan: 1.5%
      {1000001, 20000},  // 10000.01 yuan: 2%, 20000.02 fen
      {1000025, 20001},  // 20000.5 fen rounds up
      {-100, 0},         // a negative base counts as 0
  };
  for (const AmountCase& c : cases) {
    EXPECT_EQ(MonthlyDuesFen(rules, DuesCategory::kInService, c.base_fen), c.want_fen)
        << c.base_fen;
  }
}

TEST(DuesTest, RetiredBracketsToTheFen) {
  const DuesRules rules = NationalDuesRules();
  const std::vector<AmountCase> cases = {
      {0, 0},            // base 0
      {100, 1},          // 0.5 fen rounds up
      {500000, 2500},    // 5000.00 yuan: 0.5%
      {500001, 5000},    // 5000.01 yuan: 1%, 5000.01 fen
      {500050, 5001},    // 5000.5 fen rounds up
      {1000001, 10000},  // 1%
  };
  for (const AmountCase& c : cases) {
    EXPECT_EQ(MonthlyDuesFen(rules, DuesCategory::kRetired, c.base_fen), c.want_fen) << c.base_fen;
  }
}

TEST(DuesTest, HugeBasesDoNotOverflow) {
  const DuesRules rules = NationalDuesRules();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(MonthlyDuesFen(rules, DuesCategory::kInService, 1'000'000'000'000), 20'000'000'000);
  EXPECT_EQ(MonthlyDuesFen(rules, DuesCategory::kInService, 1'000'000'000'025), 20'000'000'001);
  EXPECT_EQ(MonthlyDuesFen(rules, DuesCategory::kRetired, 1'000'000'000'050), 10'000'000'001);
  // 2% of 9223372036854775807 is 184467440737095516.14.
  EXPECT_EQ(MonthlyDuesFen(rules, DuesCategory::kInService, kMax), 184467440737095516);
  DuesRules all;
  all.in_service = {{0, 10000}};
  EXPECT_EQ(MonthlyDuesFen(all, DuesCategory::kInService, kMax), kMax);
  EXPECT_EQ(MonthlyDuesFen(all, DuesCategory::kInService, kMax - 1), kMax - 1);
}

TEST(DuesTest, FixedAmountsIgnoreTheBase) {
  DuesRules rules = NationalDuesRules();
  for (int64_t base : {int64_t{0}, int64_t{300001}, int64_t{1'000'000'000'000}}) {
    EXPECT_EQ(MonthlyDuesFen(rules, DuesCategory::kStudent, base), 20) << base;
    EXPECT_EQ(MonthlyDuesFen(rules, DuesCategory::kOther, base), 20) << base;
    EXPECT_EQ(MonthlyDuesFen(rules, DuesCategory::kUnspecified, base), 0) << base;
  }
  rules.student_fen = 50;
  rules.other_fen = 100;
  EXPECT_EQ(MonthlyDuesFen(rules, DuesCategory::kStudent, 0), 50);
  EXPECT_EQ(MonthlyDuesFen(rules, DuesCategory::kOther, 0), 100);
}

TEST(DuesTest, MonthArithmeticAcrossYearEnds) {
  struct Case {
    YearMonth from;
    int32_t n;
    std::string want;
  };
  const std::vector<Case> cases = {
      {{2026, 12}, 1, "2027-01"},       {{2027, 1}, -1, "2026-12"},  {{2027, 1}, -13, "2025-12"},
      {{2026, 1}, -12, "2025-01"},      {{2026, 7}, 0, "2026-07"},   {{2026, 3}, 22, "2028-01"},
      {{2026, 12}, 12, "2027-12"},      {{2026, 12}, 13, "2028-01"}, {{1, 1}, -1, "0000-12"},
      {{9999, 12}, -119999, "0000-01"},
  };
  for (const Case& c : cases) {
    const YearMonth got = AddMonths(c.from, c.n);
    EXPECT_EQ(ToText(got), c.want) << ToText(c.from) << " + " << c.n;
    EXPECT_EQ(MonthsBetween(c.from, got), c.n) << ToText(c.from) << " + " << c.n;
  }
  EXPECT_EQ(MonthsBetween({2026, 12}, {2027, 1}), 1);
  EXPECT_EQ(MonthsBetween({2027, 1}, {2026, 12}), -1);
  EXPECT_EQ(MonthsBetween({2025, 12}, {2027, 1}), 13);
  EXPECT_EQ(MonthsBetween({2026, 7}, {2026, 7}), 0);
  for (int32_t n = -30; n <= 30; ++n) {
    EXPECT_EQ(MonthsBetween({2026, 7}, AddMonths({2026, 7}, n)), n) << n;
    EXPECT_EQ(AddMonths(AddMonths({2026, 7}, n), -n), (YearMonth{2026, 7})) << n;
  }
  EXPECT_EQ(ToText(MonthOf({2026, 7, 31})), "2026-07");
  EXPECT_EQ(ToText(MonthOf({2024, 2, 29})), "2024-02");
  EXPECT_LT((YearMonth{2026, 12}), (YearMonth{2027, 1}));
}

TEST(DuesTest, ParseYearMonth) {
  struct Good {
    std::string text;
    YearMonth want;
  };
  for (const Good& g : std::vector<Good>{{"2026-07", {2026, 7}},
                                         {"1900-01", {1900, 1}},
                                         {"9999-12", {9999, 12}},
                                         {"2026-12", {2026, 12}}}) {
    auto got = ParseYearMonth(g.text, "payment.months");
    ASSERT_TRUE(got.ok()) << g.text << ": " << got.status();
    EXPECT_EQ(*got, g.want) << g.text;
    EXPECT_EQ(ToText(*got), g.text);
  }
  for (const char* text :
       {"", "1899-12", "0000-01", "2026-13", "2026-00", "2026-7", "2026-007", "26-07", "2026/07",
        "202607", "2026-07-01", "20a6-07", "2026-0a", " 2026-07", "2026-07 ", "+026-07", "-026-07",
        "2026--7", "２０２６-07"}) {
    auto got = ParseYearMonth(text, "payment.months");
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(Fields(got.status()), std::vector<std::string>{"payment.months"}) << text;
  }
  // The text is not echoed back.
  auto bad = ParseYearMonth("2026-13", "x");
  EXPECT_EQ(rpc::Violations(bad.status()).at(0).description.find("2026-13"), std::string::npos);
}

TEST(DuesTest, BaseForTakesTheLatestDeclarationInForce) {
  const std::vector<BaseDeclaration> bases = {
      {{2026, 7}, 1200000}, {{2025, 1}, 500000}, {{2026, 1}, 800000}};
  EXPECT_FALSE(BaseFor(bases, {2024, 12}).has_value());
  EXPECT_EQ(BaseFor(bases, {2025, 1}), 500000);
  EXPECT_EQ(BaseFor(bases, {2025, 12}), 500000);
  EXPECT_EQ(BaseFor(bases, {2026, 1}), 800000);
  EXPECT_EQ(BaseFor(bases, {2026, 6}), 800000);
  EXPECT_EQ(BaseFor(bases, {2026, 7}), 1200000);
  EXPECT_EQ(BaseFor(bases, {2030, 1}), 1200000);
  EXPECT_FALSE(BaseFor({}, {2026, 1}).has_value());
  // Two declarations for the same month: the later one (a correction) wins.
  EXPECT_EQ(BaseFor({{{2026, 1}, 100}, {{2026, 1}, 200}}, {2026, 3}), 200);
}

TEST(DuesTest, SalaryChangeMidYear) {
  const DuesRules rules = NationalDuesRules();
  const auto rules_for = [&](YearMonth) -> const DuesRules& { return rules; };
  // Declared out of order: 12000 yuan from July, 8000 yuan from January.
  const std::vector<MonthDue> due =
      DueMonths({2026, 1}, {2026, 12}, DuesCategory::kInService, rules_for,
                {{{2026, 7}, 1200000}, {{2026, 1}, 800000}}, {});
  ASSERT_EQ(due.size(), 12u);
  for (int32_t i = 0; i < 12; ++i) {
    EXPECT_EQ(due[i].month, (YearMonth{2026, i + 1}));
    EXPECT_EQ(due[i].due_fen, i < 6 ? 12000 : 24000) << ToText(due[i].month);  // 1.5%, then 2%
    EXPECT_FALSE(due[i].reduced);
    EXPECT_FALSE(due[i].base_missing);
  }
}

TEST(DuesTest, RuleSetChangesInJuly) {
  const DuesRules v0 = NationalDuesRules();
  DuesRules v1 = NationalDuesRules();
  v1.in_service.back().rate_basis_points = 300;
  v1.student_fen = 50;
  const auto rules_for = [&](YearMonth m) -> const DuesRules& {
    return m < YearMonth{2026, 7} ? v0 : v1;
  };
  const std::vector<MonthDue> serving = DueMonths({2026, 5}, {2026, 8}, DuesCategory::kInService,
                                                  rules_for, {{{2026, 1}, 1200000}}, {});
  ASSERT_EQ(serving.size(), 4u);
  EXPECT_EQ(serving[0].due_fen, 24000);
  EXPECT_EQ(serving[1].due_fen, 24000);
  EXPECT_EQ(serving[2].due_fen, 36000);
  EXPECT_EQ(serving[3].due_fen, 36000);
  const std::vector<MonthDue> student =
      DueMonths({2026, 6}, {2026, 7}, DuesCategory::kStudent, rules_for, {}, {});
  ASSERT_EQ(student.size(), 2u);
  EXPECT_EQ(student[0].due_fen, 20);
  EXPECT_EQ(student[1].due_fen, 50);
  EXPECT_FALSE(student[0].base_missing);  // students need no base
}

TEST(DuesTest, ReductionsAndExemptionsInsideASpan) {
  const DuesRules rules = NationalDuesRules();
  const auto rules_for = [&](YearMonth) -> const DuesRules& { return rules; };
  const std::vector<Reduction> reductions = {
      {{2026, 3}, {2026, 4}, 1000},  // reduced
      {{2026, 9}, {2026, 9}, 0},     // exempt
      {{2026, 11}, {2027, 2}, 500},  // across the year end
      {{2027, 1}, {2027, 1}, 0},     // a later approval overrides the overlapping one
  };
  const std::vector<MonthDue> due = DueMonths({2026, 1}, {2027, 3}, DuesCategory::kInService,
                                              rules_for, {{{2026, 1}, 800000}}, reductions);
  ASSERT_EQ(due.size(), 15u);
  struct Want {
    int64_t fen;
    bool reduced;
  };
  const std::vector<Want> want = {
      {12000, false}, {12000, false}, {1000, true},   {1000, true}, {12000, false},
      {12000, false}, {12000, false}, {12000, false}, {0, true},    {12000, false},
      {500, true},    {500, true},    {0, true},      {500, true},  {12000, false},
  };
  for (size_t i = 0; i < due.size(); ++i) {
    EXPECT_EQ(due[i].month, AddMonths({2026, 1}, static_cast<int32_t>(i)));
    EXPECT_EQ(due[i].due_fen, want[i].fen) << ToText(due[i].month);
    EXPECT_EQ(due[i].reduced, want[i].reduced) << ToText(due[i].month);
  }
}

TEST(DuesTest, MonthsWithoutABase) {
  const DuesRules rules = NationalDuesRules();
  const auto rules_for = [&](YearMonth) -> const DuesRules& { return rules; };
  const std::vector<MonthDue> due =
      DueMonths({2026, 1}, {2026, 5}, DuesCategory::kRetired, rules_for, {{{2026, 4}, 500001}},
                {{{2026, 2}, {2026, 2}, 300}});
  ASSERT_EQ(due.size(), 5u);
  EXPECT_TRUE(due[0].base_missing);
  EXPECT_EQ(due[0].due_fen, 0);
  EXPECT_FALSE(due[1].base_missing);  // the reduction sets the amount; no base is needed
  EXPECT_EQ(due[1].due_fen, 300);
  EXPECT_TRUE(due[2].base_missing);
  EXPECT_FALSE(due[3].base_missing);
  EXPECT_EQ(due[3].due_fen, 5000);
  EXPECT_EQ(due[4].due_fen, 5000);
}

TEST(DuesTest, DueMonthsSpans) {
  const DuesRules rules = NationalDuesRules();
  const auto rules_for = [&](YearMonth) -> const DuesRules& { return rules; };
  EXPECT_TRUE(DueMonths({2026, 2}, {2026, 1}, DuesCategory::kOther, rules_for, {}, {}).empty());
  std::vector<YearMonth> months;
  for (const MonthDue& d :
       DueMonths({2026, 11}, {2027, 2}, DuesCategory::kOther, rules_for, {}, {})) {
    months.push_back(d.month);
    EXPECT_EQ(d.due_fen, 20);
  }
  EXPECT_EQ(Texts(months), (std::vector<std::string>{"2026-11", "2026-12", "2027-01", "2027-02"}));
  EXPECT_EQ(DueMonths({2026, 7}, {2026, 7}, DuesCategory::kOther, rules_for, {}, {}).size(), 1u);
}

TEST(DuesTest, CheckPaymentMonths) {
  const DuesRules rules = NationalDuesRules();  // 6 months back
  const std::set<YearMonth> paid = {{2026, 3}};
  struct Case {
    std::string name;
    std::vector<YearMonth> months;
    YearMonth current;
    std::string reason;               // "" when accepted
    std::vector<std::string> quoted;  // months the descriptions name, in order
  };
  const std::vector<Case> cases = {
      {"current month", {{2026, 7}}, {2026, 7}, "", {}},
      {"exactly 6 back", {{2026, 1}}, {2026, 7}, "", {}},
      {"several unpaid", {{2026, 1}, {2026, 2}, {2026, 4}, {2026, 7}}, {2026, 7}, "", {}},
      {"7 back", {{2025, 12}}, {2026, 7}, "DUES_MONTH_TOO_OLD", {"2025-12"}},
      {"6 back across the year end", {{2025, 9}}, {2026, 3}, "", {}},
      {"7 back across the year end", {{2025, 8}}, {2026, 3}, "DUES_MONTH_TOO_OLD", {"2025-08"}},
      {"next month", {{2026, 8}}, {2026, 7}, "DUES_MONTH_IN_FUTURE", {"2026-08"}},
      {"next year", {{2027, 1}}, {2026, 12}, "DUES_MONTH_IN_FUTURE", {"2027-01"}},
      {"duplicate", {{2026, 5}, {2026, 5}}, {2026, 7}, "DUES_MONTH_DUPLICATE", {"2026-05"}},
      {"already paid", {{2026, 3}}, {2026, 7}, "DUES_MONTH_ALREADY_PAID", {"2026-03"}},
      {"none", {}, {2026, 7}, "DUES_MONTHS_REQUIRED", {}},
      {"every offending month",
       {{2026, 4}, {2026, 3}, {2026, 8}, {2025, 1}},
       {2026, 7},
       "DUES_MONTH_ALREADY_PAID",
       {"2026-03", "2026-08", "2025-01"}},
  };
  for (const Case& c : cases) {
    const absl::Status s = CheckPaymentMonths(rules, c.months, paid, c.current, "payment.months");
    if (c.reason.empty()) {
      EXPECT_TRUE(s.ok()) << c.name << ": " << s;
      continue;
    }
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(rpc::Reason(s), c.reason) << c.name;
    const std::vector<rpc::FieldViolation> v = rpc::Violations(s);
    ASSERT_EQ(v.size(), std::max<size_t>(c.quoted.size(), 1)) << c.name;
    for (size_t i = 0; i < c.quoted.size(); ++i) {
      EXPECT_EQ(v[i].field, "payment.months") << c.name;
      EXPECT_NE(v[i].description.find(c.quoted[i]), std::string::npos)
          << c.name << ": " << v[i].description;
    }
  }
  // No back payment at all: only the current month.
  DuesRules strict = rules;
  strict.max_back_months = 0;
  EXPECT_TRUE(CheckPaymentMonths(strict, {{2026, 7}}, {}, {2026, 7}, "payment.months").ok());
  EXPECT_EQ(rpc::Reason(CheckPaymentMonths(strict, {{2026, 6}}, {}, {2026, 7}, "payment.months")),
            "DUES_MONTH_TOO_OLD");
}

std::vector<MonthDue> Due(YearMonth from, const std::vector<int64_t>& fen) {
  std::vector<MonthDue> out;
  for (size_t i = 0; i < fen.size(); ++i) {
    MonthDue d;
    d.month = AddMonths(from, static_cast<int32_t>(i));
    d.due_fen = fen[i];
    out.push_back(d);
  }
  return out;
}

TEST(DuesTest, ArrearsWithGapsAndTheTrailingRun) {
  const std::vector<MonthDue> nine = Due({2026, 1}, std::vector<int64_t>(9, 1500));
  {
    // Paid in March: the run counts April-September.
    const Arrears a = ArrearsOf(nine, {{2026, 3}});
    EXPECT_EQ(Texts(a.unpaid),
              (std::vector<std::string>{"2026-01", "2026-02", "2026-04", "2026-05", "2026-06",
                                        "2026-07", "2026-08", "2026-09"}));
    EXPECT_EQ(a.unpaid_fen, 8 * 1500);
    EXPECT_EQ(a.trailing_unpaid_months, 6);
  }
  {
    const Arrears a = ArrearsOf(nine, {});
    EXPECT_EQ(a.unpaid.size(), 9u);
    EXPECT_EQ(a.trailing_unpaid_months, 9);
  }
  {
    // The last month paid: no run, though earlier months are owed.
    const Arrears a = ArrearsOf(nine, {{2026, 9}, {2026, 4}});
    EXPECT_EQ(a.unpaid.size(), 7u);
    EXPECT_EQ(a.trailing_unpaid_months, 0);
  }
  {
    // Everything paid.
    std::set<YearMonth> all;
    for (const MonthDue& d : nine) {
      all.insert(d.month);
    }
    const Arrears a = ArrearsOf(nine, all);
    EXPECT_TRUE(a.unpaid.empty());
    EXPECT_EQ(a.unpaid_fen, 0);
    EXPECT_EQ(a.trailing_unpaid_months, 0);
  }
  {
    // An exempt month (nothing due) is no arrears and ends the run; across the year end.
    const Arrears a = ArrearsOf(Due({2025, 10}, {1500, 1500, 0, 20, 20, 3000}), {});
    EXPECT_EQ(Texts(a.unpaid),
              (std::vector<std::string>{"2025-10", "2025-11", "2026-01", "2026-02", "2026-03"}));
    EXPECT_EQ(a.unpaid_fen, 1500 + 1500 + 20 + 20 + 3000);
    EXPECT_EQ(a.trailing_unpaid_months, 3);
  }
  {
    // A gap in the months given ends the run like a paid month.
    std::vector<MonthDue> gap = Due({2026, 1}, {100, 100});
    const std::vector<MonthDue> later = Due({2026, 5}, {100, 100});
    gap.insert(gap.end(), later.begin(), later.end());
    const Arrears a = ArrearsOf(gap, {});
    EXPECT_EQ(a.unpaid.size(), 4u);
    EXPECT_EQ(a.trailing_unpaid_months, 2);
  }
  const Arrears none = ArrearsOf({}, {});
  EXPECT_TRUE(none.unpaid.empty());
  EXPECT_EQ(none.trailing_unpaid_months, 0);
}

TEST(DuesTest, ArrearsFromDueMonthsReachTheAlert) {
  const DuesRules rules = NationalDuesRules();
  const auto rules_for = [&](YearMonth) -> const DuesRules& { return rules; };
  const std::vector<MonthDue> due = DueMonths({2025, 7}, {2026, 6}, DuesCategory::kInService,
                                              rules_for, {{{2025, 1}, 300000}}, {});
  const Arrears a =
      ArrearsOf(due, {{2025, 7}, {2025, 8}, {2025, 9}, {2025, 10}, {2025, 11}, {2025, 12}});
  EXPECT_EQ(a.unpaid_fen, 6 * 1500);
  EXPECT_EQ(a.trailing_unpaid_months, 6);
  EXPECT_GE(a.trailing_unpaid_months, rules.arrears_alert_months);
}

TEST(DuesTest, NationalRulesAreValid) {
  EXPECT_TRUE(ValidateDuesRules(NationalDuesRules()).ok());
  DuesRules single = NationalDuesRules();
  single.in_service = {{0, 100}};
  single.retired = {{0, 0}};
  single.student_fen = 100000;
  single.other_fen = 0;
  single.max_back_months = 120;
  single.arrears_alert_months = 0;
  EXPECT_TRUE(ValidateDuesRules(single).ok()) << ValidateDuesRules(single);
}

TEST(DuesTest, ValidateDuesRulesViolations) {
  struct Case {
    std::string name;
    std::function<void(DuesRules&)> change;
    std::vector<std::string> fields;
  };
  const std::vector<Case> cases = {
      {"no in-service brackets",
       [](DuesRules& r) { r.in_service.clear(); },
       {"rule_set.dues.in_service"}},
      {"no retired brackets", [](DuesRules& r) { r.retired.clear(); }, {"rule_set.dues.retired"}},
      {"bound not increasing",
       [](DuesRules& r) { r.in_service[1].up_to_fen = 300000; },
       {"rule_set.dues.in_service[1].up_to_fen"}},
      {"bound decreasing",
       [](DuesRules& r) { r.in_service[2].up_to_fen = 400000; },
       {"rule_set.dues.in_service[2].up_to_fen"}},
      {"unbounded in the middle",
       [](DuesRules& r) { r.in_service[1].up_to_fen = 0; },
       {"rule_set.dues.in_service[1].up_to_fen"}},
      {"last bounded",
       [](DuesRules& r) { r.in_service[3].up_to_fen = 2000000; },
       {"rule_set.dues.in_service[3].up_to_fen"}},
      {"only bracket bounded",
       [](DuesRules& r) {
         r.retired = {{500000, 50}};
       },
       {"rule_set.dues.retired[0].up_to_fen"}},
      {"negative bound",
       [](DuesRules& r) { r.retired[0].up_to_fen = -5; },
       {"rule_set.dues.retired[0].up_to_fen"}},
      {"negative rate",
       [](DuesRules& r) { r.in_service[2].rate_basis_points = -1; },
       {"rule_set.dues.in_service[2].rate_basis_points"}},
      {"rate above 100%",
       [](DuesRules& r) { r.retired[1].rate_basis_points = 10001; },
       {"rule_set.dues.retired[1].rate_basis_points"}},
      {"student amount",
       [](DuesRules& r) { r.student_fen = 100001; },
       {"rule_set.dues.student_fen"}},
      {"other amount", [](DuesRules& r) { r.other_fen = -1; }, {"rule_set.dues.other_fen"}},
      {"back months",
       [](DuesRules& r) { r.max_back_months = 121; },
       {"rule_set.dues.max_back_months"}},
      {"alert months",
       [](DuesRules& r) { r.arrears_alert_months = -1; },
       {"rule_set.dues.arrears_alert_months"}},
      {"everything at once",
       [](DuesRules& r) {
         r.in_service.clear();
         r.retired[0].rate_basis_points = 20000;
         r.student_fen = -20;
         r.max_back_months = -1;
       },
       {"rule_set.dues.in_service", "rule_set.dues.retired[0].rate_basis_points",
        "rule_set.dues.student_fen", "rule_set.dues.max_back_months"}},
  };
  for (const Case& c : cases) {
    DuesRules rules = NationalDuesRules();
    c.change(rules);
    const absl::Status s = ValidateDuesRules(rules);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(Fields(s), c.fields) << c.name;
  }
}

}  // namespace
}  // namespace dj::member
