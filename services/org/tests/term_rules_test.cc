// Term rules at the edges: planned ends over 29 February and month ends, the election window's
// both ends, elections before the current term, kinds without terms.
#include "services/org/src/term_rules.h"

#include <string>
#include <vector>

#include "common/rpc/errors.h"
#include "gtest/gtest.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using time::CivilDate;
using time::ToIso;

TEST(TermRulesTest, TermYearsByKind) {
  const StructureRules rules = StructureRules::NationalDefaults();
  EXPECT_EQ(*TermYears(rules, pb::PARTY_COMMITTEE), 5);
  EXPECT_EQ(*TermYears(rules, pb::GENERAL_BRANCH), 3);
  EXPECT_EQ(*TermYears(rules, pb::BRANCH), 3);
  for (Kind kind : {pb::WORK_COMMITTEE, pb::LEADING_GROUP, pb::PARTY_GROUP}) {
    auto s = TermYears(rules, kind).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << KindName(kind);
    EXPECT_EQ(rpc::Reason(s), "TERMS_NOT_ELECTED") << KindName(kind);
  }
}

TEST(TermRulesTest, PlannedEndAtTheEdges) {
  struct Case {
    CivilDate start;
    int32_t years;
    CivilDate want;
  };
  const std::vector<Case> cases = {
      {{2020, 2, 29}, 3, {2023, 2, 28}},  // 民法典 art. 201
      {{2020, 2, 29}, 4, {2024, 2, 29}},
      {{2019, 2, 28}, 5, {2024, 2, 28}},  // not moved to the leap day
      {{2021, 12, 31}, 3, {2024, 12, 31}},
      {{2022, 1, 1}, 5, {2027, 1, 1}},
  };
  for (const Case& c : cases) {
    auto end = PlannedEnd(c.start, c.years, "term.start_date");
    ASSERT_TRUE(end.ok()) << end.status();
    EXPECT_EQ(ToIso(*end), ToIso(c.want)) << ToIso(c.start);
  }
  auto beyond = PlannedEnd({9997, 6, 1}, 5, "term.start_date").status();
  EXPECT_EQ(beyond.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(rpc::Violations(beyond).at(0).field, "term.start_date");
}

TEST(TermRulesTest, ElectionWindowIsInclusiveAtBothEnds) {
  const StructureRules rules = StructureRules::NationalDefaults();  // 12 months
  struct Case {
    CivilDate start, planned_end, election;
    bool ok;
    int32_t shift_days;  // when ok
    std::string reason;  // when not
  };
  const std::vector<Case> cases = {
      // Planned end on a leap day: the window's ends are the 28th of February either side.
      {{2021, 2, 28}, {2024, 2, 29}, {2023, 2, 28}, true, -366, ""},
      {{2021, 2, 28}, {2024, 2, 29}, {2023, 2, 27}, false, 0, "TERM_SHIFT_TOO_LARGE"},
      {{2021, 2, 28}, {2024, 2, 29}, {2025, 2, 28}, true, 365, ""},
      {{2021, 2, 28}, {2024, 2, 29}, {2025, 3, 1}, false, 0, "TERM_SHIFT_TOO_LARGE"},
      // Month ends: 31 August ± 12 months.
      {{2020, 8, 31}, {2023, 8, 31}, {2022, 8, 31}, true, -365, ""},
      {{2020, 8, 31}, {2023, 8, 31}, {2022, 8, 30}, false, 0, "TERM_SHIFT_TOO_LARGE"},
      // Across a year end.
      {{2020, 12, 31}, {2023, 12, 31}, {2024, 12, 31}, true, 366, ""},
      {{2020, 12, 31}, {2023, 12, 31}, {2025, 1, 1}, false, 0, "TERM_SHIFT_TOO_LARGE"},
      // On time, 11 months early, 13 months late.
      {{2021, 3, 15}, {2024, 3, 15}, {2024, 3, 15}, true, 0, ""},
      {{2021, 3, 15}, {2024, 3, 15}, {2023, 4, 15}, true, -335, ""},
      {{2021, 3, 15}, {2024, 3, 15}, {2025, 4, 15}, false, 0, "TERM_SHIFT_TOO_LARGE"},
      // Never on or before the current term's own start, even inside the window.
      {{2023, 6, 1}, {2024, 6, 1}, {2023, 6, 1}, false, 0, "ELECTION_BEFORE_CURRENT_TERM"},
      {{2023, 6, 1}, {2024, 6, 1}, {2023, 5, 31}, false, 0, "ELECTION_BEFORE_CURRENT_TERM"},
      {{2023, 6, 1}, {2024, 6, 1}, {2023, 6, 2}, true, -365, ""},
  };
  for (const Case& c : cases) {
    auto got = CheckElection(rules, c.start, c.planned_end, c.election, "term.start_date");
    const std::string label = ToIso(c.planned_end) + " elected " + ToIso(c.election);
    ASSERT_EQ(got.ok(), c.ok) << label << ": " << got.status();
    if (c.ok) {
      EXPECT_EQ(*got, c.shift_days) << label;
    } else {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << label;
      EXPECT_EQ(rpc::Reason(got.status()), c.reason) << label;
      EXPECT_EQ(rpc::Violations(got.status()).at(0).field, "term.start_date") << label;
    }
  }
}

TEST(TermRulesTest, TheWindowComesFromTheRules) {
  StructureRules rules = StructureRules::NationalDefaults();
  rules.max_term_shift_months = 6;
  auto late = CheckElection(rules, {2021, 1, 31}, {2024, 1, 31}, {2024, 8, 1}, "term.start_date");
  EXPECT_EQ(rpc::Reason(late.status()), "TERM_SHIFT_TOO_LARGE");
  // The message tells the caller the window.
  EXPECT_NE(late.status().message().find("2023-07-31"), std::string::npos) << late.status();
  EXPECT_NE(late.status().message().find("2024-07-31"), std::string::npos) << late.status();
  EXPECT_EQ(*CheckElection(rules, {2021, 1, 31}, {2024, 1, 31}, {2024, 7, 31}, "f"), 182);
  rules.max_term_shift_months = 0;  // on the day or not at all
  EXPECT_EQ(*CheckElection(rules, {2021, 1, 31}, {2024, 1, 31}, {2024, 1, 31}, "f"), 0);
  EXPECT_FALSE(CheckElection(rules, {2021, 1, 31}, {2024, 1, 31}, {2024, 2, 1}, "f").ok());
}

TEST(TermRulesTest, VersionInForceOnADate) {
  RuleSetVersion v2{.version = 2, .effective_date = {2027, 1, 1}};
  RuleSetVersion v1{.version = 1, .effective_date = {2026, 7, 1}};
  const std::vector<RuleSetVersion> versions = {v2, v1, NationalDefaultVersion()};
  EXPECT_EQ(VersionInForce(versions, {2026, 6, 30}).version, 0);
  EXPECT_EQ(VersionInForce(versions, {2026, 7, 1}).version, 1);
  EXPECT_EQ(VersionInForce(versions, {2026, 12, 31}).version, 1);
  EXPECT_EQ(VersionInForce(versions, {2027, 1, 1}).version, 2);
  EXPECT_EQ(VersionInForce({}, {2027, 1, 1}).version, 0);
}

}  // namespace
}  // namespace dj::org
