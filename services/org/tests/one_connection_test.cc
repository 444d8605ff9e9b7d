// Every organization handler works on a pool of one connection: a read inside a transaction
// uses the transaction's connection, never a second one (which could wait behind the
// transactions holding all the others: 16 threads on 8 connections). A handler that did would
// wait for the pool's acquire timeout and answer UNAVAILABLE here.
#include "common/cache/cache.h"
#include "gtest/gtest.h"
#include "services/org/src/org_service.h"
#include "services/org/tests/org_test_db.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

const std::string kSecret(32, 's');
const std::string kAuditKey(32, 'k');

class OneConnectionTest : public OrgDatabaseTest {
 protected:
  void SetUp() override {
    OrgDatabaseTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(kSecret));
    cache_ = cache::NewMemoryCache();
    one_ = db_->NewPool(1);
  }

  // A service whose rule book has read nothing yet, so its first handler must read the rules
  // (inside the transaction, for a move).
  std::unique_ptr<OrgService> Fresh() {
    return std::make_unique<OrgService>(*one_, cache_.get(), ids_, *auth_, kAuditKey);
  }

  ids::IdGenerator ids_{12};
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<db::Pool> one_;
  auth::Principal admin_ = auth::SystemPrincipal();
};

TEST_P(OneConnectionTest, EveryHandlerRunsOnOneConnection) {
  auto setup = Fresh();
  pb::Organization root = MakeOrganization(*setup, admin_, "", pb::WORK_COMMITTEE, "工委");
  pb::Organization p =
      MakeOrganization(*setup, admin_, root.name(), pb::PARTY_COMMITTEE, "甲局机关党委");
  pb::Organization q =
      MakeOrganization(*setup, admin_, root.name(), pb::PARTY_COMMITTEE, "乙局机关党委");
  pb::Organization x = MakeOrganization(*setup, admin_, p.name(), pb::BRANCH, "第一支部");
  pb::Organization y = MakeOrganization(*setup, admin_, p.name(), pb::BRANCH, "第二支部");
  pb::Organization g = MakeOrganization(*setup, admin_, y.name(), pb::PARTY_GROUP, "第一小组");

  // A move first: the rules are read inside its transaction.
  auto orgs = Fresh();
  pb::MoveOrganizationRequest move;
  move.set_name(x.name());
  move.set_new_parent(q.name());
  auto moved = orgs->Move(admin_, move);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->parent(), q.name());

  pb::GetOrganizationRequest get;
  get.set_name(x.name());
  auto got = orgs->Get(admin_, get);
  ASSERT_TRUE(got.ok()) << got.status();

  pb::UpdateOrganizationRequest update;
  *update.mutable_organization() = *got;
  update.mutable_organization()->set_display_name("第一党支部");
  update.mutable_update_mask()->add_paths("display_name");
  auto updated = Fresh()->Update(admin_, update);
  ASSERT_TRUE(updated.ok()) << updated.status();

  pb::ListOrganizationsRequest list;
  list.set_parent(q.name());
  auto listed = orgs->List(admin_, list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->organizations_size(), 1);

  pb::ListDescendantsRequest descendants;
  descendants.set_name(root.name());
  auto all = orgs->Descendants(admin_, descendants);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->organizations_size(), 5);

  pb::MergeOrganizationRequest merge;
  merge.set_name(y.name());
  merge.set_into(updated->name());
  auto merged = Fresh()->Merge(admin_, merge);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->status(), pb::DISSOLVED);

  pb::DissolveOrganizationRequest dissolve;
  dissolve.set_name(g.name());
  dissolve.set_reason("并入第一党支部后撤销");
  auto dissolved = Fresh()->Dissolve(admin_, dissolve);
  ASSERT_TRUE(dissolved.ok()) << dissolved.status();
  EXPECT_EQ(dissolved->status(), pb::DISSOLVED);
}

INSTANTIATE_TEST_SUITE_P(Databases, OneConnectionTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
