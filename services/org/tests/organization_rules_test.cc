// Nesting and naming rules, table-driven.
#include "services/org/src/organization_rules.h"

#include "common/rpc/errors.h"
#include "gtest/gtest.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

TEST(NestingTest, EveryPairOfKinds) {
  const StructureRules rules = StructureRules::NationalDefaults();
  struct Case {
    std::optional<Kind> parent;
    Kind child;
    bool ok;
    std::string field;  // the violation's field when refused
  };
  const std::vector<Case> cases = {
      // Roots.
      {std::nullopt, pb::WORK_COMMITTEE, true, ""},
      {std::nullopt, pb::PARTY_COMMITTEE, false, "parent"},
      {std::nullopt, pb::BRANCH, false, "parent"},
      {std::nullopt, pb::PARTY_GROUP, false, "parent"},
      {pb::WORK_COMMITTEE, pb::WORK_COMMITTEE, false, "parent"},
      {pb::BRANCH, pb::WORK_COMMITTEE, false, "parent"},
      // Under a work committee: everything but a party group.
      {pb::WORK_COMMITTEE, pb::PARTY_COMMITTEE, true, ""},
      {pb::WORK_COMMITTEE, pb::LEADING_GROUP, true, ""},
      {pb::WORK_COMMITTEE, pb::GENERAL_BRANCH, true, ""},
      {pb::WORK_COMMITTEE, pb::BRANCH, true, ""},
      {pb::WORK_COMMITTEE, pb::PARTY_GROUP, false, "parent"},
      // A child ranks below its parent.
      {pb::PARTY_COMMITTEE, pb::PARTY_COMMITTEE, false, "parent"},
      {pb::PARTY_COMMITTEE, pb::LEADING_GROUP, false, "parent"},
      {pb::PARTY_COMMITTEE, pb::GENERAL_BRANCH, true, ""},
      {pb::PARTY_COMMITTEE, pb::BRANCH, true, ""},
      {pb::LEADING_GROUP, pb::BRANCH, true, ""},
      {pb::GENERAL_BRANCH, pb::GENERAL_BRANCH, false, "parent"},
      {pb::GENERAL_BRANCH, pb::PARTY_COMMITTEE, false, "parent"},
      {pb::GENERAL_BRANCH, pb::BRANCH, true, ""},
      {pb::BRANCH, pb::BRANCH, false, "parent"},
      {pb::BRANCH, pb::GENERAL_BRANCH, false, "parent"},
      // A party group only directly inside a branch.
      {pb::BRANCH, pb::PARTY_GROUP, true, ""},
      {pb::GENERAL_BRANCH, pb::PARTY_GROUP, false, "parent"},
      {pb::PARTY_COMMITTEE, pb::PARTY_GROUP, false, "parent"},
      {pb::PARTY_GROUP, pb::PARTY_GROUP, false, "parent"},
      {pb::PARTY_GROUP, pb::BRANCH, false, "parent"},
      // Unknown kinds.
      {pb::WORK_COMMITTEE, pb::ORGANIZATION_KIND_UNSPECIFIED, false, "kind"},
      {std::nullopt, static_cast<Kind>(99), false, "kind"},
  };
  for (const Case& c : cases) {
    absl::Status s = CheckPlacement(rules, c.parent, c.child, "kind", "parent");
    const std::string label = std::string(c.parent ? KindName(*c.parent) : "(root)") + " > " +
                              std::string(KindName(c.child));
    EXPECT_EQ(s.ok(), c.ok) << label << ": " << s;
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << label;
      ASSERT_EQ(rpc::Violations(s).size(), 1u) << label;
      EXPECT_EQ(rpc::Violations(s)[0].field, c.field) << label;
    }
  }
}

TEST(NestingTest, RulesAreData) {
  // A city that lets party groups sit under general branches changes data, not code.
  StructureRules rules = StructureRules::NationalDefaults();
  rules.only_under.clear();
  EXPECT_TRUE(CheckPlacement(rules, pb::GENERAL_BRANCH, pb::PARTY_GROUP, "k", "p").ok());
}

TEST(NestingTest, ChildrenMustFitANewKind) {
  const StructureRules rules = StructureRules::NationalDefaults();
  EXPECT_TRUE(CheckChildrenFit(rules, pb::GENERAL_BRANCH, {pb::BRANCH}, "kind").ok());
  EXPECT_TRUE(CheckChildrenFit(rules, pb::PARTY_COMMITTEE, {}, "kind").ok());
  // A branch with party groups cannot become a general branch.
  absl::Status s = CheckChildrenFit(rules, pb::GENERAL_BRANCH, {pb::PARTY_GROUP}, "kind");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(rpc::Violations(s)[0].field, "kind");
  EXPECT_FALSE(CheckChildrenFit(rules, pb::BRANCH, {pb::BRANCH}, "kind").ok());
}

TEST(DisplayNameTest, TrimAndValidate) {
  const StructureRules rules = StructureRules::NationalDefaults();
  EXPECT_EQ(TrimDisplayName("  第一党支部 \t"), "第一党支部");
  EXPECT_EQ(TrimDisplayName("\xE3\x80\x80第一党支部\xE3\x80\x80"), "第一党支部");  // U+3000
  EXPECT_EQ(TrimDisplayName("   "), "");
  EXPECT_EQ(TrimDisplayName("第一 党支部"), "第一 党支部");

  std::string hundred;
  for (int i = 0; i < 100; ++i) {
    hundred += "党";
  }
  struct Case {
    std::string name;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"市财政局机关党委", true},
      {"A", true},
      {hundred, true},
      {hundred + "党", false},
      {"", false},
      {"bad\x01name", false},
      {"bad\x7fname", false},
      {"\xff\xfe", false},
      {"\xe5\x85", false},  // truncated UTF-8
  };
  for (const Case& c : cases) {
    absl::Status s = ValidateDisplayName(rules, c.name, "display_name");
    EXPECT_EQ(s.ok(), c.ok) << c.name << ": " << s;
    if (!s.ok()) {
      EXPECT_EQ(rpc::Violations(s)[0].field, "display_name");
    }
  }
}

}  // namespace
}  // namespace dj::org
