// A fixture for a service's store and handler tests: a fresh database for each test, on the
// database the test is instantiated with (MariaDB or SQLite), migrated the way the service
// migrates it at start — its own schema, then the outbox and the audit tables every service has.
// Header-only, so dj_testing need not link the audit and events libraries; the service's own
// library brings them.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "common/audit/audit_log.h"
#include "common/db/migrate.h"
#include "common/events/events.h"
#include "common/runtime/embedded_file.h"
#include "common/testing/test_env.h"
#include "gtest/gtest.h"

namespace dj::testing {

class ServiceDatabaseTest : public ::testing::TestWithParam<db::Dialect> {
 protected:
  // `schema`: the service's migrations for a dialect; `series`: their name ("org", "member").
  ServiceDatabaseTest(std::span<const EmbeddedFile> (*schema)(db::Dialect), std::string series)
      : schema_(schema), series_(std::move(series)) {}

  void SetUp() override {
    auto db = TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    pool_ = db_->NewPool();
    ASSERT_TRUE(db::Migrate(*pool_, schema_(GetParam()), series_).ok());
    ASSERT_TRUE(db::Migrate(*pool_, audit::Schema(GetParam()), "audit").ok());
    ASSERT_TRUE(db::Migrate(*pool_, events::Schema(GetParam()), "events").ok());
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<db::Pool> pool_;

 private:
  std::span<const EmbeddedFile> (*schema_)(db::Dialect);
  std::string series_;
};

}  // namespace dj::testing
