// An id collision (another process already used the id this one draws, as two processes with one
// node id would) is answered as a conflict to retry, never as the reason of a unique index it did
// not hit: the handlers map only their own index (db::DuplicateKeyOn) to DISPLAY_NAME_TAKEN or
// CREDIT_CODE_TAKEN, and anything else generically (db::Generic).
#include "absl/strings/str_cat.h"
#include "common/cache/cache.h"
#include "common/db/errors.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "gtest/gtest.h"
#include "services/org/src/org_server.h"
#include "services/org/tests/org_test_db.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

// A stopped clock: the generator's ids are then consecutive, so the test knows the next one.
constexpr int64_t kStoppedMs = ids::IdGenerator::kEpochMs + int64_t{86'400'000} * 900;

class IdCollisionTest : public OrgDatabaseTest {
 protected:
  void SetUp() override {
    OrgDatabaseTest::SetUp();
    cache_ = cache::NewMemoryCache();
    ids_ = std::make_unique<ids::IdGenerator>(7, [] { return kStoppedMs; });
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(std::string(32, 's')));
    server_ =
        std::make_unique<OrgServer>(*pool_, cache_.get(), *ids_, *auth_, std::string(32, 'k'));
    auto root = CreateOrg("", pb::WORK_COMMITTEE, "启东市级机关工委");
    ASSERT_TRUE(root.ok()) << root.status();
    root_ = *root;
    root_id_ = *rpc::ParseName(root_.name(), "organizations", "name");
  }

  absl::StatusOr<pb::Organization> CreateOrg(const std::string& parent, pb::OrganizationKind kind,
                                             const std::string& name) {
    pb::CreateOrganizationRequest req;
    req.mutable_organization()->set_parent(parent);
    req.mutable_organization()->set_kind(kind);
    req.mutable_organization()->set_display_name(name);
    return server_->organizations().Create(admin_, req);
  }

  absl::StatusOr<pb::Unit> CreateUnit(const std::string& name, const std::string& code) {
    pb::CreateUnitRequest req;
    req.mutable_unit()->set_parent(root_.name());
    req.mutable_unit()->set_display_name(name);
    req.mutable_unit()->set_credit_code(code);
    req.mutable_unit()->set_kind(pb::GOVERNMENT);
    req.mutable_unit()->set_leadership_mode(pb::DIRECT);
    return server_->units().Create(admin_, req);
  }

  // The id the service draws next: one past the one taken here from its generator.
  int64_t NextId() { return ids_->Next() + 1; }

  // What the caller is told.
  static void ExpectRetryable(const absl::Status& s, std::string_view not_reason) {
    EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
    EXPECT_NE(rpc::Reason(s), not_reason) << s;
    EXPECT_TRUE(db::DuplicateKeyOn(s, db::kPrimaryKey)) << s;
    const grpc::Status wire = rpc::ToGrpcStatus(s, "org.dangjian");
    EXPECT_EQ(wire.error_code(), grpc::StatusCode::ABORTED);
    EXPECT_EQ(wire.error_message(), "the change conflicted with a concurrent one; retry it");
  }

  auth::Principal admin_ = auth::SystemPrincipal();
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ids::IdGenerator> ids_;
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<OrgServer> server_;
  pb::Organization root_;
  int64_t root_id_ = 0;
};

TEST_P(IdCollisionTest, OrganizationIdCollisionIsNotDisplayNameTaken) {
  const int64_t next = NextId();
  {
    // Another process made an organization with that id, elsewhere and under another name.
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok());
    auto root = OrgStore::Find(**lease, root_id_, /*for_update=*/false);
    ASSERT_TRUE(root.ok() && root->has_value());
    OrgRow other = **root;
    other.id = next;
    other.path = absl::StrCat("/", next, "/");
    other.display_name = "另一个工委";
    ASSERT_TRUE(OrgStore::Insert(**lease, other, "").ok());
  }
  auto collided = CreateOrg(root_.name(), pb::PARTY_COMMITTEE, "财政局党委");
  ExpectRetryable(collided.status(), "DISPLAY_NAME_TAKEN");
  // The retry draws a fresh id.
  auto retried = CreateOrg(root_.name(), pb::PARTY_COMMITTEE, "财政局党委");
  ASSERT_TRUE(retried.ok()) << retried.status();
  // A name that is taken still says so.
  auto twin = CreateOrg(root_.name(), pb::PARTY_COMMITTEE, "财政局党委");
  EXPECT_EQ(twin.status().code(), absl::StatusCode::kAlreadyExists) << twin.status();
  EXPECT_EQ(rpc::Reason(twin.status()), "DISPLAY_NAME_TAKEN") << twin.status();
}

TEST_P(IdCollisionTest, UnitIdCollisionIsNotCreditCodeTaken) {
  const int64_t next = NextId();
  {
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok());
    UnitRow other{.id = next,
                  .parent_id = root_id_,
                  .display_name = "另一个单位",
                  .credit_code = "11320681014160021J",
                  .kind = pb::GOVERNMENT,
                  .leadership_mode = pb::DIRECT};
    ASSERT_TRUE(UnitStore::Insert(**lease, other, "").ok());
  }
  auto collided = CreateUnit("启东市财政局", "11320681014160013P");
  ExpectRetryable(collided.status(), "CREDIT_CODE_TAKEN");
  auto retried = CreateUnit("启东市财政局", "11320681014160013P");
  ASSERT_TRUE(retried.ok()) << retried.status();
  auto twin = CreateUnit("启东市审计局", "11320681014160013P");
  EXPECT_EQ(rpc::Reason(twin.status()), "CREDIT_CODE_TAKEN") << twin.status();
}

// The index names the handlers rely on are the schema's, in both dialects: a duplicate written
// straight through the store is reported on exactly that index.
TEST_P(IdCollisionTest, SchemaIndexNamesMatchTheHandlers) {
  auto lease = pool_->Acquire();
  ASSERT_TRUE(lease.ok());
  auto root = OrgStore::Find(**lease, root_id_, /*for_update=*/false);
  ASSERT_TRUE(root.ok() && root->has_value());
  const OrgRow parent = **root;
  OrgRow child = parent;
  child.id = NextId() + 100;
  child.parent_id = root_id_;
  child.depth = parent.depth + 1;
  child.path = absl::StrCat(parent.path, child.id, "/");
  child.display_name = "重名支部";
  ASSERT_TRUE(OrgStore::Insert(**lease, child, "req-a").ok());
  OrgRow same_name = child;
  same_name.id += 1;
  same_name.path = absl::StrCat(parent.path, same_name.id, "/");
  absl::Status s = OrgStore::Insert(**lease, same_name, "req-b");
  EXPECT_TRUE(db::DuplicateKeyOn(s, kOrgSiblingNameIndex)) << s;
  same_name.display_name = "另一支部";
  s = OrgStore::Insert(**lease, same_name, "req-a");
  EXPECT_TRUE(db::DuplicateKeyOn(s, kOrgRequestIdIndex)) << s;
  OrgRow same_id = child;  // and nothing else in common
  same_id.display_name = "第三支部";
  same_id.path = absl::StrCat(parent.path, child.id + 2, "/");
  s = OrgStore::Insert(**lease, same_id, "req-c");
  EXPECT_TRUE(db::DuplicateKeyOn(s, db::kPrimaryKey)) << s;

  UnitRow unit{.id = child.id,
               .parent_id = root_id_,
               .display_name = "单位",
               .credit_code = "11320681014160021J",
               .kind = pb::GOVERNMENT,
               .leadership_mode = pb::DIRECT};
  ASSERT_TRUE(UnitStore::Insert(**lease, unit, "req-u").ok());
  unit.id += 1;
  s = UnitStore::Insert(**lease, unit, "req-v");
  EXPECT_TRUE(db::DuplicateKeyOn(s, kUnitCreditCodeIndex)) << s;
  unit.credit_code = "11320681014160013P";
  s = UnitStore::Insert(**lease, unit, "req-u");
  EXPECT_TRUE(db::DuplicateKeyOn(s, kUnitRequestIdIndex)) << s;
}

INSTANTIATE_TEST_SUITE_P(Databases, IdCollisionTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
