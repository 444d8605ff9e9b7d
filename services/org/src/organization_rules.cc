// Nesting and naming rules for organizations.
#include "services/org/src/organization_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"

namespace dj::org {

using dangjian::org::v1::OrganizationKind;

// StructureRules::NationalDefaults() is in structure_rule_set.cc: the defaults are data
// (services/org/rules/structure.json).

std::string_view KindName(Kind kind) {
  const std::string& name = dangjian::org::v1::OrganizationKind_Name(kind);
  return name.empty() ? std::string_view("UNKNOWN") : std::string_view(name);
}

absl::Status CheckRoot(const StructureRules& rules, Kind kind, bool has_parent,
                       std::string_view kind_field, std::string_view parent_field) {
  if (!rules.rank.contains(kind)) {
    return rpc::InvalidArgument(
        {{std::string(kind_field),
          kind == dangjian::org::v1::ORGANIZATION_KIND_UNSPECIFIED
              ? "required; one of WORK_COMMITTEE, PARTY_COMMITTEE, LEADING_GROUP, "
                "GENERAL_BRANCH, BRANCH, PARTY_GROUP"
              : "is not a kind the structure rules know"}});
  }
  const bool is_root_kind =
      std::find(rules.root_kinds.begin(), rules.root_kinds.end(), kind) != rules.root_kinds.end();
  if (!has_parent && !is_root_kind) {
    return rpc::InvalidArgument(
        {{std::string(parent_field),
          absl::StrCat("required: a ", AV(KindName(kind)), " must have a parent")}},
        "ILLEGAL_NESTING");
  }
  if (has_parent && is_root_kind) {
    return rpc::InvalidArgument(
        {{std::string(parent_field),
          absl::StrCat("must be empty: a ", AV(KindName(kind)), " is the root of its tree")}},
        "ILLEGAL_NESTING");
  }
  return absl::OkStatus();
}

absl::Status CheckPlacement(const StructureRules& rules, std::optional<Kind> parent_kind, Kind kind,
                            std::string_view kind_field, std::string_view parent_field) {
  if (absl::Status s = CheckRoot(rules, kind, parent_kind.has_value(), kind_field, parent_field);
      !s.ok() || !parent_kind.has_value()) {
    return s;
  }
  const std::string pf(parent_field);
  const int rank = rules.rank.at(kind);
  if (auto only = rules.only_under.find(kind);
      only != rules.only_under.end() && only->second != *parent_kind) {
    return rpc::InvalidArgument(
        {{pf,
          absl::StrCat("a ", AV(KindName(kind)), " may only be placed under a ",
                       AV(KindName(only->second)), ", not under a ", AV(KindName(*parent_kind)))}},
        "ILLEGAL_NESTING");
  }
  auto parent_rank = rules.rank.find(*parent_kind);
  if (parent_rank == rules.rank.end() || parent_rank->second >= rank) {
    return rpc::InvalidArgument(
        {{pf, absl::StrCat("a ", AV(KindName(kind)), " cannot be placed under a ",
                           AV(KindName(*parent_kind)), ": a child must rank below its parent")}},
        "ILLEGAL_NESTING");
  }
  return absl::OkStatus();
}

absl::Status CheckChildrenFit(const StructureRules& rules, Kind kind,
                              const std::vector<Kind>& child_kinds, std::string_view kind_field) {
  for (Kind child : child_kinds) {
    absl::Status s = CheckPlacement(rules, kind, child, "", "");
    if (!s.ok()) {
      return rpc::InvalidArgument(
          {{std::string(kind_field),
            absl::StrCat("cannot become ", AV(KindName(kind)), ": it has a ", AV(KindName(child)),
                         " child that may not sit under a ", AV(KindName(kind)))}},
          "ILLEGAL_NESTING");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDisplayName(const StructureRules& rules, std::string_view name,
                                 std::string_view field) {
  if (name.empty()) {
    return rpc::InvalidArgument({{std::string(field), "required; the organization's full name"}});
  }
  return ValidateText(name, field, rules.max_display_name_chars, /*required=*/true);
}

}  // namespace dj::org
