#include "services/member/src/member_validation.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/rpc/text.h"
#include "common/runtime/status_macros.h"

namespace dj::member {

namespace pb = dangjian::member::v1;
// An optional date field of the request: absent, or a valid date (else naming `field`).
absl::StatusOr<std::optional<time::CivilDate>> OptionalDate(bool has, const google::type::Date& d,
                                                            std::string_view field) {
  if (!has) {
    return std::optional<time::CivilDate>();
  }
  ASSIGN_OR_RETURN(const time::CivilDate date, time::FromProto(d, field));
  return std::optional<time::CivilDate>(date);
}

void SetDate(const std::optional<time::CivilDate>& d, google::type::Date* out) {
  if (d.has_value()) {
    *out = time::ToProto(*d);
  }
}

Gender GenderOf(int32_t g) {
  return g == pb::MALE ? Gender::kMale : g == pb::FEMALE ? Gender::kFemale : Gender::kUnspecified;
}
int32_t GenderProto(Gender g) {
  return g == Gender::kMale ? pb::MALE : g == Gender::kFemale ? pb::FEMALE : 0;
}

// The stage dates a record holds, in pipeline order.
std::vector<StageEntry> HistoryOf(const MemberRow& row) {
  std::vector<StageEntry> out;
  const std::pair<Stage, const std::optional<time::CivilDate>*> dates[] = {
      {Stage::kApplicant, &row.application_date},
      {Stage::kActivist, &row.activist_date},
      {Stage::kCandidate, &row.candidate_date},
      {Stage::kProbationary, &row.join_date},
      {Stage::kFull, &row.full_member_date}};
  for (const auto& [stage, date] : dates) {
    if (date->has_value() && static_cast<int32_t>(stage) <= row.stage) {
      out.push_back({stage, **date});
    }
  }
  return out;
}

PipelineState StateOf(const MemberRow& row) {
  return {.birth_date = row.birth_date,
          .history = HistoryOf(row),
          .extensions = row.extensions,
          .extension_months = row.extension_months};
}

// Text fields of a record, trimmed and checked.
absl::Status TakeText(std::string_view in, std::string_view field, int max_chars, bool required,
                      std::string& out) {
  out = rpc::TrimDisplayName(in);
  return rpc::ValidateText(out, field, max_chars, required);
}

const rpc::UpdatableFields& UpdatableMemberFields() {
  static const rpc::UpdatableFields kFields = {
      .fields = {"display_name", "gender", "ethnicity", "birth_date", "id_number", "phone",
                 "education", "work_unit", "job_title", "category", "party_affairs_cadre",
                 "residence_community", "community_report_date"},
      .refused = {
          {"name", "is output only"},
          {"organization", "changes only by a transfer"},
          {"stage", "changes only through the pipeline methods (:admitActivist, ...)"},
          {"status", "changes only through :changeStatus"},
          {"application_date", "is set by the pipeline"},
          {"activist_date", "is set by the pipeline"},
          {"candidate_date", "is set by the pipeline"},
          {"join_date", "is set by the pipeline"},
          {"full_member_date", "is set by the pipeline"},
          {"party_standing_years", "is output only"},
          {"probation_end_date", "is output only"},
          {"pii_masked", "is output only"},
          {"etag", "is output only"},
          {"create_time", "is output only"},
          {"update_time", "is output only"},
      }};
  return kFields;
}

std::set<std::string> SetMemberFields(const pb::Member& in) {
  std::set<std::string> set;
  if (!in.display_name().empty()) set.insert("display_name");
  if (in.gender() != 0) set.insert("gender");
  if (!in.ethnicity().empty()) set.insert("ethnicity");
  if (in.has_birth_date()) set.insert("birth_date");
  if (!in.id_number().empty()) set.insert("id_number");
  if (!in.phone().empty()) set.insert("phone");
  if (in.education() != 0) set.insert("education");
  if (!in.work_unit().empty()) set.insert("work_unit");
  if (!in.job_title().empty()) set.insert("job_title");
  if (in.category() != 0) set.insert("category");
  if (in.party_affairs_cadre()) set.insert("party_affairs_cadre");
  if (!in.residence_community().empty()) set.insert("residence_community");
  if (in.has_community_report_date()) set.insert("community_report_date");
  return set;
}

absl::Status TakeDetails(const pb::Member& in, const std::set<std::string>& paths,
                         const time::CivilDate& today, Details& d) {
  MemberRow& row = d.row;
  if (paths.contains("display_name")) {
    RETURN_IF_ERROR(
        TakeText(in.display_name(), "member.display_name", kMaxNameChars, true, row.display_name));
  }
  if (paths.contains("gender")) {
    if (!pb::Gender_IsValid(in.gender())) {
      return rpc::InvalidArgument({{"member.gender", "must be MALE or FEMALE"}});
    }
    row.gender = in.gender();
  }
  if (paths.contains("ethnicity")) {
    RETURN_IF_ERROR(TakeText(in.ethnicity(), "member.ethnicity", 20, false, row.ethnicity));
  }
  if (paths.contains("birth_date")) {
    ASSIGN_OR_RETURN(row.birth_date,
                     OptionalDate(in.has_birth_date(), in.birth_date(), "member.birth_date"));
    if (row.birth_date.has_value() && *row.birth_date > today) {
      return rpc::InvalidArgument({{"member.birth_date", "must not be in the future"}});
    }
  }
  if (paths.contains("id_number")) {
    if (in.id_number().empty()) {
      return rpc::InvalidArgument(
          {{"member.id_number", "required: the resident ID number (18 characters)"}});
    }
    ASSIGN_OR_RETURN(d.id_number, NormalizeIdNumber(in.id_number(), "member.id_number", today));
  }
  if (paths.contains("phone") && !in.phone().empty()) {
    ASSIGN_OR_RETURN(d.phone, NormalizePhone(in.phone(), "member.phone"));
  }
  if (paths.contains("education")) {
    if (!pb::Education_IsValid(in.education())) {
      return rpc::InvalidArgument({{"member.education", "must be a known level"}});
    }
    row.education = in.education();
  }
  if (paths.contains("work_unit")) {
    RETURN_IF_ERROR(TakeText(in.work_unit(), "member.work_unit", 100, false, row.work_unit));
  }
  if (paths.contains("job_title")) {
    RETURN_IF_ERROR(TakeText(in.job_title(), "member.job_title", 50, false, row.job_title));
  }
  if (paths.contains("category")) {
    if (in.category() == pb::MEMBER_CATEGORY_UNSPECIFIED ||
        !pb::MemberCategory_IsValid(in.category())) {
      return rpc::InvalidArgument(
          {{"member.category", "required: IN_SERVICE, RETIRED, STUDENT or OTHER"}});
    }
    row.category = in.category();
  }
  if (paths.contains("party_affairs_cadre")) {
    row.party_affairs_cadre = in.party_affairs_cadre();
  }
  if (paths.contains("residence_community")) {
    RETURN_IF_ERROR(TakeText(in.residence_community(), "member.residence_community", 100, false,
                             row.residence_community));
  }
  if (paths.contains("community_report_date")) {
    ASSIGN_OR_RETURN(row.community_report_date,
                     OptionalDate(in.has_community_report_date(), in.community_report_date(),
                                  "member.community_report_date"));
    if (row.community_report_date.has_value() && *row.community_report_date > today) {
      return rpc::InvalidArgument({{"member.community_report_date", "must not be in the future"}});
    }
  }
  return absl::OkStatus();
}

// The ID number's birth date and gender fill in what the record leaves out, and must agree with
// what it states.
absl::Status AgreeWithIdNumber(Details& d) {
  if (d.id_number.empty()) {
    return absl::OkStatus();
  }
  const IdNumberFacts facts = FactsOf(d.id_number);
  RETURN_IF_ERROR(CrossCheck(facts, d.row.birth_date, GenderOf(d.row.gender), "member.birth_date",
                             "member.gender"));
  if (!d.row.birth_date.has_value()) {
    d.row.birth_date = facts.birth_date;
  }
  if (d.row.gender == 0) {
    d.row.gender = GenderProto(facts.gender);
  }
  return absl::OkStatus();
}

// A record registered at a stage: the dates up to it, strictly increasing, none in the future,
// the one of the stage itself required, and the applicant old enough at the first of them.
absl::Status TakeStageDates(const pb::Member& in, const DevelopmentRules& rules,
                            const time::CivilDate& today, MemberRow& row) {
  if (in.stage() == pb::STAGE_UNSPECIFIED || !pb::Stage_IsValid(in.stage())) {
    return rpc::InvalidArgument(
        {{"member.stage", "required: APPLICANT, ACTIVIST, CANDIDATE, PROBATIONARY or FULL"}});
  }
  row.stage = in.stage();
  struct Field {
    Stage stage;
    const char* name;
    bool has;
    const google::type::Date& date;
    std::optional<time::CivilDate>* out;
  };
  const Field fields[] = {{Stage::kApplicant, "member.application_date", in.has_application_date(),
                           in.application_date(), &row.application_date},
                          {Stage::kActivist, "member.activist_date", in.has_activist_date(),
                           in.activist_date(), &row.activist_date},
                          {Stage::kCandidate, "member.candidate_date", in.has_candidate_date(),
                           in.candidate_date(), &row.candidate_date},
                          {Stage::kProbationary, "member.join_date", in.has_join_date(),
                           in.join_date(), &row.join_date},
                          {Stage::kFull, "member.full_member_date", in.has_full_member_date(),
                           in.full_member_date(), &row.full_member_date}};
  std::optional<time::CivilDate> previous;
  std::string previous_field;
  for (const Field& f : fields) {
    const int32_t stage = static_cast<int32_t>(f.stage);
    if (stage > row.stage) {
      if (f.has) {
        return rpc::InvalidArgument(
            {{f.name, absl::StrCat("must be empty for a member at stage ",
                                   pb::Stage_Name(static_cast<pb::Stage>(row.stage)))}});
      }
      continue;
    }
    ASSIGN_OR_RETURN(*f.out, OptionalDate(f.has, f.date, f.name));
    // The stage's own date, and for a member the date of joining (入党), are required.
    if ((stage == row.stage || (f.stage == Stage::kProbationary && row.stage == pb::FULL)) &&
        !f.out->has_value()) {
      return rpc::InvalidArgument(
          {{f.name, absl::StrCat("required for a member at stage ",
                                 pb::Stage_Name(static_cast<pb::Stage>(row.stage)))}});
    }
    if (!f.out->has_value()) {
      continue;
    }
    if (**f.out > today) {
      return rpc::InvalidArgument({{f.name, "must not be in the future"}});
    }
    if (previous.has_value() && **f.out <= *previous) {
      return rpc::InvalidArgument(
          {{f.name, absl::StrCat("must be after ", previous_field, " (", time::ToIso(*previous),
                                 "): stages follow one another")}});
    }
    if (!previous.has_value() && row.birth_date.has_value()) {
      auto adult = time::AddYears(*row.birth_date, rules.min_application_age_years);
      if (adult.ok() && **f.out < *adult) {
        return rpc::InvalidArgument(
            {{f.name, absl::StrCat("the person must be at least ", rules.min_application_age_years,
                                   " years old on this date")}});
      }
    }
    previous = *f.out;
    previous_field = std::string(f.name).substr(7);  // without "member."
  }
  return absl::OkStatus();
}

absl::StatusOr<Details> NewMemberDetails(const pb::Member& in, const MemberRules& rules,
                                         const time::CivilDate& today) {
  Details d;
  const std::set<std::string> paths(UpdatableMemberFields().fields.begin(),
                                    UpdatableMemberFields().fields.end());
  RETURN_IF_ERROR(TakeDetails(in, paths, today, d));
  RETURN_IF_ERROR(AgreeWithIdNumber(d));
  RETURN_IF_ERROR(TakeStageDates(in, rules.development, today, d.row));
  if (d.row.stage == pb::PROBATIONARY) {
    d.row.probation_end_date = ProbationEnds(rules.development, StateOf(d.row));
  }
  return d;
}

}  // namespace dj::member
