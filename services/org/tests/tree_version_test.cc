// Cached organizations carry the tree version they were read at. Two replicas share one cache:
// a copy read by one replica before the other moved the organization (a slow load landing after
// the move's invalidation) must not decide who may read it; and every move is an event of the
// whole tree, numbered in one sequence.
#include "absl/strings/str_cat.h"
#include "common/cache/cache.h"
#include "common/events/events.h"
#include "common/rpc/names.h"
#include "dangjian/org/v1/events.pb.h"
#include "gtest/gtest.h"
#include "services/org/src/org_service.h"
#include "services/org/src/tree_version.h"
#include "services/org/tests/org_test_db.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

const std::string kSecret(32, 's');
const std::string kAuditKey(32, 'k');

class TreeVersionTest : public OrgDatabaseTest {
 protected:
  void SetUp() override {
    OrgDatabaseTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    cache_ = cache::NewMemoryCache();
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(kSecret));
    replica_a_ = std::make_unique<OrgService>(*pool_, cache_.get(), ids_, *auth_, kAuditKey);
    replica_b_ = std::make_unique<OrgService>(*pool_, cache_.get(), ids_, *auth_, kAuditKey);
  }

  static int64_t Id(const pb::Organization& o) {
    return *rpc::ParseName(o.name(), "organizations", "name");
  }
  static auth::Principal SecretaryOf(const pb::Organization& o) {
    return auth::Principal{.subject = "accounts/7", .roles = {"secretary"}, .scope_org = Id(o)};
  }
  static absl::StatusOr<pb::Organization> Get(OrgService& replica, const auth::Principal& who,
                                              const std::string& name) {
    pb::GetOrganizationRequest req;
    req.set_name(name);
    return replica.Get(who, req);
  }
  std::string CacheKey(const pb::Organization& o) {
    return absl::StrCat("org:v1:organization:", Id(o));
  }

  ids::IdGenerator ids_{11};
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<OrgService> replica_a_;
  std::unique_ptr<OrgService> replica_b_;
  auth::Principal admin_ = auth::SystemPrincipal();
};

TEST_P(TreeVersionTest, ACopyCachedBeforeAMoveElsewhereDoesNotDecideAccess) {
  pb::Organization root = MakeOrganization(*replica_a_, admin_, "", pb::WORK_COMMITTEE, "工委");
  pb::Organization p =
      MakeOrganization(*replica_a_, admin_, root.name(), pb::PARTY_COMMITTEE, "甲局机关党委");
  pb::Organization q =
      MakeOrganization(*replica_a_, admin_, root.name(), pb::PARTY_COMMITTEE, "乙局机关党委");
  pb::Organization x = MakeOrganization(*replica_a_, admin_, p.name(), pb::BRANCH, "第一支部");

  // Replica A reads X under P: the cache holds that copy.
  ASSERT_TRUE(Get(*replica_a_, SecretaryOf(p), x.name()).ok());
  auto before = cache_->Get(CacheKey(x));
  ASSERT_TRUE(before.ok() && before->has_value());
  const std::string stale = **before;

  // Replica B moves X under Q; a load replica A began before the move lands afterwards.
  pb::MoveOrganizationRequest move;
  move.set_name(x.name());
  move.set_new_parent(q.name());
  auto moved = replica_b_->Move(admin_, move);
  ASSERT_TRUE(moved.ok()) << moved.status();
  ASSERT_TRUE(cache_->Set(CacheKey(x), stale, std::chrono::hours(1)).ok());

  // P's secretary no longer sees X, from either replica; Q's does, at its new path.
  for (OrgService* replica : {replica_a_.get(), replica_b_.get()}) {
    auto old_scope = Get(*replica, SecretaryOf(p), x.name());
    EXPECT_EQ(old_scope.status().code(), absl::StatusCode::kNotFound) << old_scope.status();
    auto new_scope = Get(*replica, SecretaryOf(q), x.name());
    ASSERT_TRUE(new_scope.ok()) << new_scope.status();
    EXPECT_EQ(new_scope->path(), moved->path());
    EXPECT_EQ(new_scope->parent(), q.name());
  }
  // The stale copy was dropped and the cache holds the current one, at the current version.
  ASSERT_TRUE(Get(*replica_a_, admin_, x.name()).ok());
  auto after = cache_->Get(CacheKey(x));
  ASSERT_TRUE(after.ok() && after->has_value());
  int64_t version = 0;
  std::string bytes;
  ASSERT_TRUE(TreeVersion::Unstamp(**after, &version, &bytes));
  EXPECT_EQ(version, 1);
  pb::Organization cached;
  ASSERT_TRUE(cached.ParseFromString(bytes));
  EXPECT_EQ(cached.path(), moved->path());
}

TEST_P(TreeVersionTest, EveryMoveIsTheNextEventOfTheWholeTree) {
  pb::Organization root = MakeOrganization(*replica_a_, admin_, "", pb::WORK_COMMITTEE, "工委");
  pb::Organization p =
      MakeOrganization(*replica_a_, admin_, root.name(), pb::PARTY_COMMITTEE, "甲局机关党委");
  pb::Organization q =
      MakeOrganization(*replica_a_, admin_, root.name(), pb::PARTY_COMMITTEE, "乙局机关党委");
  pb::Organization x = MakeOrganization(*replica_a_, admin_, p.name(), pb::BRANCH, "第一支部");
  pb::Organization y = MakeOrganization(*replica_a_, admin_, q.name(), pb::BRANCH, "第二支部");
  for (const auto& [org, parent] : {std::pair{x, q}, std::pair{y, p}, std::pair{x, p}}) {
    pb::MoveOrganizationRequest move;
    move.set_name(org.name());
    move.set_new_parent(parent.name());
    OrgService& replica = org.name() == y.name() ? *replica_b_ : *replica_a_;
    ASSERT_TRUE(replica.Move(admin_, move).ok());
  }
  auto lease = pool_->Acquire();
  ASSERT_TRUE(lease.ok());
  auto rows = (*lease)->Exec(
      "SELECT event_key, sequence FROM outbox WHERE type = ? ORDER BY id",
      {std::string(pb::OrganizationMoved::descriptor()->full_name())});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 3u);
  for (size_t i = 0; i < rows->rows.size(); ++i) {
    EXPECT_EQ(rows->rows[i].Text(0), TreeVersion::kEventKey);
    EXPECT_EQ(rows->rows[i].Int(1), static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(*TreeVersion::Read(**lease), 3);
  // Other events stay events of their organization, numbered per organization.
  auto created = (*lease)->Exec("SELECT sequence FROM outbox WHERE event_key = ? ORDER BY id",
                                {x.name()});
  ASSERT_TRUE(created.ok());
  ASSERT_FALSE(created->rows.empty());
  EXPECT_EQ(created->rows[0].Int(0), 1);
}

INSTANTIATE_TEST_SUITE_P(Databases, TreeVersionTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
