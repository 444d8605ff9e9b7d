// A fresh, migrated org database for each test, on the database the test is instantiated with
// (MariaDB or SQLite).
#pragma once

#include "common/testing/service_database_test.h"
#include "common/time/civil_date.h"
#include "services/org/src/schema.h"

namespace dj::org {

// Microseconds at 00:00 Asia/Shanghai on a civil date, for injected clocks.
inline int64_t ShanghaiMidnightUs(int32_t y, int32_t m, int32_t d) {
  return time::ShanghaiMidnightMicros({y, m, d});
}

class OrgDatabaseTest : public testing::ServiceDatabaseTest {
 protected:
  OrgDatabaseTest() : ServiceDatabaseTest(Schema, "org") {}
};

}  // namespace dj::org
