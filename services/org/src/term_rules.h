// Terms (任期) and elections (换届) as plain rules over StructureRules and civil dates: how long a
// term runs, when it is planned to end, and whether an election may fall on a given day. No SQL,
// no gRPC, so the edges (29 February, month ends, the shift window) are tested alone.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/time/civil_date.h"
#include "services/org/src/organization_rules.h"
#include "services/org/src/structure_rule_set.h"

namespace dj::org {

// The term length of `kind` in years. A kind the rules give no term (work committee, leading
// group, party group) is not elected: FAILED_PRECONDITION, reason TERMS_NOT_ELECTED.
absl::StatusOr<int32_t> TermYears(const StructureRules& rules, Kind kind);

// The same day `term_years` after `start`, or the month's last day when it has no such day
// (民法典 art. 201). A date past 9999-12-31 is INVALID_ARGUMENT naming `field`.
absl::StatusOr<time::CivilDate> PlannedEnd(const time::CivilDate& start, int32_t term_years,
                                           std::string_view field);

// The days an election may fall on for a term planned to end on `planned_end`: at most
// `max_shift_months` before or after it (提前或延期换届, with approval), both ends included.
struct ElectionWindow {
  time::CivilDate earliest;
  time::CivilDate latest;
};
ElectionWindow WindowFor(const time::CivilDate& planned_end, int32_t max_shift_months);

// Whether an election on `election` may end the current term that began on `current_start` and
// was planned to end on `planned_end`, under `rules` (in force on the election day). Returns the
// shift in days (election - planned end; negative when early). Refusals are INVALID_ARGUMENT
// naming `field`: not after the current term's start (ELECTION_BEFORE_CURRENT_TERM), or outside
// the window (TERM_SHIFT_TOO_LARGE, the message giving the window).
absl::StatusOr<int32_t> CheckElection(const StructureRules& rules,
                                      const time::CivilDate& current_start,
                                      const time::CivilDate& planned_end,
                                      const time::CivilDate& election, std::string_view field);

// The version in force on `date` among `versions` (newest effective date first, as
// RuleBook::Versions gives them), or the national default when none is.
const RuleSetVersion& VersionInForce(const std::vector<RuleSetVersion>& versions,
                                     const time::CivilDate& date);

}  // namespace dj::org
