// Structural rules for the organization tree, as plain C++ over data: which kinds may sit under
// which, and what a valid organization looks like. No gRPC, no SQL, so tests drive it directly.
// The rule values are data (StructureRules): versioned rule sets with an effective date
// (structure_rule_set.h, rule_book.h), the national defaults in services/org/rules/.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/rpc/text.h"
#include "absl/status/status.h"
#include "dangjian/org/v1/org.pb.h"

namespace dj::org {

using Kind = dangjian::org::v1::OrganizationKind;

struct StructureRules {
  // Lower rank sits higher in the tree; a child's rank must be greater than its parent's.
  std::map<Kind, int> rank;
  // Kinds that may only sit directly under one kind (a party group only inside a branch).
  std::map<Kind, Kind> only_under;
  // Kinds that are roots: they have no parent, and every tree starts with one.
  std::vector<Kind> root_kinds;
  // Longest display name, in characters (code points).
  int max_display_name_chars = 100;
  // Length of a term (任期) in years, by kind; kinds not listed are not elected (no terms).
  std::map<Kind, int> term_years;
  // How far a re-election (换届) may be brought forward or put off, in months (with approval).
  int max_term_shift_months = 12;
  // The most units (机关单位) one joint branch (联合支部) may cover.
  int joint_branch_max_units = 5;

  // 支部工作条例 (2018) and 机关基层组织工作条例 (2019) as the national defaults, read from
  // services/org/rules/structure.json (version 0 of the structure rule set).
  static StructureRules NationalDefaults();
};

// The checks that need no parent row: `kind` is known, and it has a parent exactly when it is
// not a root kind.
absl::Status CheckRoot(const StructureRules& rules, Kind kind, bool has_parent,
                       std::string_view kind_field, std::string_view parent_field);

// Whether an organization of `kind` may be placed under a parent of `parent_kind` (nullopt: no
// parent). Violations name `kind_field` or `parent_field`.
absl::Status CheckPlacement(const StructureRules& rules, std::optional<Kind> parent_kind, Kind kind,
                            std::string_view kind_field, std::string_view parent_field);

// Whether an organization may become `kind` while it has children of `child_kinds`.
absl::Status CheckChildrenFit(const StructureRules& rules, Kind kind,
                              const std::vector<Kind>& child_kinds, std::string_view kind_field);

// Text fields: common/rpc/text.h.
using rpc::TrimDisplayName;
using rpc::ValidateText;
// Non-empty after trimming, at most max_display_name_chars characters, valid UTF-8, no
// control characters.
absl::Status ValidateDisplayName(const StructureRules& rules, std::string_view name,
                                 std::string_view field);

std::string_view KindName(Kind kind);

}  // namespace dj::org
