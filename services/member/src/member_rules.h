// The member service's rules as one versioned rule set (kind "member"): the development
// pipeline's periods, the dues brackets, an introduction letter's validity. The wire form
// (dangjian.member.v1.MemberRuleSet) to and from the structs the domain code reads, validated,
// and the national default read from services/member/rules/member.json (compiled in).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/rules/rule_book.h"
#include "dangjian/member/v1/member.pb.h"
#include "services/member/src/development.h"
#include "services/member/src/dues.h"

namespace dj::member {

struct MemberRules {
  DevelopmentRules development;
  DuesRules dues;
  int32_t letter_valid_months = 3;
};

using MemberRuleVersion = rules::Version<MemberRules>;
using MemberRuleBook = rules::RuleBook<MemberRules>;

// Checks a rule set a committee admin sends; violations name "rule_set.<part>.<field>".
absl::StatusOr<MemberRules> MemberRulesFromProto(const dangjian::member::v1::MemberRuleSet& in);
dangjian::member::v1::MemberRuleSet ToProto(const MemberRuleVersion& v);

// Version 0, parsed once from the compiled-in JSON (a broken file fails the tests).
const MemberRuleVersion& NationalMemberRules();

// Proto JSON of a rule set, as stored; and back (DATA_LOSS when it does not parse).
std::string MemberRuleSetJson(const dangjian::member::v1::MemberRuleSet& rule_set);
absl::StatusOr<MemberRules> MemberRulesFromJson(std::string_view json);

// The book of kind "member" over the service's rule_sets table.
std::unique_ptr<MemberRuleBook> NewMemberRuleBook(db::Pool& pool, std::function<int64_t()> now_us);

}  // namespace dj::member
