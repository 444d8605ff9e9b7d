// The development pipeline (入党申请人 → 积极分子 → 发展对象 → 预备党员 → 正式党员) and the date
// rules around membership (probation, 党龄, the 1 July cut-off) as plain C++: no SQL, no gRPC.
// Rule values come from the versioned rule set the caller finds in force, never from constants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/time/civil_date.h"

namespace dj::member {

enum class Stage {
  kUnspecified = 0,
  kApplicant = 1,     // 入党申请人
  kActivist = 2,      // 入党积极分子
  kCandidate = 3,     // 发展对象
  kProbationary = 4,  // 预备党员
  kFull = 5,          // 正式党员
};

// "APPLICANT", "ACTIVIST", "CANDIDATE", "PROBATIONARY", "FULL"; "STAGE_UNSPECIFIED" otherwise.
std::string_view StageName(Stage stage);

// The defaults are the national rules (发展党员工作细则 2014, 党章); a committee may send its own.
struct DevelopmentRules {
  int32_t min_application_age_years = 18;  // age on the application date
  int32_t min_activist_months = 12;        // as activist before becoming a candidate
  int32_t probation_months = 12;           // from the branch meeting that admits (PROBATIONARY)
  int32_t extension_min_months = 6;
  int32_t extension_max_months = 12;
  int32_t max_extensions = 1;
  int32_t sponsors_required = 2;  // full members of the same organization
};

// Checks a rule set a committee sends; violations name "rule_set.development.<field>" with the
// field in snake_case as elsewhere in the suite ("rule_set.development.min_activist_months"):
// age 14-30, activist months 0-60, probation 1-60, extensions 1-60 with min <= max, at most 5
// extensions (0: none allowed), sponsors 1-5.
absl::Status ValidateDevelopmentRules(const DevelopmentRules& rules);

struct StageEntry {
  Stage stage = Stage::kUnspecified;
  time::CivilDate date;
};

// The member as the pipeline sees them. `history` is in order and may start after APPLICANT (a
// member recorded from paper files as PROBATIONARY or FULL): the checks read its last entry.
// Extension decisions may be listed as further PROBATIONARY entries (their dates then bound the
// next date) or left out; `extensions` and `extension_months` count them either way.
struct PipelineState {
  std::optional<time::CivilDate> birth_date;
  std::vector<StageEntry> history;
  int32_t extensions = 0;        // probation extensions granted so far
  int32_t extension_months = 0;  // their total length
};

// Whether moving to `next` on `date` is allowed, given `today`. Violations name
// "<prefix>.stage", "<prefix>.date" or "<prefix>.sponsors" ("stage", ... for an empty prefix: a
// request's own fields). Checked in this order:
//  1. INVALID_ARGUMENT NOT_A_STAGE (.stage: kUnspecified or out of range), INVALID_DATE (.date).
//  2. FAILED_PRECONDITION STAGE_ORDER (.stage): `next` is not the stage after the last entry's
//     (APPLICANT when there is none; none after FULL; no skipping, no repeating, no going back).
//  3. FAILED_PRECONDITION BIRTH_DATE_UNKNOWN (.date): APPLICANT without a birth date.
//  4. INVALID_ARGUMENT with every violation at once, the reason that of the first; on .date the
//     first that applies of DATE_NOT_AFTER_PREVIOUS (on or before the last entry's date: dates
//     strictly increase), DATE_IN_FUTURE (after `today`), UNDER_AGE (APPLICANT before the
//     min_application_age_years birthday), ACTIVIST_PERIOD_TOO_SHORT (CANDIDATE before the
//     ACTIVIST date + min_activist_months), PROBATION_NOT_ENDED (FULL before ProbationEnds); on
//     .sponsors TOO_FEW_SPONSORS (CANDIDATE and PROBATIONARY: fewer than sponsors_required).
// `distinct_sponsors` is the number of different sponsors; the caller checks each is a full
// member of the same organization. Other stages ignore it.
// Birthdays: someone born on 29 February turns N on 1 March in a year without one (the stricter
// reading of 年满N周岁: they are not N until 28 February has wholly passed). Messages never give
// the birth date or the birthday (personal data).
absl::Status CheckAdvance(const DevelopmentRules& rules, const PipelineState& state, Stage next,
                          const time::CivilDate& date, size_t distinct_sponsors,
                          const time::CivilDate& today, std::string_view prefix);
// The same with the sponsors as the request lists them (`members/{id}`): one listed twice is
// INVALID_ARGUMENT, reason DUPLICATE_SPONSOR, naming "<prefix>.sponsors[i]" (the second).
absl::Status CheckAdvance(const DevelopmentRules& rules, const PipelineState& state, Stage next,
                          const time::CivilDate& date, std::span<const std::string> sponsors,
                          const time::CivilDate& today, std::string_view prefix);

// Whether probation may be extended by `months` by a decision on `date` (ExtendProbation's
// date), given `today`. Violations name "<prefix>.months" unless said otherwise.
// INVALID_ARGUMENT: EXTENSION_LENGTH (`months` outside extension_min..max_months); on .date
// INVALID_DATE, DATE_NOT_AFTER_PREVIOUS (not after the last entry's date), DATE_IN_FUTURE.
// FAILED_PRECONDITION: NOT_PROBATIONARY (the last stage is not PROBATIONARY), EXTENSION_LIMIT
// (max_extensions already granted), PROBATION_ENDED on .date (`date` after ProbationEnds; the
// due date itself is allowed: the branch meeting that weighs conversion may extend instead).
absl::Status CheckExtension(const DevelopmentRules& rules, const PipelineState& state,
                            int32_t months, const time::CivilDate& date,
                            const time::CivilDate& today, std::string_view prefix);
// The same decided `today`; refusals about the date then name "<prefix>.months".
absl::Status CheckExtension(const DevelopmentRules& rules, const PipelineState& state,
                            int32_t months, const time::CivilDate& today, std::string_view prefix);

// The day probation ends and conversion is due: the first PROBATIONARY entry's date (admission;
// extension decisions listed as later PROBATIONARY entries do not move it) + probation_months,
// then + extension_months from that due date (AddMonths: the month's last day when it has no
// such day; 2024-02-29 + 12 = 2025-02-28, + 6 more = 2025-08-28). None without a PROBATIONARY
// entry.
std::optional<time::CivilDate> ProbationEnds(const DevelopmentRules& rules,
                                             const PipelineState& state);

// 党龄: whole years from the full-member date to `as_of` (0 before the first anniversary and
// before `full_date`). An anniversary of 29 February falls on 1 March in other years.
int32_t PartyStandingYears(const time::CivilDate& full_date, const time::CivilDate& as_of);

// The coming 1 July: this year's when `today` is on or before it, else next year's.
time::CivilDate ComingJulyFirst(const time::CivilDate& today);

// Whether 党龄 is at least `years` on the coming 1 July (50 for 光荣在党50年). True also for
// members past it: leaving out those already awarded is the caller's.
bool ReachesStandingBy(const time::CivilDate& full_date, int32_t years,
                       const time::CivilDate& today);

}  // namespace dj::member
