#include "services/org/src/structure_rule_set.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/runtime/embedded_file.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"
#include "google/protobuf/util/json_util.h"

namespace dj::org::rules_files {
std::span<const EmbeddedFile> Files();
}  // namespace dj::org::rules_files

namespace dj::org {

namespace pb = dangjian::org::v1;

absl::StatusOr<StructureRules> RulesFromProto(const pb::StructureRuleSet& in) {
  std::vector<rpc::FieldViolation> v;
  StructureRules r;
  std::set<int> seen;
  for (int i = 0; i < in.kinds_size(); ++i) {
    const pb::KindRule& k = in.kinds(i);
    const std::string at = absl::StrCat("rule_set.kinds[", i, "]");
    if (k.kind() == pb::ORGANIZATION_KIND_UNSPECIFIED || !pb::OrganizationKind_IsValid(k.kind())) {
      v.push_back({at + ".kind", "required: a known organization kind"});
      continue;
    }
    if (!seen.insert(k.kind()).second) {
      v.push_back({at + ".kind", absl::StrCat(AV(KindName(k.kind())), " is listed twice")});
      continue;
    }
    if (k.rank() < 0 || k.rank() > 20) {
      v.push_back({at + ".rank", "must be between 0 and 20"});
    }
    if (k.term_years() < 0 || k.term_years() > 10) {
      v.push_back({at + ".term_years", "must be between 0 (not elected) and 10"});
    }
    r.rank[k.kind()] = k.rank();
    if (k.only_under() != pb::ORGANIZATION_KIND_UNSPECIFIED) {
      r.only_under[k.kind()] = k.only_under();
    }
    if (k.root()) {
      r.root_kinds.push_back(k.kind());
    }
    if (k.term_years() > 0) {
      r.term_years[k.kind()] = k.term_years();
    }
  }
  if (in.kinds().empty()) {
    v.push_back({"rule_set.kinds", "required: every kind the tree may hold"});
  } else if (r.root_kinds.empty()) {
    v.push_back({"rule_set.kinds", "one kind at least must be a root"});
  }
  for (int i = 0; i < in.kinds_size(); ++i) {
    const pb::KindRule& k = in.kinds(i);
    if (k.only_under() == pb::ORGANIZATION_KIND_UNSPECIFIED) {
      continue;
    }
    const std::string at = absl::StrCat("rule_set.kinds[", i, "].only_under");
    if (!r.rank.contains(k.only_under())) {
      v.push_back({at, "must be a kind this rule set lists"});
    } else if (r.rank.contains(k.kind()) && r.rank[k.only_under()] >= r.rank[k.kind()]) {
      v.push_back({at, "must rank above (a smaller rank than) the kind itself"});
    }
    if (k.root()) {
      v.push_back({at, "a root kind has no parent"});
    }
  }
  if (in.max_display_name_chars() < 10 || in.max_display_name_chars() > 500) {
    v.push_back({"rule_set.max_display_name_chars", "must be between 10 and 500"});
  }
  if (in.max_term_shift_months() < 0 || in.max_term_shift_months() > 24) {
    v.push_back({"rule_set.max_term_shift_months", "must be between 0 and 24"});
  }
  if (in.joint_branch_max_units() < 1 || in.joint_branch_max_units() > 50) {
    v.push_back({"rule_set.joint_branch_max_units", "must be between 1 and 50"});
  }
  if (!v.empty()) {
    return rpc::InvalidArgument(std::move(v));
  }
  r.max_display_name_chars = in.max_display_name_chars();
  r.max_term_shift_months = in.max_term_shift_months();
  r.joint_branch_max_units = in.joint_branch_max_units();
  return r;
}

pb::StructureRuleSet ToProto(const RuleSetVersion& v) {
  pb::StructureRuleSet out;
  out.set_name(absl::StrCat("ruleSets/structure/versions/", v.version));
  out.set_version(v.version);
  *out.mutable_effective_date() = time::ToProto(v.effective_date);
  out.set_note(v.note);
  for (const auto& [kind, rank] : v.rules.rank) {
    pb::KindRule* k = out.add_kinds();
    k->set_kind(kind);
    k->set_rank(rank);
    if (auto it = v.rules.only_under.find(kind); it != v.rules.only_under.end()) {
      k->set_only_under(it->second);
    }
    k->set_root(std::find(v.rules.root_kinds.begin(), v.rules.root_kinds.end(), kind) !=
                v.rules.root_kinds.end());
    if (auto it = v.rules.term_years.find(kind); it != v.rules.term_years.end()) {
      k->set_term_years(it->second);
    }
  }
  out.set_max_display_name_chars(v.rules.max_display_name_chars);
  out.set_max_term_shift_months(v.rules.max_term_shift_months);
  out.set_joint_branch_max_units(v.rules.joint_branch_max_units);
  if (v.create_time_us > 0) {
    out.mutable_create_time()->set_seconds(v.create_time_us / 1'000'000);
    out.mutable_create_time()->set_nanos(static_cast<int32_t>(v.create_time_us % 1'000'000) *
                                         1000);
  }
  out.set_creator(v.creator);
  return out;
}

std::string RuleSetJson(const pb::StructureRuleSet& rule_set) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(rule_set, &json);
  return json;
}

absl::StatusOr<pb::StructureRuleSet> RuleSetFromJson(std::string_view json) {
  pb::StructureRuleSet out;
  auto s = google::protobuf::util::JsonStringToMessage(std::string(json), &out);
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat("rule set JSON: ", s.message().as_string()));
  }
  return out;
}

const RuleSetVersion& NationalDefaultVersion() {
  static const RuleSetVersion* const kDefault = [] {
    for (const EmbeddedFile& f : rules_files::Files()) {
      if (!f.path.ends_with("structure.json")) {
        continue;
      }
      auto parsed = RuleSetFromJson(f.data);
      auto rules = parsed.ok() ? RulesFromProto(*parsed) : parsed.status();
      if (!rules.ok()) {
        log::Error("the shipped structure rules are invalid",
                   {{"error", std::string(SV(rules.status().message()))}});
        std::abort();  // a build defect, caught by the rules tests before it ships
      }
      return new RuleSetVersion{.version = 0,
                                .effective_date = time::FromProto(parsed->effective_date(),
                                                                  "effective_date")
                                                      .value_or(time::CivilDate{1900, 1, 1}),
                                .note = parsed->note(),
                                .rules = *rules};
    }
    log::Error("services/org/rules/structure.json is not compiled in", {});
    std::abort();
  }();
  return *kDefault;
}

StructureRules StructureRules::NationalDefaults() { return NationalDefaultVersion().rules; }

}  // namespace dj::org
