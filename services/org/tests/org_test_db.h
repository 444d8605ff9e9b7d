// A fresh, migrated org database for each test, on the database the test is instantiated with
// (MariaDB or SQLite).
#pragma once

#include "common/testing/service_database_test.h"
#include "services/org/src/schema.h"

namespace dj::org {

class OrgDatabaseTest : public testing::ServiceDatabaseTest {
 protected:
  OrgDatabaseTest() : ServiceDatabaseTest(Schema, "org") {}
};

}  // namespace dj::org
