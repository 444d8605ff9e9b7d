// The development pipeline and membership date rules: stage order, the periods between stages,
// probation and its extension, 党龄 and the 1 July cut-off.
#include "services/member/src/development.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"

namespace dj::member {
namespace {

using time::CivilDate;
using time::ToIso;

constexpr int32_t kFirst = static_cast<int32_t>(Stage::kApplicant);
constexpr int32_t kLast = static_cast<int32_t>(Stage::kFull);

bool IsStage(Stage stage) {
  const auto n = static_cast<int32_t>(stage);
  return n >= kFirst && n <= kLast;
}

Stage After(Stage stage) { return static_cast<Stage>(static_cast<int32_t>(stage) + 1); }

// The only stage that may come next; kUnspecified when none may (after FULL, or a stage the
// history holds that is not one).
Stage ExpectedNext(const PipelineState& state) {
  if (state.history.empty()) {
    return Stage::kApplicant;
  }
  const Stage last = state.history.back().stage;
  return IsStage(last) && last != Stage::kFull ? After(last) : Stage::kUnspecified;
}

bool IsRealDate(const CivilDate& d) {
  return d.year >= 1 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
         d.day <= time::DaysInMonth(d.year, d.month);
}

// The `years`-th anniversary of `date`. A 29 February one falls on 1 March in a common year: the
// person (or the membership) has not completed the year until 28 February has wholly passed. Only
// compared, never written, so a year past 9999 does no harm.
CivilDate Anniversary(const CivilDate& date, int32_t years) {
  const int32_t year = date.year + years;
  if (date.month == 2 && date.day == 29 && !time::IsLeapYear(year)) {
    return {year, 3, 1};
  }
  return {year, date.month, date.day};
}

std::string Field(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(AV(prefix), ".", AV(name));
}

// A violation with the reason it would give alone: InvalidArgument carries one reason, the first.
struct Finding {
  std::string reason;
  rpc::FieldViolation violation;
};

absl::Status Invalid(std::vector<Finding> findings) {
  std::string reason = findings.front().reason;
  std::vector<rpc::FieldViolation> violations;
  violations.reserve(findings.size());
  for (Finding& f : findings) {
    violations.push_back(std::move(f.violation));
  }
  return rpc::InvalidArgument(std::move(violations), reason);
}

absl::Status Precondition(std::string_view reason, std::string field, std::string description) {
  absl::Status status = rpc::Error(absl::StatusCode::kFailedPrecondition, reason, description);
  return rpc::WithViolation(std::move(status), {std::move(field), std::move(description)});
}

absl::Status StageOrder(const PipelineState& state, Stage next, std::string_view prefix) {
  std::string why;
  if (state.history.empty()) {
    why = absl::StrCat("the pipeline starts with APPLICANT, not ", AV(StageName(next)));
  } else if (const Stage last = state.history.back().stage; !IsStage(last)) {
    why = "the member's recorded stage is not a known stage";
  } else if (last == Stage::kFull) {
    why = "the member is already FULL: no stage follows it";
  } else {
    why = absl::StrCat("the member is ", AV(StageName(last)), ": the next stage is ",
                       AV(StageName(After(last))), ", not ", AV(StageName(next)));
  }
  return Precondition("STAGE_ORDER", Field(prefix, "stage"), std::move(why));
}

// The stage-specific rule on the date of `next`, or none.
std::optional<Finding> StageDateRule(const DevelopmentRules& rules, const PipelineState& state,
                                     Stage next, const CivilDate& date, std::string field) {
  switch (next) {
    case Stage::kApplicant:
      if (date < Anniversary(*state.birth_date, rules.min_application_age_years)) {
        // The birth date is personal data: the message never gives it, nor the birthday.
        return Finding{"UNDER_AGE",
                       {std::move(field), absl::StrCat("the applicant must be at least ",
                                                       rules.min_application_age_years,
                                                       " years old on the application date")}};
      }
      return std::nullopt;
    case Stage::kCandidate: {
      const CivilDate& activist = state.history.back().date;
      auto earliest = time::AddMonths(activist, rules.min_activist_months);
      if (!earliest.ok() || date < *earliest) {
        return Finding{
            "ACTIVIST_PERIOD_TOO_SHORT",
            {std::move(field),
             absl::StrCat("must be at least ", rules.min_activist_months,
                          " months after the ACTIVIST date",
                          earliest.ok() ? absl::StrCat(": on or after ", ToIso(*earliest)) : "")}};
      }
      return std::nullopt;
    }
    case Stage::kFull: {
      auto due = ProbationEnds(rules, state);
      if (!due.has_value() || date < *due) {
        return Finding{"PROBATION_NOT_ENDED",
                       {std::move(field),
                        absl::StrCat("must not be before probation ends",
                                     due.has_value() ? absl::StrCat(" on ", ToIso(*due)) : "")}};
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

// CheckExtension for a decision on `date`; `date_field` names the field refusals about the date
// point at (the request's date, or its months when it has no date).
absl::Status CheckExtensionOn(const DevelopmentRules& rules, const PipelineState& state,
                              int32_t months, const CivilDate& date, const CivilDate& today,
                              std::string_view prefix, const std::string& date_field) {
  const std::string field = Field(prefix, "months");
  // What the request says alone first, then the member's state, then the date against it.
  std::vector<Finding> findings;
  if (months < rules.extension_min_months || months > rules.extension_max_months) {
    findings.push_back({"EXTENSION_LENGTH",
                        {field, absl::StrCat("must be between ", rules.extension_min_months,
                                             " and ", rules.extension_max_months, " months")}});
  }
  if (!IsRealDate(date)) {
    findings.push_back({"INVALID_DATE", {date_field, "must be a real calendar date"}});
  }
  if (!findings.empty()) {
    return Invalid(std::move(findings));
  }
  if (state.history.empty() || state.history.back().stage != Stage::kProbationary) {
    return Precondition("NOT_PROBATIONARY", field,
                        "only a PROBATIONARY member's probation extends");
  }
  if (state.extensions >= rules.max_extensions) {
    return Precondition("EXTENSION_LIMIT", field,
                        absl::StrCat("probation may be extended at most ", rules.max_extensions,
                                     rules.max_extensions == 1 ? " time" : " times"));
  }
  const StageEntry& previous = state.history.back();
  if (date <= previous.date) {
    return Invalid({{"DATE_NOT_AFTER_PREVIOUS",
                     {date_field, absl::StrCat("must be after the ", AV(StageName(previous.stage)),
                                               " date, ", ToIso(previous.date))}}});
  }
  if (date > today) {
    return Invalid({{"DATE_IN_FUTURE",
                     {date_field, absl::StrCat("must not be after today, ", ToIso(today))}}});
  }
  auto due = ProbationEnds(rules, state);
  if (!due.has_value() || date > *due) {
    return Precondition(
        "PROBATION_ENDED", date_field,
        absl::StrCat("probation ended", due.has_value() ? absl::StrCat(" on ", ToIso(*due)) : "",
                     ": an extension is decided on or before that day"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kApplicant:
      return "APPLICANT";
    case Stage::kActivist:
      return "ACTIVIST";
    case Stage::kCandidate:
      return "CANDIDATE";
    case Stage::kProbationary:
      return "PROBATIONARY";
    case Stage::kFull:
      return "FULL";
    default:
      return "STAGE_UNSPECIFIED";
  }
}

absl::Status ValidateDevelopmentRules(const DevelopmentRules& rules) {
  std::vector<rpc::FieldViolation> v;
  auto range = [&v](int32_t value, int32_t lo, int32_t hi, std::string_view name,
                    std::string_view what) {
    if (value < lo || value > hi) {
      v.push_back({absl::StrCat("rule_set.development.", AV(name)),
                   absl::StrCat("must be between ", lo, " and ", hi, " (", AV(what), ")")});
    }
  };
  range(rules.min_application_age_years, 14, 30, "min_application_age_years",
        "years of age on the application date");
  range(rules.min_activist_months, 0, 60, "min_activist_months",
        "months as activist before becoming a candidate");
  range(rules.probation_months, 1, 60, "probation_months", "months of probation");
  range(rules.extension_min_months, 1, 60, "extension_min_months",
        "shortest extension of probation, in months");
  range(rules.extension_max_months, 1, 60, "extension_max_months",
        "longest extension of probation, in months");
  range(rules.max_extensions, 0, 5, "max_extensions", "extensions of probation; 0 for none");
  range(rules.sponsors_required, 1, 5, "sponsors_required", "full members who sponsor");
  if (rules.extension_min_months > rules.extension_max_months) {
    v.push_back({"rule_set.development.extension_max_months",
                 "must not be less than extension_min_months"});
  }
  if (!v.empty()) {
    return rpc::InvalidArgument(std::move(v));
  }
  return absl::OkStatus();
}

absl::Status CheckAdvance(const DevelopmentRules& rules, const PipelineState& state, Stage next,
                          const CivilDate& date, size_t distinct_sponsors, const CivilDate& today,
                          std::string_view prefix) {
  if (!IsStage(next)) {
    return Invalid({{"NOT_A_STAGE",
                     {Field(prefix, "stage"),
                      "required: one of APPLICANT, ACTIVIST, CANDIDATE, PROBATIONARY, FULL"}}});
  }
  if (!IsRealDate(date)) {
    return Invalid({{"INVALID_DATE", {Field(prefix, "date"), "must be a real calendar date"}}});
  }
  if (next != ExpectedNext(state)) {
    return StageOrder(state, next, prefix);
  }
  if (next == Stage::kApplicant && !state.birth_date.has_value()) {
    return Precondition("BIRTH_DATE_UNKNOWN", Field(prefix, "date"),
                        "the member's birth date must be recorded to check the age on this date");
  }

  std::vector<Finding> findings;
  const std::string date_field = Field(prefix, "date");
  // One finding per field: the first of these that applies.
  if (!state.history.empty() && date <= state.history.back().date) {
    const StageEntry& previous = state.history.back();
    findings.push_back(
        {"DATE_NOT_AFTER_PREVIOUS",
         {date_field, absl::StrCat("must be after the ", AV(StageName(previous.stage)), " date, ",
                                   ToIso(previous.date))}});
  } else if (date > today) {
    findings.push_back(
        {"DATE_IN_FUTURE", {date_field, absl::StrCat("must not be after today, ", ToIso(today))}});
  } else if (auto rule = StageDateRule(rules, state, next, date, date_field); rule.has_value()) {
    findings.push_back(*std::move(rule));
  }
  if ((next == Stage::kCandidate || next == Stage::kProbationary) &&
      distinct_sponsors < static_cast<size_t>(std::max(rules.sponsors_required, 0))) {
    findings.push_back(
        {"TOO_FEW_SPONSORS",
         {Field(prefix, "sponsors"),
          absl::StrCat("needs at least ", rules.sponsors_required,
                       " different sponsors, full members of the same organization; ",
                       distinct_sponsors, " given")}});
  }
  if (!findings.empty()) {
    return Invalid(std::move(findings));
  }
  return absl::OkStatus();
}

absl::Status CheckAdvance(const DevelopmentRules& rules, const PipelineState& state, Stage next,
                          const CivilDate& date, std::span<const std::string> sponsors,
                          const CivilDate& today, std::string_view prefix) {
  std::set<std::string_view> distinct;
  for (size_t i = 0; i < sponsors.size(); ++i) {
    if (!distinct.insert(sponsors[i]).second) {
      return Invalid({{"DUPLICATE_SPONSOR",
                       {absl::StrCat(AV(prefix), ".sponsors[", i, "]"),
                        "lists a sponsor already given: each sponsor once"}}});
    }
  }
  return CheckAdvance(rules, state, next, date, distinct.size(), today, prefix);
}

absl::Status CheckExtension(const DevelopmentRules& rules, const PipelineState& state,
                            int32_t months, const CivilDate& date, const CivilDate& today,
                            std::string_view prefix) {
  return CheckExtensionOn(rules, state, months, date, today, prefix, Field(prefix, "date"));
}

absl::Status CheckExtension(const DevelopmentRules& rules, const PipelineState& state,
                            int32_t months, const CivilDate& today, std::string_view prefix) {
  return CheckExtensionOn(rules, state, months, today, today, prefix, Field(prefix, "months"));
}

std::optional<CivilDate> ProbationEnds(const DevelopmentRules& rules, const PipelineState& state) {
  for (const StageEntry& entry : state.history) {
    if (entry.stage != Stage::kProbationary) {
      continue;
    }
    // Two steps: an extension runs from the original due date, not from the admission.
    auto due = time::AddMonths(entry.date, rules.probation_months);
    if (!due.ok()) {
      return std::nullopt;
    }
    auto extended = time::AddMonths(*due, state.extension_months);
    if (!extended.ok()) {
      return std::nullopt;
    }
    return *extended;
  }
  return std::nullopt;
}

int32_t PartyStandingYears(const CivilDate& full_date, const CivilDate& as_of) {
  if (as_of < full_date) {
    return 0;
  }
  int32_t years = as_of.year - full_date.year;
  if (Anniversary(full_date, years) > as_of) {
    --years;
  }
  return std::max(years, 0);
}

CivilDate ComingJulyFirst(const CivilDate& today) {
  const CivilDate this_year{today.year, 7, 1};
  return today <= this_year ? this_year : CivilDate{today.year + 1, 7, 1};
}

bool ReachesStandingBy(const CivilDate& full_date, int32_t years, const CivilDate& today) {
  return PartyStandingYears(full_date, ComingJulyFirst(today)) >= years;
}

}  // namespace dj::member
