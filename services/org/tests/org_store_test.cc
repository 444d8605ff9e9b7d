// The organization store on a real MariaDB: paths, ranges, version guard.
#include "services/org/src/org_store.h"
#include "services/org/tests/org_test_db.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

class OrgStoreTest : public OrgDatabaseTest {
 protected:
  void SetUp() override {
    OrgDatabaseTest::SetUp();
    store_ = std::make_unique<OrgStore>(*pool_);
  }

  OrgRow Row(int64_t id, std::optional<int64_t> parent, const std::string& path, Kind kind) {
    OrgRow r;
    r.id = id;
    r.parent_id = parent;
    r.path = path;
    r.depth = static_cast<int32_t>(std::count(path.begin(), path.end(), '/') - 2);
    r.kind = kind;
    r.display_name = "org " + std::to_string(id);
    r.create_time_us = r.update_time_us = 1;
    return r;
  }

  void Insert(const OrgRow& r) {
    ASSERT_TRUE(pool_->Transact([&](db::Connection& c) { return OrgStore::Insert(c, r, ""); })
                    .ok());
  }

  std::unique_ptr<OrgStore> store_;
};

TEST_P(OrgStoreTest, DescendantsRangeDoesNotLeakIntoSiblingsSharingAPrefix) {
  // Ids 5 and 50 share the text prefix "/1/5": the range must keep them apart.
  Insert(Row(1, std::nullopt, "/1/", pb::WORK_COMMITTEE));
  Insert(Row(5, 1, "/1/5/", pb::PARTY_COMMITTEE));
  Insert(Row(50, 1, "/1/50/", pb::PARTY_COMMITTEE));
  Insert(Row(6, 5, "/1/5/6/", pb::BRANCH));
  Insert(Row(7, 6, "/1/5/6/7/", pb::PARTY_GROUP));
  Insert(Row(51, 50, "/1/50/51/", pb::BRANCH));

  auto below5 = store_->ListDescendants("/1/5/", "", 100);
  ASSERT_TRUE(below5.ok()) << below5.status();
  ASSERT_EQ(below5->size(), 2u);
  EXPECT_EQ((*below5)[0].id, 6);
  EXPECT_EQ((*below5)[1].id, 7);

  auto all = store_->ListDescendants("/1/", "", 100);
  ASSERT_EQ(all->size(), 5u);
  // Depth first: each organization before its children.
  std::vector<int64_t> order;
  for (const auto& r : *all) {
    order.push_back(r.id);
  }
  EXPECT_EQ(order, (std::vector<int64_t>{5, 6, 7, 50, 51}));

  auto page = store_->ListDescendants("/1/", "/1/5/6/7/", 100);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, 50);
}

TEST_P(OrgStoreTest, ChildrenAndRootsByIdWithCursor) {
  Insert(Row(1, std::nullopt, "/1/", pb::WORK_COMMITTEE));
  Insert(Row(2, std::nullopt, "/2/", pb::WORK_COMMITTEE));
  for (int64_t id = 10; id < 15; ++id) {
    Insert(Row(id, 1, "/1/" + std::to_string(id) + "/", pb::BRANCH));
  }
  auto roots = store_->ListChildren(std::nullopt, 0, 10);
  ASSERT_EQ(roots->size(), 2u);
  auto first = store_->ListChildren(1, 0, 3);
  ASSERT_EQ(first->size(), 3u);
  auto rest = store_->ListChildren(1, first->back().id, 3);
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ(rest->front().id, 13);
}

TEST_P(OrgStoreTest, UpdateIsGuardedByVersion) {
  OrgRow r = Row(1, std::nullopt, "/1/", pb::WORK_COMMITTEE);
  r.established_date = time::CivilDate{2024, 2, 29};
  Insert(r);
  auto got = store_->Get(1);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->established_date, (time::CivilDate{2024, 2, 29}));
  EXPECT_EQ((*got)->version, 1);

  OrgRow changed = **got;
  changed.display_name = "renamed";
  changed.version = 2;
  bool applied = false;
  ASSERT_TRUE(pool_
                  ->Transact([&](db::Connection& c) -> absl::Status {
                    auto ok = OrgStore::Update(c, changed, 1);
                    applied = ok.ok() && *ok;
                    return ok.status();
                  })
                  .ok());
  EXPECT_TRUE(applied);
  ASSERT_TRUE(pool_
                  ->Transact([&](db::Connection& c) -> absl::Status {
                    auto ok = OrgStore::Update(c, changed, 1);  // stale version
                    applied = ok.ok() && *ok;
                    return ok.status();
                  })
                  .ok());
  EXPECT_FALSE(applied);
  EXPECT_EQ((*store_->Get(1))->display_name, "renamed");
}

TEST_P(OrgStoreTest, ChineseNamesAndSiblingUniqueness) {
  OrgRow a = Row(1, std::nullopt, "/1/", pb::WORK_COMMITTEE);
  a.display_name = "启东市级机关工委";
  Insert(a);
  auto lease = pool_->Acquire();
  EXPECT_TRUE(*OrgStore::SiblingNameTaken(**lease, std::nullopt, "启东市级机关工委", 0));
  EXPECT_FALSE(*OrgStore::SiblingNameTaken(**lease, std::nullopt, "启东市级机关工委", 1));
  EXPECT_FALSE(*OrgStore::SiblingNameTaken(**lease, 1, "启东市级机关工委", 0));
  EXPECT_EQ((*store_->Get(1))->display_name, "启东市级机关工委");
}

INSTANTIATE_TEST_SUITE_P(Databases, OrgStoreTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
