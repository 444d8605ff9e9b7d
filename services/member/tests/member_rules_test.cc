// The shipped member rule set parses, validates and says what domain.md says; a committee's
// version is checked field by field.
#include "services/member/src/member_rules.h"

#include <gtest/gtest.h>

#include "common/rpc/errors.h"

namespace dj::member {
namespace {

TEST(MemberRulesTest, TheNationalDefaultIsTheDomainsRules) {
  const MemberRuleVersion& v = NationalMemberRules();
  EXPECT_EQ(v.version, 0);
  EXPECT_EQ(v.rules.development.min_application_age_years, 18);
  EXPECT_EQ(v.rules.development.min_activist_months, 12);
  EXPECT_EQ(v.rules.development.probation_months, 12);
  EXPECT_EQ(v.rules.development.sponsors_required, 2);
  EXPECT_EQ(v.rules.letter_valid_months, 3);
  EXPECT_EQ(v.rules.dues.max_back_months, 6);
  // The brackets of 中组部 2008: 3000.00 / 3000.01 / 5000.00 / 10000.00 yuan.
  EXPECT_EQ(MonthlyDuesFen(v.rules.dues, DuesCategory::kInService, 300000), 1500);
  EXPECT_EQ(MonthlyDuesFen(v.rules.dues, DuesCategory::kInService, 300001), 3000);
  EXPECT_EQ(MonthlyDuesFen(v.rules.dues, DuesCategory::kInService, 500000), 5000);
  EXPECT_EQ(MonthlyDuesFen(v.rules.dues, DuesCategory::kInService, 1000000), 15000);
  EXPECT_EQ(MonthlyDuesFen(v.rules.dues, DuesCategory::kRetired, 500001), 5000);
  EXPECT_EQ(MonthlyDuesFen(v.rules.dues, DuesCategory::kStudent, 900000), 20);
}

TEST(MemberRulesTest, ARoundTripThroughTheWireKeepsEveryValue) {
  const MemberRuleVersion& v = NationalMemberRules();
  auto back = MemberRulesFromProto(ToProto(v));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(ToProto({.rules = *back}).development().DebugString(),
            ToProto(v).development().DebugString());
  EXPECT_EQ(ToProto({.rules = *back}).dues().DebugString(), ToProto(v).dues().DebugString());
  auto json = MemberRulesFromJson(MemberRuleSetJson(ToProto(v)));
  ASSERT_TRUE(json.ok()) << json.status();
}

TEST(MemberRulesTest, BadVersionsNameTheField) {
  const dangjian::member::v1::MemberRuleSet good = ToProto(NationalMemberRules());
  struct Case {
    std::string field;
    std::function<void(dangjian::member::v1::MemberRuleSet&)> spoil;
  };
  const Case cases[] = {
      {"rule_set.development", [](auto& r) { r.clear_development(); }},
      {"rule_set.dues", [](auto& r) { r.clear_dues(); }},
      {"rule_set.transfer", [](auto& r) { r.clear_transfer(); }},
      {"rule_set.transfer.letter_valid_months",
       [](auto& r) { r.mutable_transfer()->set_letter_valid_months(0); }},
      {"rule_set.development.min_activist_months",
       [](auto& r) { r.mutable_development()->set_min_activist_months(-1); }},
      {"rule_set.dues.in_service[1].up_to_fen",
       [](auto& r) { r.mutable_dues()->mutable_in_service(1)->set_up_to_fen(100); }},
  };
  for (const Case& c : cases) {
    dangjian::member::v1::MemberRuleSet bad = good;
    c.spoil(bad);
    auto out = MemberRulesFromProto(bad);
    ASSERT_FALSE(out.ok()) << c.field;
    bool named = false;
    for (const rpc::FieldViolation& v : rpc::Violations(out.status())) {
      named = named || v.field == c.field;
    }
    EXPECT_TRUE(named) << c.field << ": " << out.status();
  }
}

}  // namespace
}  // namespace dj::member
