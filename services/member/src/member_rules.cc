#include "services/member/src/member_rules.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/runtime/embedded_file.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/civil_date.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace dj::member {

namespace rules_files {
std::span<const EmbeddedFile> Files();
}  // namespace rules_files

namespace {

namespace pb = dangjian::member::v1;

std::vector<DuesBracket> BracketsFrom(
    const google::protobuf::RepeatedPtrField<pb::DuesBracket>& in) {
  std::vector<DuesBracket> out;
  for (const pb::DuesBracket& b : in) {
    out.push_back({.up_to_fen = b.up_to_fen(), .rate_basis_points = b.rate_basis_points()});
  }
  return out;
}

void BracketsTo(const std::vector<DuesBracket>& in,
                google::protobuf::RepeatedPtrField<pb::DuesBracket>* out) {
  for (const DuesBracket& b : in) {
    pb::DuesBracket* o = out->Add();
    o->set_up_to_fen(b.up_to_fen);
    o->set_rate_basis_points(b.rate_basis_points);
  }
}

}  // namespace

absl::StatusOr<MemberRules> MemberRulesFromProto(const pb::MemberRuleSet& in) {
  if (!in.has_development()) {
    return rpc::InvalidArgument({{"rule_set.development", "required"}});
  }
  if (!in.has_dues()) {
    return rpc::InvalidArgument({{"rule_set.dues", "required"}});
  }
  if (!in.has_transfer()) {
    return rpc::InvalidArgument({{"rule_set.transfer", "required"}});
  }
  MemberRules r;
  const pb::DevelopmentRuleSet& d = in.development();
  r.development = {.min_application_age_years = d.min_application_age_years(),
                   .min_activist_months = d.min_activist_months(),
                   .probation_months = d.probation_months(),
                   .extension_min_months = d.extension_min_months(),
                   .extension_max_months = d.extension_max_months(),
                   .max_extensions = d.max_extensions(),
                   .sponsors_required = d.sponsors_required()};
  RETURN_IF_ERROR(ValidateDevelopmentRules(r.development));
  const pb::DuesRuleSet& u = in.dues();
  r.dues.in_service = BracketsFrom(u.in_service());
  r.dues.retired = BracketsFrom(u.retired());
  r.dues.student_fen = u.student_fen();
  r.dues.other_fen = u.other_fen();
  r.dues.max_back_months = u.max_back_months();
  r.dues.arrears_alert_months = u.arrears_alert_months();
  RETURN_IF_ERROR(ValidateDuesRules(r.dues));
  r.letter_valid_months = in.transfer().letter_valid_months();
  if (r.letter_valid_months < 1 || r.letter_valid_months > 24) {
    return rpc::InvalidArgument(
        {{"rule_set.transfer.letter_valid_months", "must be 1-24 months (3 by national rules)"}});
  }
  return r;
}

pb::MemberRuleSet ToProto(const MemberRuleVersion& v) {
  pb::MemberRuleSet out;
  out.set_name(absl::StrCat("ruleSets/member/versions/", v.version));
  out.set_version(v.version);
  *out.mutable_effective_date() = time::ToProto(v.effective_date);
  out.set_note(v.note);
  const DevelopmentRules& d = v.rules.development;
  pb::DevelopmentRuleSet* od = out.mutable_development();
  od->set_min_application_age_years(d.min_application_age_years);
  od->set_min_activist_months(d.min_activist_months);
  od->set_probation_months(d.probation_months);
  od->set_extension_min_months(d.extension_min_months);
  od->set_extension_max_months(d.extension_max_months);
  od->set_max_extensions(d.max_extensions);
  od->set_sponsors_required(d.sponsors_required);
  pb::DuesRuleSet* ou = out.mutable_dues();
  BracketsTo(v.rules.dues.in_service, ou->mutable_in_service());
  BracketsTo(v.rules.dues.retired, ou->mutable_retired());
  ou->set_student_fen(v.rules.dues.student_fen);
  ou->set_other_fen(v.rules.dues.other_fen);
  ou->set_max_back_months(v.rules.dues.max_back_months);
  ou->set_arrears_alert_months(v.rules.dues.arrears_alert_months);
  out.mutable_transfer()->set_letter_valid_months(v.rules.letter_valid_months);
  out.set_creator(v.creator);
  if (v.create_time_us > 0) {
    *out.mutable_create_time() =
        google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(v.create_time_us);
  }
  return out;
}

std::string MemberRuleSetJson(const pb::MemberRuleSet& rule_set) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(rule_set, &json);
  return json;
}

namespace {
absl::StatusOr<pb::MemberRuleSet> ProtoFromJson(std::string_view json) {
  pb::MemberRuleSet out;
  auto s = google::protobuf::util::JsonStringToMessage(std::string(json), &out);
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat("member rule set JSON: ", s.message().as_string()));
  }
  return out;
}
}  // namespace

absl::StatusOr<MemberRules> MemberRulesFromJson(std::string_view json) {
  ASSIGN_OR_RETURN(const pb::MemberRuleSet proto, ProtoFromJson(json));
  return MemberRulesFromProto(proto);
}

const MemberRuleVersion& NationalMemberRules() {
  static const MemberRuleVersion* const kDefault = [] {
    for (const EmbeddedFile& f : rules_files::Files()) {
      if (!f.path.ends_with("member.json")) {
        continue;
      }
      auto parsed = ProtoFromJson(f.data);
      auto rules = parsed.ok() ? MemberRulesFromProto(*parsed) : parsed.status();
      if (!rules.ok()) {
        log::Error("the shipped member rules are invalid",
                   {{"error", std::string(SV(rules.status().message()))}});
        std::abort();  // a build defect, caught by the rules tests before it ships
      }
      return new MemberRuleVersion{
          .version = 0,
          .effective_date = time::FromProto(parsed->effective_date(), "effective_date")
                                .value_or(time::CivilDate{1900, 1, 1}),
          .note = parsed->note(),
          .rules = *rules};
    }
    log::Error("services/member/rules/member.json is not compiled in", {});
    std::abort();
  }();
  return *kDefault;
}

std::unique_ptr<MemberRuleBook> NewMemberRuleBook(db::Pool& pool, std::function<int64_t()> now_us) {
  return std::make_unique<MemberRuleBook>(pool, "member", NationalMemberRules(),
                                          MemberRulesFromJson, std::move(now_us));
}

}  // namespace dj::member
