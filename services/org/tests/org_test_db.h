// A fresh, migrated org database for each test, on the database the test is instantiated with
// (MariaDB or SQLite).
#pragma once

#include "common/testing/service_database_test.h"
#include "common/time/civil_date.h"
#include "services/org/src/org_service.h"
#include "services/org/src/schema.h"

namespace dj::org {

// Microseconds at 00:00 Asia/Shanghai on a civil date, for injected clocks.
inline int64_t ShanghaiMidnightUs(int32_t y, int32_t m, int32_t d) {
  return time::ShanghaiMidnightMicros({y, m, d});
}

// Creates an organization established on 1 July 2019 through `orgs` as `who`; an empty proto
// (and a test failure) when it is refused.
inline dangjian::org::v1::Organization MakeOrganization(OrgService& orgs,
                                                        const auth::Principal& who,
                                                        const std::string& parent,
                                                        dangjian::org::v1::OrganizationKind kind,
                                                        const std::string& name) {
  dangjian::org::v1::CreateOrganizationRequest req;
  req.mutable_organization()->set_parent(parent);
  req.mutable_organization()->set_kind(kind);
  req.mutable_organization()->set_display_name(name);
  *req.mutable_organization()->mutable_established_date() = time::ToProto({2019, 7, 1});
  auto made = orgs.Create(who, req);
  EXPECT_TRUE(made.ok()) << made.status();
  return made.ok() ? *made : dangjian::org::v1::Organization();
}

class OrgDatabaseTest : public testing::ServiceDatabaseTest {
 protected:
  OrgDatabaseTest() : ServiceDatabaseTest(Schema, "org") {}
};

}  // namespace dj::org
