// Structure rules as versioned data: the shipped defaults, validation of a new version, and the
// org service applying whichever version is in force on the day (injected clock), on MariaDB and
// SQLite.
#include "absl/strings/str_cat.h"
#include "common/cache/cache.h"
#include "common/rpc/errors.h"
#include "gtest/gtest.h"
#include "services/org/src/org_server.h"
#include "services/org/tests/org_test_db.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

pb::StructureRuleSet Valid() { return ToProto(NationalDefaultVersion()); }

TEST(StructureRuleSetTest, TheShippedDefaultsAreTheNationalRules) {
  const StructureRules r = StructureRules::NationalDefaults();
  EXPECT_EQ(r.term_years.at(pb::PARTY_COMMITTEE), 5);
  EXPECT_EQ(r.term_years.at(pb::GENERAL_BRANCH), 3);
  EXPECT_EQ(r.term_years.at(pb::BRANCH), 3);
  EXPECT_FALSE(r.term_years.contains(pb::PARTY_GROUP));
  EXPECT_EQ(r.only_under.at(pb::PARTY_GROUP), pb::BRANCH);
  EXPECT_EQ(r.root_kinds, std::vector<Kind>{pb::WORK_COMMITTEE});
  EXPECT_EQ(r.max_term_shift_months, 12);
  EXPECT_EQ(r.joint_branch_max_units, 5);
  EXPECT_EQ(r.max_display_name_chars, 100);
  EXPECT_EQ(NationalDefaultVersion().version, 0);
  // The wire form round-trips.
  auto again = RulesFromProto(Valid());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->rank, r.rank);
  EXPECT_EQ(again->term_years, r.term_years);
}

TEST(StructureRuleSetTest, ABadRuleSetNamesItsField) {
  struct Case {
    std::function<void(pb::StructureRuleSet&)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.clear_kinds(); }, "rule_set.kinds"},
      {[](auto& r) { r.mutable_kinds(0)->set_root(false); }, "rule_set.kinds"},
      {[](auto& r) { *r.add_kinds() = r.kinds(1); }, "rule_set.kinds[6].kind"},
      {[](auto& r) { r.mutable_kinds(4)->set_term_years(11); }, "rule_set.kinds[4].term_years"},
      {[](auto& r) { r.mutable_kinds(5)->set_only_under(pb::PARTY_GROUP); },
       "rule_set.kinds[5].only_under"},
      {[](auto& r) { r.set_max_term_shift_months(25); }, "rule_set.max_term_shift_months"},
      {[](auto& r) { r.set_joint_branch_max_units(0); }, "rule_set.joint_branch_max_units"},
      {[](auto& r) { r.set_max_display_name_chars(5); }, "rule_set.max_display_name_chars"},
  };
  for (const Case& c : cases) {
    pb::StructureRuleSet r = Valid();
    c.spoil(r);
    auto s = RulesFromProto(r).status();
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(rpc::Violations(s).at(0).field, c.field) << s;
  }
}

class RuleSetsTest : public OrgDatabaseTest {
 protected:
  void SetUp() override {
    OrgDatabaseTest::SetUp();
    cache_ = cache::NewMemoryCache();
    ids_ = std::make_unique<ids::IdGenerator>(7);
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(std::string(32, 's')));
    OrgServiceOptions options;
    options.now_us = [this] { return now_us_; };
    server_ = std::make_unique<OrgServer>(*pool_, cache_.get(), *ids_, *auth_,
                                          std::string(32, 'k'), options);
  }
  absl::StatusOr<pb::StructureRuleSet> Add(pb::StructureRuleSet r, int y, int m, int d,
                                           const auth::Principal& who = auth::SystemPrincipal()) {
    r.mutable_effective_date()->set_year(y);
    r.mutable_effective_date()->set_month(m);
    r.mutable_effective_date()->set_day(d);
    r.set_note("工委〔2026〕12号");
    pb::CreateStructureRuleSetRequest req;
    *req.mutable_rule_set() = r;
    return server_->rule_sets().Create(who, req);
  }
  absl::Status CreateOrg(const std::string& parent, pb::OrganizationKind kind,
                         const std::string& name, std::string* out = nullptr) {
    pb::CreateOrganizationRequest req;
    req.mutable_organization()->set_parent(parent);
    req.mutable_organization()->set_kind(kind);
    req.mutable_organization()->set_display_name(name);
    auto o = server_->organizations().Create(auth::SystemPrincipal(), req);
    if (o.ok() && out != nullptr) {
      *out = o->name();
    }
    return o.status();
  }

  int64_t now_us_ = ShanghaiMidnightUs(2026, 6, 30) + 3600'000'000LL * 10;  // 30 June, 10:00
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ids::IdGenerator> ids_;
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<OrgServer> server_;
};

TEST_P(RuleSetsTest, AVersionAppliesFromItsDateAndNeverToThePast) {
  // From 1 July names may be at most 12 characters.
  pb::StructureRuleSet shorter = Valid();
  shorter.set_max_display_name_chars(12);
  EXPECT_EQ(rpc::Violations(Add(shorter, 2026, 6, 29).status()).at(0).field,
            "rule_set.effective_date")
      << "yesterday: rules do not change the past";
  auto added = Add(shorter, 2026, 7, 1);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->version(), 1);
  EXPECT_EQ(added->name(), "ruleSets/structure/versions/1");
  EXPECT_EQ(added->creator(), "system");
  EXPECT_EQ(rpc::Violations(Add(shorter, 2026, 7, 1).status()).at(0).field,
            "rule_set.effective_date")
      << "that date is taken";

  std::string root;
  ASSERT_TRUE(CreateOrg("", pb::WORK_COMMITTEE, "工委", &root).ok());
  const std::string long_name = "启东市市级机关工作委员会第一党支部";  // 17 characters
  EXPECT_TRUE(CreateOrg(root, pb::PARTY_COMMITTEE, long_name).ok()) << "30 June: version 0";
  now_us_ = ShanghaiMidnightUs(2026, 7, 1);  // 1 July, 00:00 in Shanghai
  auto refused = CreateOrg(root, pb::PARTY_COMMITTEE, long_name + "二");
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << refused;
  EXPECT_EQ(rpc::Violations(refused).at(0).field, "organization.display_name");

  pb::GetStructureRulesRequest on;
  on.mutable_date()->set_year(2026);
  on.mutable_date()->set_month(6);
  on.mutable_date()->set_day(30);
  EXPECT_EQ(server_->rule_sets().InForce(auth::SystemPrincipal(), on)->version(), 0);
  on.mutable_date()->set_month(12);
  EXPECT_EQ(server_->rule_sets().InForce(auth::SystemPrincipal(), on)->version(), 1);
  auto all = server_->rule_sets().List(auth::SystemPrincipal());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->rule_sets_size(), 2);
  EXPECT_EQ(all->rule_sets(1).version(), 0);
}

TEST_P(RuleSetsTest, OnlyAWholeTreeCommitteeAdminAddsVersions) {
  const auth::Principal scoped{.subject = "accounts/3", .roles = {"org_admin"}, .scope_org = 42};
  EXPECT_EQ(Add(Valid(), 2026, 8, 1, scoped).status().code(),
            absl::StatusCode::kPermissionDenied);
  const auth::Principal member{.subject = "accounts/4", .roles = {"member"}, .scope_org = 42};
  EXPECT_TRUE(server_->rule_sets().List(member).ok()) << "everyone may read the rules";
  auto log = server_->organizations().audit().log().List(*pool_, 0, 0, 10);
  ASSERT_TRUE(log.ok());
  ASSERT_FALSE(log->empty());
  EXPECT_EQ(log->front().action, "rule_sets.create");
  EXPECT_EQ(log->front().outcome, "PERMISSION_DENIED");
  EXPECT_EQ(server_->rule_sets().List(auth::SystemPrincipal())->rule_sets_size(), 1);
}

INSTANTIATE_TEST_SUITE_P(Databases, RuleSetsTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
