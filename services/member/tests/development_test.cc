// The development pipeline at its edges: stage order, strictly increasing and non-future dates,
// age 18 and the 29 February birthday, the activist year, sponsors, probation over 29 February
// and month ends, extensions, 党龄 and the 1 July cut-off for the 50-year medal, rule validation.
#include "services/member/src/development.h"

#include <optional>
#include <string>
#include <vector>

#include "common/rpc/errors.h"
#include "gtest/gtest.h"

namespace dj::member {
namespace {

using time::CivilDate;
using time::ToIso;

constexpr std::string_view kPrefix = "development";

std::string Describe(const absl::Status& s) {
  std::string out = s.ToString();
  for (const auto& v : rpc::Violations(s)) {
    out += " [" + v.field + ": " + v.description + "]";
  }
  return out;
}

TEST(DevelopmentTest, StageNames) {
  EXPECT_EQ(StageName(Stage::kApplicant), "APPLICANT");
  EXPECT_EQ(StageName(Stage::kActivist), "ACTIVIST");
  EXPECT_EQ(StageName(Stage::kCandidate), "CANDIDATE");
  EXPECT_EQ(StageName(Stage::kProbationary), "PROBATIONARY");
  EXPECT_EQ(StageName(Stage::kFull), "FULL");
  EXPECT_EQ(StageName(Stage::kUnspecified), "STAGE_UNSPECIFIED");
  EXPECT_EQ(StageName(static_cast<Stage>(9)), "STAGE_UNSPECIFIED");
}

TEST(DevelopmentTest, ValidateRules) {
  EXPECT_TRUE(ValidateDevelopmentRules(DevelopmentRules{}).ok());
  struct Case {
    std::string name;
    void (*edit)(DevelopmentRules&);
    std::string field;  // "" when valid
  };
  const std::vector<Case> cases = {
      {"age 14", [](DevelopmentRules& r) { r.min_application_age_years = 14; }, ""},
      {"age 30", [](DevelopmentRules& r) { r.min_application_age_years = 30; }, ""},
      {"age 13", [](DevelopmentRules& r) { r.min_application_age_years = 13; },
       "min_application_age_years"},
      {"age 31", [](DevelopmentRules& r) { r.min_application_age_years = 31; },
       "min_application_age_years"},
      {"activist 0", [](DevelopmentRules& r) { r.min_activist_months = 0; }, ""},
      {"activist 60", [](DevelopmentRules& r) { r.min_activist_months = 60; }, ""},
      {"activist -1", [](DevelopmentRules& r) { r.min_activist_months = -1; },
       "min_activist_months"},
      {"activist 61", [](DevelopmentRules& r) { r.min_activist_months = 61; },
       "min_activist_months"},
      {"probation 0", [](DevelopmentRules& r) { r.probation_months = 0; }, "probation_months"},
      {"probation 61", [](DevelopmentRules& r) { r.probation_months = 61; }, "probation_months"},
      {"extension min 0", [](DevelopmentRules& r) { r.extension_min_months = 0; },
       "extension_min_months"},
      {"extension max 61", [](DevelopmentRules& r) { r.extension_max_months = 61; },
       "extension_max_months"},
      {"extension min = max", [](DevelopmentRules& r) { r.extension_min_months = 12; }, ""},
      {"extension min > max",
       [](DevelopmentRules& r) {
         r.extension_min_months = 7;
         r.extension_max_months = 6;
       },
       "extension_max_months"},
      {"no extensions", [](DevelopmentRules& r) { r.max_extensions = 0; }, ""},
      {"extensions -1", [](DevelopmentRules& r) { r.max_extensions = -1; }, "max_extensions"},
      {"extensions 6", [](DevelopmentRules& r) { r.max_extensions = 6; }, "max_extensions"},
      {"sponsors 0", [](DevelopmentRules& r) { r.sponsors_required = 0; }, "sponsors_required"},
      {"sponsors 5", [](DevelopmentRules& r) { r.sponsors_required = 5; }, ""},
      {"sponsors 6", [](DevelopmentRules& r) { r.sponsors_required = 6; }, "sponsors_required"},
  };
  for (const Case& c : cases) {
    DevelopmentRules rules;
    c.edit(rules);
    const absl::Status s = ValidateDevelopmentRules(rules);
    if (c.field.empty()) {
      EXPECT_TRUE(s.ok()) << c.name << ": " << Describe(s);
      continue;
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name;
    ASSERT_EQ(rpc::Violations(s).size(), 1u) << c.name << ": " << Describe(s);
    EXPECT_EQ(rpc::Violations(s)[0].field, "rule_set.development." + c.field) << c.name;
  }

  DevelopmentRules all_wrong{.min_application_age_years = 0,
                             .min_activist_months = 100,
                             .probation_months = -1,
                             .extension_min_months = 0,
                             .extension_max_months = 0,
                             .max_extensions = 9,
                             .sponsors_required = 0};
  EXPECT_EQ(rpc::Violations(ValidateDevelopmentRules(all_wrong)).size(), 7u);
}

TEST(DevelopmentTest, ProbationEndsOverLeapDaysAndMonthEnds) {
  struct Case {
    CivilDate admitted;
    int32_t probation_months;
    int32_t extension_months;
    CivilDate want;
  };
  const std::vector<Case> cases = {
      {{2023, 2, 28}, 12, 0, {2024, 2, 28}},  // not moved to the leap day
      {{2024, 2, 29}, 12, 0, {2025, 2, 28}},  // no 29th: the month's last day
      {{2023, 3, 31}, 12, 0, {2024, 3, 31}},
      {{2022, 8, 31}, 12, 6, {2024, 2, 29}},  // due 2023-08-31, + 6 = a leap day
      {{2021, 8, 31}, 12, 6, {2023, 2, 28}},  // due 2022-08-31, + 6 in a common year
      // The extension runs from the due date (2025-02-28), not 18 months from admission (08-29).
      {{2024, 2, 29}, 12, 6, {2025, 8, 28}},
      {{2023, 5, 31}, 12, 12, {2025, 5, 31}},
      {{2023, 1, 31}, 1, 0, {2023, 2, 28}},  // a local rule of one month: a month end
      {{2023, 10, 31}, 6, 0, {2024, 4, 30}},
  };
  for (const Case& c : cases) {
    const DevelopmentRules rules{.probation_months = c.probation_months};
    const PipelineState state{
        .history = {{Stage::kApplicant, {2019, 1, 1}}, {Stage::kProbationary, c.admitted}},
        .extensions = c.extension_months > 0 ? 1 : 0,
        .extension_months = c.extension_months};
    auto due = ProbationEnds(rules, state);
    ASSERT_TRUE(due.has_value()) << ToIso(c.admitted);
    EXPECT_EQ(ToIso(*due), ToIso(c.want))
        << ToIso(c.admitted) << " +" << c.probation_months << " +" << c.extension_months;
  }

  EXPECT_FALSE(ProbationEnds({}, PipelineState{}).has_value());
  EXPECT_FALSE(ProbationEnds({}, {.history = {{Stage::kCandidate, {2024, 1, 1}}}}).has_value());
  // Still known once the member is FULL.
  auto after = ProbationEnds(
      {}, {.history = {{Stage::kProbationary, {2024, 2, 29}}, {Stage::kFull, {2025, 3, 3}}}});
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(ToIso(*after), "2025-02-28");
}

struct AdvanceCase {
  std::string name;
  std::vector<StageEntry> history;
  Stage next;
  CivilDate date;
  size_t sponsors;
  // "" for OK, else "<code> <reason> <field>...", e.g. "INVALID_ARGUMENT UNDER_AGE
  // development.date".
  std::string want;
};

struct Context {
  DevelopmentRules rules;
  std::optional<CivilDate> birth = CivilDate{2000, 5, 10};
  CivilDate today = {2026, 6, 30};
};

// The outcome in the form AdvanceCase::want gives it.
std::string Outcome(const absl::Status& s) {
  if (s.ok()) {
    return "";
  }
  std::string out = absl::StatusCodeToString(s.code()) + " " + rpc::Reason(s);
  for (const auto& v : rpc::Violations(s)) {
    out += " " + v.field;
  }
  return out;
}

void RunAdvanceCases(const Context& context, const std::vector<AdvanceCase>& cases) {
  for (const AdvanceCase& c : cases) {
    const PipelineState state{.birth_date = context.birth, .history = c.history};
    const absl::Status s =
        CheckAdvance(context.rules, state, c.next, c.date, c.sponsors, context.today, kPrefix);
    EXPECT_EQ(Outcome(s), c.want) << c.name << ": " << Describe(s);
  }
}

TEST(DevelopmentTest, ApplicationAge) {
  const std::string under_age = "INVALID_ARGUMENT UNDER_AGE development.date";
  // Born 10 May 2000.
  RunAdvanceCases({},
                  {
                      {"18 exactly", {}, Stage::kApplicant, {2018, 5, 10}, 0, ""},
                      {"one day short of 18", {}, Stage::kApplicant, {2018, 5, 9}, 0, under_age},
                      {"before birth", {}, Stage::kApplicant, {1999, 1, 1}, 0, under_age},
                  });
  // Born 29 February 2004: 18 falls in a common year (always: 18 is not a multiple of 4), and
  // the birthday is taken as 1 March, the stricter reading.
  RunAdvanceCases(
      {.birth = CivilDate{2004, 2, 29}},
      {
          {"28 Feb of the 18th year", {}, Stage::kApplicant, {2022, 2, 28}, 0, under_age},
          {"1 Mar of the 18th year", {}, Stage::kApplicant, {2022, 3, 1}, 0, ""},
      });
  // A local rule of 16 lands a 29 February birthday on a real 29 February.
  RunAdvanceCases({.rules = {.min_application_age_years = 16}, .birth = CivilDate{2008, 2, 29}},
                  {
                      {"16 on 29 Feb", {}, Stage::kApplicant, {2024, 2, 29}, 0, ""},
                      {"28 Feb before", {}, Stage::kApplicant, {2024, 2, 28}, 0, under_age},
                  });
  const std::string unknown = "FAILED_PRECONDITION BIRTH_DATE_UNKNOWN development.date";
  RunAdvanceCases({.birth = std::nullopt},
                  {
                      {"no birth date", {}, Stage::kApplicant, {2018, 5, 10}, 0, unknown},
                  });
}

TEST(DevelopmentTest, UnderAgeMessageNeverGivesTheBirthDate) {
  const PipelineState state{.birth_date = CivilDate{2000, 5, 10}};
  const absl::Status s =
      CheckAdvance({}, state, Stage::kApplicant, {2018, 5, 9}, 0, {2026, 6, 30}, kPrefix);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Describe(s).find("2000"), std::string::npos) << Describe(s);
  EXPECT_EQ(Describe(s).find("2018-05-10"), std::string::npos) << Describe(s);
}

TEST(DevelopmentTest, StageOrder) {
  const std::vector<StageEntry> applicant = {{Stage::kApplicant, {2019, 1, 10}}};
  const std::vector<StageEntry> candidate = {{Stage::kApplicant, {2019, 1, 10}},
                                             {Stage::kActivist, {2019, 3, 1}},
                                             {Stage::kCandidate, {2020, 3, 1}}};
  const std::vector<StageEntry> full = {{Stage::kApplicant, {2019, 1, 10}},
                                        {Stage::kActivist, {2019, 3, 1}},
                                        {Stage::kCandidate, {2020, 3, 1}},
                                        {Stage::kProbationary, {2020, 7, 1}},
                                        {Stage::kFull, {2021, 7, 1}}};
  const std::vector<StageEntry> paper = {{Stage::kProbationary, {2024, 5, 20}}};
  const std::string order = "FAILED_PRECONDITION STAGE_ORDER development.stage";
  const std::string not_a_stage = "INVALID_ARGUMENT NOT_A_STAGE development.stage";
  RunAdvanceCases(
      {}, {
              {"ACTIVIST first", {}, Stage::kActivist, {2019, 3, 1}, 0, order},
              {"ACTIVIST after APPLICANT", applicant, Stage::kActivist, {2019, 3, 1}, 0, ""},
              {"skipping ACTIVIST", applicant, Stage::kCandidate, {2020, 3, 1}, 2, order},
              {"skipping to FULL", applicant, Stage::kFull, {2020, 3, 1}, 2, order},
              {"APPLICANT again", applicant, Stage::kApplicant, {2019, 2, 1}, 0, order},
              {"going back", candidate, Stage::kActivist, {2020, 4, 1}, 0, order},
              {"FULL after FULL", full, Stage::kFull, {2022, 7, 1}, 0, order},
              {"APPLICANT after FULL", full, Stage::kApplicant, {2022, 7, 1}, 0, order},
              {"unspecified", applicant, Stage::kUnspecified, {2019, 3, 1}, 0, not_a_stage},
              {"out of range", applicant, static_cast<Stage>(6), {2019, 3, 1}, 0, not_a_stage},
              // A member recorded from paper files as PROBATIONARY only converts.
              {"history from PROBATIONARY", paper, Stage::kFull, {2025, 5, 20}, 0, ""},
          });
}

TEST(DevelopmentTest, StageDates) {
  const std::vector<StageEntry> applicant = {{Stage::kApplicant, {2019, 1, 10}}};
  const std::string not_after = "INVALID_ARGUMENT DATE_NOT_AFTER_PREVIOUS development.date";
  const std::string future = "INVALID_ARGUMENT DATE_IN_FUTURE development.date";
  const std::string invalid = "INVALID_ARGUMENT INVALID_DATE development.date";
  // Today is 2026-06-30.
  RunAdvanceCases({},
                  {
                      {"the next day", applicant, Stage::kActivist, {2019, 1, 11}, 0, ""},
                      {"the same day", applicant, Stage::kActivist, {2019, 1, 10}, 0, not_after},
                      {"the day before", applicant, Stage::kActivist, {2019, 1, 9}, 0, not_after},
                      {"today", applicant, Stage::kActivist, {2026, 6, 30}, 0, ""},
                      {"tomorrow", applicant, Stage::kActivist, {2026, 7, 1}, 0, future},
                      {"future APPLICANT", {}, Stage::kApplicant, {2027, 1, 1}, 0, future},
                      {"29 Feb 2023", applicant, Stage::kActivist, {2023, 2, 29}, 0, invalid},
                      {"month 13", applicant, Stage::kActivist, {2023, 13, 1}, 0, invalid},
                  });
}

TEST(DevelopmentTest, ActivistPeriodAndSponsors) {
  const std::vector<StageEntry> activist = {{Stage::kApplicant, {2019, 9, 1}},
                                            {Stage::kActivist, {2020, 3, 15}}};
  const std::vector<StageEntry> candidate = {{Stage::kApplicant, {2019, 9, 1}},
                                             {Stage::kActivist, {2020, 3, 15}},
                                             {Stage::kCandidate, {2021, 3, 15}}};
  const std::vector<StageEntry> applicant = {{Stage::kApplicant, {2019, 9, 1}}};
  const std::vector<StageEntry> probationary = {{Stage::kProbationary, {2024, 5, 20}}};
  const std::string too_short = "INVALID_ARGUMENT ACTIVIST_PERIOD_TOO_SHORT development.date";
  const std::string both = too_short + " development.sponsors";
  const std::string few = "INVALID_ARGUMENT TOO_FEW_SPONSORS development.sponsors";
  RunAdvanceCases(
      {}, {
              {"the activist year exactly", activist, Stage::kCandidate, {2021, 3, 15}, 2, ""},
              {"a day short of it", activist, Stage::kCandidate, {2021, 3, 14}, 2, too_short},
              {"one sponsor", activist, Stage::kCandidate, {2021, 3, 15}, 1, few},
              {"three sponsors", activist, Stage::kCandidate, {2021, 3, 15}, 3, ""},
              {"too early and no sponsors", activist, Stage::kCandidate, {2021, 1, 1}, 0, both},
              {"PROBATIONARY, two sponsors", candidate, Stage::kProbationary, {2021, 7, 1}, 2, ""},
              {"PROBATIONARY, one", candidate, Stage::kProbationary, {2021, 7, 1}, 1, few},
              {"PROBATIONARY, none", candidate, Stage::kProbationary, {2021, 7, 1}, 0, few},
              {"ACTIVIST needs none", applicant, Stage::kActivist, {2020, 3, 15}, 0, ""},
              {"FULL needs none", probationary, Stage::kFull, {2025, 5, 20}, 0, ""},
          });
  // 31 August + 6 months has no 31st: the month's last day.
  const std::vector<StageEntry> month_end = {{Stage::kApplicant, {2021, 1, 1}},
                                             {Stage::kActivist, {2021, 8, 31}}};
  RunAdvanceCases({.rules = {.min_activist_months = 6}},
                  {
                      {"month end + 6", month_end, Stage::kCandidate, {2022, 2, 28}, 2, ""},
                      {"a day short", month_end, Stage::kCandidate, {2022, 2, 27}, 2, too_short},
                  });
  RunAdvanceCases(
      {.rules = {.sponsors_required = 3}},
      {
          {"local rule of three", candidate, Stage::kProbationary, {2021, 7, 1}, 2, few},
          {"three given", candidate, Stage::kProbationary, {2021, 7, 1}, 3, ""},
      });
}

TEST(DevelopmentTest, ConversionOnOrAfterProbationEnds) {
  const std::vector<StageEntry> leap = {{Stage::kCandidate, {2023, 9, 1}},
                                        {Stage::kProbationary, {2024, 2, 29}}};
  const std::string early = "INVALID_ARGUMENT PROBATION_NOT_ENDED development.date";
  RunAdvanceCases({}, {
                          {"on the due date", leap, Stage::kFull, {2025, 2, 28}, 0, ""},
                          {"the day before", leap, Stage::kFull, {2025, 2, 27}, 0, early},
                          {"late", leap, Stage::kFull, {2025, 4, 1}, 0, ""},
                          {"future and not due",
                           {{Stage::kProbationary, {2026, 1, 1}}},
                           Stage::kFull,
                           {2027, 1, 1},
                           0,
                           "INVALID_ARGUMENT DATE_IN_FUTURE development.date"},
                      });

  // Extended by 6 months: due 2025-08-28 (from the original due date).
  const PipelineState extended{.history = leap, .extensions = 1, .extension_months = 6};
  const CivilDate today{2026, 6, 30};
  EXPECT_EQ(Outcome(CheckAdvance({}, extended, Stage::kFull, {2025, 8, 28}, 0, today, kPrefix)),
            "");
  EXPECT_EQ(Outcome(CheckAdvance({}, extended, Stage::kFull, {2025, 8, 27}, 0, today, kPrefix)),
            early);
}

TEST(DevelopmentTest, Extension) {
  // Admitted 2022-08-31: due 2023-08-31.
  const PipelineState probationary{
      .history = {{Stage::kCandidate, {2022, 3, 1}}, {Stage::kProbationary, {2022, 8, 31}}}};
  PipelineState extended_once = probationary;
  extended_once.extensions = 1;
  extended_once.extension_months = 6;
  PipelineState full = probationary;
  full.history.push_back({Stage::kFull, {2023, 9, 1}});
  const PipelineState candidate{.history = {{Stage::kCandidate, {2022, 3, 1}}}};
  struct Case {
    std::string name;
    const PipelineState& state;
    int32_t months;
    CivilDate today;
    DevelopmentRules rules;
    std::string want;  // as Outcome gives it
  };
  const std::string length = "INVALID_ARGUMENT EXTENSION_LENGTH development.months";
  const std::string ended = "FAILED_PRECONDITION PROBATION_ENDED development.months";
  const std::string limit = "FAILED_PRECONDITION EXTENSION_LIMIT development.months";
  const std::string not_probationary = "FAILED_PRECONDITION NOT_PROBATIONARY development.months";
  const PipelineState none;
  const std::vector<Case> cases = {
      {"6 months", probationary, 6, {2023, 8, 1}, {}, ""},
      {"12 months", probationary, 12, {2023, 8, 1}, {}, ""},
      {"5 months", probationary, 5, {2023, 8, 1}, {}, length},
      {"13 months", probationary, 13, {2023, 8, 1}, {}, length},
      {"0 months", probationary, 0, {2023, 8, 1}, {}, length},
      {"on the due date", probationary, 6, {2023, 8, 31}, {}, ""},
      {"the day after it", probationary, 6, {2023, 9, 1}, {}, ended},
      {"a second extension", extended_once, 6, {2023, 9, 1}, {}, limit},
      {"a local rule of none", probationary, 6, {2023, 8, 1}, {.max_extensions = 0}, limit},
      {"a local rule of two", extended_once, 6, {2023, 9, 1}, {.max_extensions = 2}, ""},
      {"already FULL", full, 6, {2023, 8, 1}, {}, not_probationary},
      {"still a CANDIDATE", candidate, 6, {2023, 8, 1}, {}, not_probationary},
      {"no history", none, 6, {2023, 8, 1}, {}, not_probationary},
  };
  for (const Case& c : cases) {
    const absl::Status s = CheckExtension(c.rules, c.state, c.months, c.today, kPrefix);
    EXPECT_EQ(Outcome(s), c.want) << c.name << ": " << Describe(s);
  }

  // Due 2023-08-31, extended by 6 months: 2024-02-29, a leap day; conversion from then on.
  auto due = ProbationEnds({}, extended_once);
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(ToIso(*due), "2024-02-29");
  const CivilDate today{2024, 3, 1};
  EXPECT_EQ(
      Outcome(CheckAdvance({}, extended_once, Stage::kFull, {2024, 2, 29}, 0, today, kPrefix)), "");
  EXPECT_EQ(
      Outcome(CheckAdvance({}, extended_once, Stage::kFull, {2024, 2, 28}, 0, today, kPrefix)),
      "INVALID_ARGUMENT PROBATION_NOT_ENDED development.date");
}

TEST(DevelopmentTest, ExtensionDecidedOnADate) {
  // Admitted 2022-08-31: due 2023-08-31. Today is 2023-09-10.
  const PipelineState probationary{
      .history = {{Stage::kCandidate, {2022, 3, 1}}, {Stage::kProbationary, {2022, 8, 31}}}};
  const CivilDate today{2023, 9, 10};
  struct Case {
    std::string name;
    CivilDate date;
    int32_t months;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"decided on the due date, recorded later", {2023, 8, 31}, 6, ""},
      {"decided after the due date",
       {2023, 9, 1},
       6,
       "FAILED_PRECONDITION PROBATION_ENDED development.date"},
      {"on the admission day",
       {2022, 8, 31},
       6,
       "INVALID_ARGUMENT DATE_NOT_AFTER_PREVIOUS development.date"},
      {"in the future", {2023, 9, 11}, 6, "INVALID_ARGUMENT DATE_IN_FUTURE development.date"},
      {"not a date, and 13 months",
       {2023, 2, 29},
       13,
       "INVALID_ARGUMENT EXTENSION_LENGTH development.months development.date"},
  };
  for (const Case& c : cases) {
    const absl::Status s = CheckExtension({}, probationary, c.months, c.date, today, kPrefix);
    EXPECT_EQ(Outcome(s), c.want) << c.name << ": " << Describe(s);
  }

  // The decision recorded as a second PROBATIONARY entry: the due date still runs from the
  // admission, conversion follows, and the next date must come after the decision.
  PipelineState recorded = probationary;
  recorded.history.push_back({Stage::kProbationary, {2023, 8, 31}});
  recorded.extensions = 1;
  recorded.extension_months = 6;
  auto due = ProbationEnds({}, recorded);
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(ToIso(*due), "2024-02-29");
  EXPECT_EQ(
      Outcome(CheckAdvance({}, recorded, Stage::kFull, {2024, 2, 29}, 0, {2024, 3, 1}, kPrefix)),
      "");
  EXPECT_EQ(Outcome(CheckExtension({}, recorded, 6, {2023, 9, 5}, today, kPrefix)),
            "FAILED_PRECONDITION EXTENSION_LIMIT development.months");
}

TEST(DevelopmentTest, SponsorsAsListed) {
  const PipelineState activist{
      .history = {{Stage::kApplicant, {2019, 9, 1}}, {Stage::kActivist, {2020, 3, 15}}}};
  const CivilDate date{2021, 3, 15};
  const CivilDate today{2026, 6, 30};
  struct Case {
    std::string name;
    std::vector<std::string> sponsors;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"two", {"members/1", "members/2"}, ""},
      {"three", {"members/1", "members/2", "members/3"}, ""},
      {"one", {"members/1"}, "INVALID_ARGUMENT TOO_FEW_SPONSORS development.sponsors"},
      {"none", {}, "INVALID_ARGUMENT TOO_FEW_SPONSORS development.sponsors"},
      {"the same one twice",
       {"members/1", "members/1"},
       "INVALID_ARGUMENT DUPLICATE_SPONSOR development.sponsors[1]"},
      {"a repeat among three",
       {"members/1", "members/2", "members/1"},
       "INVALID_ARGUMENT DUPLICATE_SPONSOR development.sponsors[2]"},
  };
  for (const Case& c : cases) {
    const absl::Status s =
        CheckAdvance({}, activist, Stage::kCandidate, date, c.sponsors, today, kPrefix);
    EXPECT_EQ(Outcome(s), c.want) << c.name << ": " << Describe(s);
  }
}

TEST(DevelopmentTest, PartyStandingYears) {
  struct Case {
    CivilDate full, as_of;
    int32_t want;
  };
  const std::vector<Case> cases = {
      {{2000, 7, 1}, {2000, 7, 1}, 0},    {{2000, 7, 1}, {2000, 6, 30}, 0},  // before becoming full
      {{2000, 7, 1}, {2001, 6, 30}, 0},   {{2000, 7, 1}, {2001, 7, 1}, 1},
      {{2000, 2, 29}, {2001, 2, 28}, 0},  // the anniversary of 29 Feb is 1 March
      {{2000, 2, 29}, {2001, 3, 1}, 1},   {{2000, 2, 29}, {2004, 2, 28}, 3},
      {{2000, 2, 29}, {2004, 2, 29}, 4},  {{2001, 2, 28}, {2004, 2, 28}, 3},
      {{2000, 1, 31}, {2000, 12, 31}, 0}, {{2000, 12, 31}, {2001, 12, 31}, 1},
      {{1976, 7, 1}, {2026, 7, 1}, 50},   {{1976, 7, 2}, {2026, 7, 1}, 49},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PartyStandingYears(c.full, c.as_of), c.want)
        << ToIso(c.full) << " to " << ToIso(c.as_of);
  }
}

TEST(DevelopmentTest, ComingJulyFirst) {
  EXPECT_EQ(ToIso(ComingJulyFirst({2026, 1, 1})), "2026-07-01");
  EXPECT_EQ(ToIso(ComingJulyFirst({2026, 6, 30})), "2026-07-01");
  EXPECT_EQ(ToIso(ComingJulyFirst({2026, 7, 1})), "2026-07-01");
  EXPECT_EQ(ToIso(ComingJulyFirst({2026, 7, 2})), "2027-07-01");
  EXPECT_EQ(ToIso(ComingJulyFirst({2026, 12, 31})), "2027-07-01");
}

TEST(DevelopmentTest, FiftyYearsByTheComingJulyFirst) {
  struct Case {
    CivilDate full, today;
    bool want;
  };
  const std::vector<Case> cases = {
      // Up to and on 1 July 2026 the cut-off is 2026-07-01: full members up to 1976-07-01.
      {{1976, 6, 30}, {2026, 6, 30}, true},
      {{1976, 7, 1}, {2026, 6, 30}, true},
      {{1976, 7, 2}, {2026, 6, 30}, false},
      {{1976, 6, 30}, {2026, 7, 1}, true},
      {{1976, 7, 1}, {2026, 7, 1}, true},
      {{1976, 7, 2}, {2026, 7, 1}, false},
      // From 2 July 2026 the cut-off is 2027-07-01: all three qualify (51, 51, 50 years); the
      // first two were already due in 2026, which the caller's medal register knows.
      {{1976, 6, 30}, {2026, 7, 2}, true},
      {{1976, 7, 1}, {2026, 7, 2}, true},
      {{1976, 7, 2}, {2026, 7, 2}, true},
      {{1977, 7, 1}, {2026, 7, 2}, true},
      {{1977, 7, 2}, {2026, 7, 2}, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ReachesStandingBy(c.full, 50, c.today), c.want)
        << ToIso(c.full) << " as of " << ToIso(c.today);
  }
}

}  // namespace
}  // namespace dj::member
