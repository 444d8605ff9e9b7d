// A fresh, migrated org database for each test, on the database the test is instantiated with
// (MariaDB or SQLite).
#pragma once

#include "common/audit/audit_log.h"
#include "common/db/migrate.h"
#include "common/events/events.h"
#include "common/testing/test_env.h"
#include "gtest/gtest.h"
#include "services/org/src/schema.h"

namespace dj::org {

class OrgDatabaseTest : public ::testing::TestWithParam<db::Dialect> {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    pool_ = db_->NewPool();
    ASSERT_TRUE(db::Migrate(*pool_, Schema(GetParam()), "org").ok());
    ASSERT_TRUE(db::Migrate(*pool_, audit::Schema(GetParam()), "audit").ok());
    ASSERT_TRUE(db::Migrate(*pool_, events::Schema(GetParam()), "events").ok());
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<db::Pool> pool_;
};

}  // namespace dj::org
