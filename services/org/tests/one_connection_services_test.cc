// The community, officer, unit and statistics handlers work on a pool of one connection, as the
// organization handlers do (one_connection_test.cc): every store call runs on the connection it
// is given, and a read inside a transaction uses the transaction's connection, never a second
// one. A handler that took a second connection inside a transaction would wait for the pool's
// acquire timeout and answer UNAVAILABLE here.
#include "absl/strings/escaping.h"
#include "common/cache/cache.h"
#include "common/events/events.h"
#include "common/rpc/names.h"
#include "dangjian/org/v1/events.pb.h"
#include "gtest/gtest.h"
#include "services/org/src/community_service.h"
#include "services/org/src/officer_service.h"
#include "services/org/src/org_service.h"
#include "services/org/src/statistics_service.h"
#include "services/org/src/unit_service.h"
#include "services/org/tests/org_test_db.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

const std::string kSecret(32, 's');
const std::string kAuditKey(32, 'k');

google::type::Date D(int32_t y, int32_t m, int32_t d) { return time::ToProto({y, m, d}); }

class OneConnectionServicesTest : public OrgDatabaseTest {
 protected:
  void SetUp() override {
    OrgDatabaseTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(kSecret));
    cache_ = cache::NewMemoryCache();
    one_ = db_->NewPool(1);
    OrgServiceOptions options;
    options.now_us = [this] { return now_us_; };
    orgs_ = std::make_unique<OrgService>(*one_, cache_.get(), ids_, *auth_, kAuditKey, options);
    root_ = MakeOrganization(*orgs_, admin_, "", pb::WORK_COMMITTEE, "工委");
    p_ = MakeOrganization(*orgs_, admin_, root_.name(), pb::PARTY_COMMITTEE, "甲局机关党委");
    q_ = MakeOrganization(*orgs_, admin_, root_.name(), pb::PARTY_COMMITTEE, "乙局机关党委");
    x_ = MakeOrganization(*orgs_, admin_, p_.name(), pb::BRANCH, "第一支部");
    y_ = MakeOrganization(*orgs_, admin_, p_.name(), pb::BRANCH, "第二支部");
  }

  // Delivers every event in the outbox to `communities`, read first (the pool has one
  // connection, which the consumer needs).
  void DeliverOrgEvents(CommunityService& communities) {
    std::vector<events::Event> outbox;
    absl::Status read = one_->Run([&](db::Connection& c) -> absl::Status {
      auto rows = c.Exec(
          "SELECT id, stream, type, event_key, payload, occurred_us FROM outbox ORDER BY id", {});
      if (!rows.ok()) {
        return rows.status();
      }
      for (const db::Row& r : rows->rows) {
        events::Event& e = outbox.emplace_back(events::Event{.id = r.Int(0),
                                                             .stream = r.Text(1),
                                                             .type = r.Text(2),
                                                             .key = r.Text(3),
                                                             .occurred_us = r.Int(5)});
        EXPECT_TRUE(absl::Base64Unescape(r.Text(4), &e.payload));
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(read.ok()) << read;
    for (const events::Event& e : outbox) {
      absl::Status s = communities.OnOrganizationEvent(e);
      EXPECT_TRUE(s.ok()) << s;
    }
  }

  int64_t now_us_ = ShanghaiMidnightUs(2024, 3, 1) + int64_t{12} * 3600 * 1'000'000;
  ids::IdGenerator ids_{13};
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<db::Pool> one_;
  std::unique_ptr<OrgService> orgs_;
  auth::Principal admin_ = auth::SystemPrincipal();
  pb::Organization root_, p_, q_, x_, y_;
};

TEST_P(OneConnectionServicesTest, CommunityHandlersRunOnOneConnection) {
  CommunityService communities(*one_, ids_, *auth_, kAuditKey, [this] { return now_us_; });

  pb::CreateCommunityRequest create;
  create.set_request_id("one-connection-c1");
  create.mutable_community()->set_display_name("甲局党建共同体");
  create.mutable_community()->set_lead_organization(x_.name());
  create.mutable_community()->add_member_organizations(y_.name());
  auto made = communities.Create(admin_, create);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->scope_organization(), p_.name());
  // A replay reads the earlier one inside the create's transaction.
  auto again = communities.Create(admin_, create);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name(), made->name());

  pb::GetCommunityRequest get;
  get.set_name(made->name());
  auto got = communities.Get(admin_, get);
  ASSERT_TRUE(got.ok()) << got.status();
  // A scoped caller's read looks up where it reads the community from.
  const auth::Principal secretary{
      .subject = "accounts/77",
      .roles = {"secretary"},
      .scope_org = *rpc::ParseName(y_.name(), "organizations", "scope")};
  auto got_below = communities.Get(secretary, get);
  ASSERT_TRUE(got_below.ok()) << got_below.status();

  pb::ListCommunitiesRequest list;
  auto listed = communities.List(admin_, list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->communities_size(), 1);
  list.set_organization(p_.name());
  listed = communities.List(admin_, list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->communities_size(), 1);

  pb::UpdateCommunityRequest update;
  *update.mutable_community() = *got;
  update.mutable_community()->set_display_name("甲局机关党建共同体");
  update.mutable_update_mask()->add_paths("display_name");
  auto updated = communities.Update(admin_, update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  // Refused inside the transaction: whether the caller may read it from below is looked up there.
  update.mutable_community()->set_etag("");
  auto refused = communities.Update(secretary, update);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  // The organizations changed: placed anew, the name checked where it goes.
  update.mutable_community()->clear_member_organizations();
  update.mutable_community()->add_member_organizations(q_.name());
  update.mutable_update_mask()->clear_paths();
  update.mutable_update_mask()->add_paths("member_organizations");
  auto moved = communities.Update(admin_, update);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->scope_organization(), root_.name());

  // An organization moved: the community follows, inside the consumer's transaction.
  pb::MoveOrganizationRequest move;
  move.set_name(x_.name());
  move.set_new_parent(q_.name());
  auto move_done = orgs_->Move(admin_, move);
  ASSERT_TRUE(move_done.ok()) << move_done.status();
  DeliverOrgEvents(communities);
  got = communities.Get(admin_, get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->scope_organization(), q_.name());

  pb::CreatePairingRequest pairing;
  pairing.set_request_id("one-connection-p1");
  pairing.mutable_pairing()->set_organization(x_.name());
  pairing.mutable_pairing()->mutable_partner()->set_display_name("某企业");
  pairing.mutable_pairing()->mutable_partner()->set_kind(pb::ENTERPRISE);
  *pairing.mutable_pairing()->mutable_start_date() = D(2024, 1, 1);
  auto paired = communities.CreatePairing(admin_, pairing);
  ASSERT_TRUE(paired.ok()) << paired.status();
  auto paired_again = communities.CreatePairing(admin_, pairing);
  ASSERT_TRUE(paired_again.ok()) << paired_again.status();
  pb::GetPairingRequest get_pairing;
  get_pairing.set_name(paired->name());
  auto got_pairing = communities.GetPairing(admin_, get_pairing);
  ASSERT_TRUE(got_pairing.ok()) << got_pairing.status();
  pb::ListPairingsRequest list_pairings;
  list_pairings.set_organization(q_.name());
  auto pairings = communities.ListPairings(admin_, list_pairings);
  ASSERT_TRUE(pairings.ok()) << pairings.status();
  EXPECT_EQ(pairings->pairings_size(), 1);
  pb::EndPairingRequest end_pairing;
  end_pairing.set_name(paired->name());
  *end_pairing.mutable_end_date() = D(2024, 6, 30);
  auto ended_pairing = communities.EndPairing(admin_, end_pairing);
  ASSERT_TRUE(ended_pairing.ok()) << ended_pairing.status();

  pb::CreateStationRequest station;
  station.mutable_station()->set_organization(y_.name());
  station.mutable_station()->set_residential_community("汇龙社区");
  *station.mutable_station()->mutable_start_date() = D(2024, 1, 1);
  auto stationed = communities.CreateStation(admin_, station);
  ASSERT_TRUE(stationed.ok()) << stationed.status();
  pb::GetStationRequest get_station;
  get_station.set_name(stationed->name());
  auto got_station = communities.GetStation(admin_, get_station);
  ASSERT_TRUE(got_station.ok()) << got_station.status();
  pb::ListStationsRequest list_stations;
  auto stations = communities.ListStations(admin_, list_stations);
  ASSERT_TRUE(stations.ok()) << stations.status();
  EXPECT_EQ(stations->stations_size(), 1);
  pb::EndStationRequest end_station;
  end_station.set_name(stationed->name());
  *end_station.mutable_end_date() = D(2024, 6, 30);
  auto ended_station = communities.EndStation(admin_, end_station);
  ASSERT_TRUE(ended_station.ok()) << ended_station.status();

  pb::DeleteCommunityRequest del;
  del.set_name(made->name());
  absl::Status deleted = communities.Delete(admin_, del);
  ASSERT_TRUE(deleted.ok()) << deleted;
  EXPECT_EQ(communities.Get(admin_, get).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(OneConnectionServicesTest, OfficerHandlersRunOnOneConnection) {
  // A rule book that has read nothing yet: an election must read the rules first.
  OrgService fresh(*one_, cache_.get(), ids_, *auth_, kAuditKey);
  OfficerService officers(*one_, ids_, *auth_, kAuditKey, fresh.rules(),
                          [this] { return now_us_; });

  pb::CreateTermRequest term;
  term.set_parent(x_.name());
  term.set_request_id("one-connection-t1");
  *term.mutable_term()->mutable_start_date() = D(2021, 7, 1);
  auto elected = officers.CreateTerm(admin_, term);
  ASSERT_TRUE(elected.ok()) << elected.status();
  // A second election closes the current term inside its transaction.
  pb::CreateTermRequest next = term;
  next.set_request_id("one-connection-t2");
  *next.mutable_term()->mutable_start_date() = D(2024, 2, 1);
  auto reelected = officers.CreateTerm(admin_, next);
  ASSERT_TRUE(reelected.ok()) << reelected.status();
  auto replayed = officers.CreateTerm(admin_, next);
  ASSERT_TRUE(replayed.ok()) << replayed.status();

  pb::ListTermsRequest list_terms;
  list_terms.set_parent(x_.name());
  auto terms = officers.ListTerms(admin_, list_terms);
  ASSERT_TRUE(terms.ok()) << terms.status();
  EXPECT_EQ(terms->terms_size(), 2);
  pb::ListExpiringTermsRequest expiring;
  expiring.set_name(root_.name());
  expiring.set_within_days(3660);
  auto soon = officers.ListExpiring(admin_, expiring);
  ASSERT_TRUE(soon.ok()) << soon.status();
  EXPECT_EQ(soon->terms_size(), 1);

  pb::CreateOfficerRequest appoint;
  appoint.set_parent(x_.name());
  appoint.set_request_id("one-connection-o1");
  appoint.mutable_officer()->set_member("members/5");
  appoint.mutable_officer()->set_member_display_name("张三");
  appoint.mutable_officer()->set_role(pb::SECRETARY);
  *appoint.mutable_officer()->mutable_start_date() = D(2024, 2, 1);
  auto appointed = officers.Create(admin_, appoint);
  ASSERT_TRUE(appointed.ok()) << appointed.status();
  auto appointed_again = officers.Create(admin_, appoint);
  ASSERT_TRUE(appointed_again.ok()) << appointed_again.status();

  pb::GetOfficerRequest get;
  get.set_name(appointed->name());
  auto got = officers.Get(admin_, get);
  ASSERT_TRUE(got.ok()) << got.status();
  pb::ListOfficersRequest list;
  list.set_parent(x_.name());
  auto listed = officers.List(admin_, list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->officers_size(), 1);
  pb::EndOfficerRequest end;
  end.set_name(appointed->name());
  *end.mutable_end_date() = D(2024, 12, 31);
  auto ended = officers.End(admin_, end);
  ASSERT_TRUE(ended.ok()) << ended.status();
}

TEST_P(OneConnectionServicesTest, UnitAndStatisticsHandlersRunOnOneConnection) {
  UnitService units(*one_, ids_, *auth_, kAuditKey, [this] { return now_us_; });

  pb::CreateUnitRequest create;
  create.set_request_id("one-connection-u1");
  create.mutable_unit()->set_parent(root_.name());
  create.mutable_unit()->set_display_name("启东市甲局");
  create.mutable_unit()->set_credit_code("11320681014160013P");
  create.mutable_unit()->set_kind(pb::GOVERNMENT);
  create.mutable_unit()->set_leadership_mode(pb::DIRECT);
  auto made = units.Create(admin_, create);
  ASSERT_TRUE(made.ok()) << made.status();
  auto again = units.Create(admin_, create);
  ASSERT_TRUE(again.ok()) << again.status();

  pb::GetUnitRequest get;
  get.set_name(made->name());
  auto got = units.Get(admin_, get);
  ASSERT_TRUE(got.ok()) << got.status();
  pb::ListUnitsRequest list;
  auto listed = units.List(admin_, list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->units_size(), 1);
  list.set_parent(root_.name());
  listed = units.List(admin_, list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->units_size(), 1);

  pb::UpdateUnitRequest update;
  update.mutable_unit()->set_name(made->name());
  update.mutable_unit()->set_display_name("启东市甲局（更名）");
  update.mutable_unit()->set_credit_code("11320681014160021J");
  update.mutable_update_mask()->add_paths("display_name");
  update.mutable_update_mask()->add_paths("credit_code");
  auto updated = units.Update(admin_, update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->credit_code(), "11320681014160021J");

  StatisticsService statistics(*one_, *auth_, kAuditKey, [this] { return now_us_; });
  pb::GetOrganizationStatisticsRequest stats;
  stats.set_name(root_.name());
  auto counted = statistics.Get(admin_, stats);
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->total(), 5);
}

INSTANTIATE_TEST_SUITE_P(Databases, OneConnectionServicesTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
