// Term and election rules.
#include "services/org/src/term_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"

namespace dj::org {

absl::StatusOr<int32_t> TermYears(const StructureRules& rules, Kind kind) {
  auto it = rules.term_years.find(kind);
  if (it == rules.term_years.end() || it->second <= 0) {
    return rpc::Error(absl::StatusCode::kFailedPrecondition, "TERMS_NOT_ELECTED",
                      absl::StrCat("a ", AV(KindName(kind)),
                                   " is not elected for a term under the structure rules in "
                                   "force, so it has no terms"));
  }
  return it->second;
}

absl::StatusOr<time::CivilDate> PlannedEnd(const time::CivilDate& start, int32_t term_years,
                                           std::string_view field) {
  auto end = time::AddYears(start, term_years);
  if (!end.ok()) {
    return rpc::InvalidArgument(
        {{std::string(field), absl::StrCat("a term of ", term_years, " years from ",
                                           time::ToIso(start), " would end after 9999-12-31")}});
  }
  return *end;
}

ElectionWindow WindowFor(const time::CivilDate& planned_end, int32_t max_shift_months) {
  // A planned end lies within 0001..9999 and the shift is at most a few years, so only a date at
  // the calendar's very edge can fall off it; the window then stops at the edge.
  auto earliest = time::AddMonths(planned_end, -max_shift_months);
  auto latest = time::AddMonths(planned_end, max_shift_months);
  return {earliest.ok() ? *earliest : time::CivilDate{1, 1, 1},
          latest.ok() ? *latest : time::CivilDate{9999, 12, 31}};
}

absl::StatusOr<int32_t> CheckElection(const StructureRules& rules,
                                      const time::CivilDate& current_start,
                                      const time::CivilDate& planned_end,
                                      const time::CivilDate& election, std::string_view field) {
  if (election <= current_start) {
    return rpc::InvalidArgument(
        {{std::string(field), absl::StrCat("must be after ", time::ToIso(current_start),
                                           ", the start of the current term")}},
        "ELECTION_BEFORE_CURRENT_TERM");
  }
  const ElectionWindow window = WindowFor(planned_end, rules.max_term_shift_months);
  if (election < window.earliest || election > window.latest) {
    return rpc::InvalidArgument(
        {{std::string(field),
          absl::StrCat("the current term is planned to end on ", time::ToIso(planned_end),
                       "; an election may be held at most ", rules.max_term_shift_months,
                       " months earlier or later, from ", time::ToIso(window.earliest), " to ",
                       time::ToIso(window.latest))}},
        "TERM_SHIFT_TOO_LARGE");
  }
  return static_cast<int32_t>(time::DaysBetween(planned_end, election));
}

const RuleSetVersion& VersionInForce(const std::vector<RuleSetVersion>& versions,
                                     const time::CivilDate& date) {
  if (versions.empty()) {
    return NationalDefaultVersion();
  }
  const RuleSetVersion& v = rules::VersionOn(versions, date);
  return v.effective_date <= date ? v : NationalDefaultVersion();
}

}  // namespace dj::org
