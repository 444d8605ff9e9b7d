// Structure rules as a versioned rule set: the wire form (dangjian.org.v1.StructureRuleSet) to and
// from the StructureRules the checks read, validated, and the national default read from
// services/org/rules/structure.json (compiled in). Plain C++: no SQL, no gRPC.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/rules/rule_book.h"
#include "common/time/civil_date.h"
#include "dangjian/org/v1/rules.pb.h"
#include "services/org/src/organization_rules.h"

namespace dj::org {

using RuleSetVersion = rules::Version<StructureRules>;

// Checks a rule set a committee admin sends; violations name "rule_set.<field>". Does not look
// at name, version, effective_date, create_time or creator.
absl::StatusOr<StructureRules> RulesFromProto(const dangjian::org::v1::StructureRuleSet& in);
dangjian::org::v1::StructureRuleSet ToProto(const RuleSetVersion& v);

// Version 0, parsed once from the compiled-in JSON (a broken file fails the build's tests).
const RuleSetVersion& NationalDefaultVersion();

// Proto JSON of a rule set, as stored; and back.
std::string RuleSetJson(const dangjian::org::v1::StructureRuleSet& rule_set);
absl::StatusOr<dangjian::org::v1::StructureRuleSet> RuleSetFromJson(std::string_view json);

}  // namespace dj::org
