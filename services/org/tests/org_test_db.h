// A fresh, migrated org database for each test, on the database the test is instantiated with
// (MariaDB or SQLite).
#pragma once

#include "common/testing/service_database_test.h"
#include "services/org/src/schema.h"

namespace dj::org {

// Microseconds at 00:00 Asia/Shanghai on a civil date, for injected clocks (Howard Hinnant's
// days_from_civil).
inline int64_t ShanghaiMidnightUs(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = int64_t{era} * 146097 + static_cast<int64_t>(doe) - 719468;
  return (days * 86400 - 8 * 3600) * 1'000'000;
}

class OrgDatabaseTest : public testing::ServiceDatabaseTest {
 protected:
  OrgDatabaseTest() : ServiceDatabaseTest(Schema, "org") {}
};

}  // namespace dj::org
