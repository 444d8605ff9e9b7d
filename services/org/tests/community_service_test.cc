// CommunityService on MariaDB and SQLite: communities (1+N+X) with their lists and placement in
// the tree, an organization in at most one community, pairings and stations with their periods
// on an injected clock, scope, idempotent creates, and one call over gRPC.
#include <random>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/events/events.h"
#include "common/rpc/channel.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "common/runtime/service_main.h"
#include "dangjian/org/v1/events.pb.h"
#include "gtest/gtest.h"
#include "services/org/src/community_service.h"
#include "services/org/src/org_service.h"
#include "services/org/tests/org_test_db.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

// Noon in Shanghai on a civil date, as the clock's microseconds.
int64_t NoonInShanghai(int32_t y, int32_t m, int32_t d) {
  return ShanghaiMidnightUs(y, m, d) + int64_t{12} * 3600 * 1'000'000;
}

google::type::Date D(int32_t y, int32_t m, int32_t d) { return time::ToProto({y, m, d}); }

pb::Partner P(const std::string& name, pb::PartnerKind kind, const std::string& contact = "") {
  pb::Partner p;
  p.set_display_name(name);
  p.set_kind(kind);
  p.set_contact(contact);
  return p;
}

std::string Field(const absl::Status& s) {
  auto v = rpc::Violations(s);
  return v.empty() ? "" : v[0].field;
}

// Runs `call(0..n-1)` on n threads at once and returns their answers, in order.
std::vector<absl::Status> RunConcurrently(size_t n,
                                          const std::function<absl::Status(size_t)>& call) {
  std::vector<absl::Status> results(n);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] { results[i] = call(i); });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  return results;
}

// Exactly one of `results` succeeded; every other one was refused with `code`, `reason` and a
// violation of `field`.
void ExpectOneWinner(const std::vector<absl::Status>& results, absl::StatusCode code,
                     std::string_view reason, std::string_view field) {
  int won = 0;
  for (const absl::Status& s : results) {
    if (s.ok()) {
      ++won;
      continue;
    }
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_EQ(rpc::Reason(s), reason) << s;
    EXPECT_EQ(Field(s), field);
  }
  EXPECT_EQ(won, 1);
}

int64_t Id(const pb::Organization& o) { return *rpc::ParseName(o.name(), "organizations", "n"); }

class CommunityServiceTest : public OrgDatabaseTest {
 protected:
  void SetUp() override {
    OrgDatabaseTest::SetUp();
    std::random_device rd;
    ids_ = std::make_unique<ids::IdGenerator>(static_cast<int>(rd() % 1024));
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(std::string(32, 's')));
    now_us_ = NoonInShanghai(2024, 2, 29);
    auto clock = [this] { return now_us_; };
    OrgServiceOptions options;
    options.now_us = clock;
    orgs_ =
        std::make_unique<OrgService>(*pool_, nullptr, *ids_, *auth_, std::string(32, 'k'), options);
    service_ =
        std::make_unique<CommunityService>(*pool_, *ids_, *auth_, std::string(32, 'k'), clock);
    // 工委 -> 党委A -> 总支ga -> 支部a1, 支部a2; 党委B -> 支部b1, 支部b2; 党委C -> 支部c1
    root_ = Make("", pb::WORK_COMMITTEE, "工委");
    a_ = Make(root_.name(), pb::PARTY_COMMITTEE, "党委A");
    ga_ = Make(a_.name(), pb::GENERAL_BRANCH, "总支ga");
    a1_ = Make(ga_.name(), pb::BRANCH, "支部a1");
    a2_ = Make(ga_.name(), pb::BRANCH, "支部a2");
    b_ = Make(root_.name(), pb::PARTY_COMMITTEE, "党委B");
    b1_ = Make(b_.name(), pb::BRANCH, "支部b1");
    b2_ = Make(b_.name(), pb::BRANCH, "支部b2");
    c_ = Make(root_.name(), pb::PARTY_COMMITTEE, "党委C");
    c1_ = Make(c_.name(), pb::BRANCH, "支部c1");
  }

  pb::Organization Make(const std::string& parent, pb::OrganizationKind kind,
                        const std::string& name) {
    return MakeOrganization(*orgs_, admin_, parent, kind, name);
  }

  auth::Principal Scoped(const std::string& role, const pb::Organization& scope) {
    return auth::Principal{.subject = "accounts/77", .roles = {role}, .scope_org = Id(scope)};
  }

  static pb::CreateCommunityRequest Community(const std::string& name, const pb::Organization& lead,
                                              const std::vector<pb::Organization>& members) {
    pb::CreateCommunityRequest req;
    req.mutable_community()->set_display_name(name);
    req.mutable_community()->set_lead_organization(lead.name());
    for (const pb::Organization& m : members) {
      req.mutable_community()->add_member_organizations(m.name());
    }
    return req;
  }

  absl::StatusOr<pb::Community> GetCommunity(const std::string& name,
                                             const auth::Principal* who = nullptr) {
    pb::GetCommunityRequest req;
    req.set_name(name);
    return service_->Get(who != nullptr ? *who : admin_, req);
  }

  std::vector<std::string> ListCommunities(const auth::Principal& who,
                                           const std::string& organization = "") {
    pb::ListCommunitiesRequest req;
    req.set_organization(organization);
    auto list = service_->List(who, req);
    EXPECT_TRUE(list.ok()) << list.status();
    std::vector<std::string> out;
    if (list.ok()) {
      for (const pb::Community& c : list->communities()) {
        out.push_back(c.display_name());
      }
    }
    return out;
  }

  static pb::CreatePairingRequest Pairing(const pb::Organization& org, const std::string& partner,
                                          google::type::Date start,
                                          std::optional<google::type::Date> end = {}) {
    pb::CreatePairingRequest req;
    req.mutable_pairing()->set_organization(org.name());
    *req.mutable_pairing()->mutable_partner() = P(partner, pb::ENTERPRISE, "党委办公室");
    *req.mutable_pairing()->mutable_start_date() = start;
    if (end.has_value()) {
      *req.mutable_pairing()->mutable_end_date() = *end;
    }
    return req;
  }

  static pb::CreateStationRequest Station(const pb::Organization& org, const std::string& where,
                                          google::type::Date start,
                                          std::optional<google::type::Date> end = {}) {
    pb::CreateStationRequest req;
    req.mutable_station()->set_organization(org.name());
    req.mutable_station()->set_residential_community(where);
    *req.mutable_station()->mutable_start_date() = start;
    if (end.has_value()) {
      *req.mutable_station()->mutable_end_date() = *end;
    }
    return req;
  }

  std::vector<std::string> ListPairings(bool include_ended, const std::string& organization = "",
                                        const auth::Principal* who = nullptr) {
    pb::ListPairingsRequest req;
    req.set_include_ended(include_ended);
    req.set_organization(organization);
    auto list = service_->ListPairings(who != nullptr ? *who : admin_, req);
    EXPECT_TRUE(list.ok()) << list.status();
    std::vector<std::string> out;
    if (list.ok()) {
      for (const pb::Pairing& p : list->pairings()) {
        out.push_back(p.partner().display_name());
      }
    }
    return out;
  }

  std::vector<std::string> ListStations(bool include_ended) {
    pb::ListStationsRequest req;
    req.set_include_ended(include_ended);
    auto list = service_->ListStations(admin_, req);
    EXPECT_TRUE(list.ok()) << list.status();
    std::vector<std::string> out;
    if (list.ok()) {
      for (const pb::Station& s : list->stations()) {
        out.push_back(s.residential_community());
      }
    }
    return out;
  }

  // Every row of the slice's tables: what a refused call must leave exactly as it was.
  std::string Snapshot() {
    auto lease = pool_->Acquire();
    std::string out;
    for (const char* sql :
         {"SELECT id, display_name, scope_org_id, version FROM communities ORDER BY id",
          "SELECT community_id, organization_id, role, position FROM community_organizations "
          "ORDER BY community_id, position",
          "SELECT community_id, position, display_name FROM community_partners "
          "ORDER BY community_id, position",
          "SELECT community_id, mechanism FROM community_mechanisms ORDER BY community_id, "
          "mechanism",
          "SELECT community_id, position, display_name FROM community_brands "
          "ORDER BY community_id, position",
          "SELECT id, organization_id, start_date, end_date, version FROM pairings ORDER BY id",
          "SELECT id, organization_id, start_date, end_date, version FROM stations ORDER BY id"}) {
      auto rows = (*lease)->Exec(sql, {});
      EXPECT_TRUE(rows.ok()) << rows.status();
      absl::StrAppend(&out, sql, "\n");
      for (const db::Row& r : rows->rows) {
        for (size_t i = 0; i < r.values.size(); ++i) {
          absl::StrAppend(&out, r.Text(i), " ");
        }
        absl::StrAppend(&out, "\n");
      }
    }
    return out;
  }

  // Delivers the org service's events in the outbox to the consumer, `rounds` times over
  // (at-least-once delivery); returns how many of them were OrganizationMoved, per round.
  int DeliverOrgEvents(int rounds) {
    auto lease = pool_->Acquire();
    auto rows = (*lease)->Exec(
        "SELECT id, stream, type, event_key, payload, occurred_us FROM outbox ORDER BY id", {});
    EXPECT_TRUE(rows.ok()) << rows.status();
    int moves = 0;
    for (int round = 0; round < rounds && rows.ok(); ++round) {
      moves = 0;
      for (const db::Row& r : rows->rows) {
        events::Event e{.id = r.Int(0),
                        .stream = r.Text(1),
                        .type = r.Text(2),
                        .key = r.Text(3),
                        .occurred_us = r.Int(5)};
        EXPECT_TRUE(absl::Base64Unescape(r.Text(4), &e.payload));
        moves += e.type == pb::OrganizationMoved::descriptor()->full_name() ? 1 : 0;
        absl::Status s = service_->OnOrganizationEvent(e);
        EXPECT_TRUE(s.ok()) << s;
      }
    }
    return moves;
  }

  int64_t now_us_ = 0;
  auth::Principal admin_ = auth::SystemPrincipal();
  std::unique_ptr<ids::IdGenerator> ids_;
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<OrgService> orgs_;
  std::unique_ptr<CommunityService> service_;
  pb::Organization root_, a_, ga_, a1_, a2_, b_, b1_, b2_, c_, c1_;
};

TEST_P(CommunityServiceTest, OnePlusNPlusXRoundTrip) {
  auto req = Community("启东市级机关第一党建共同体", a_, {b_, c1_});
  pb::Community* in = req.mutable_community();
  *in->add_partners() = P("汇龙镇城北村", pb::VILLAGE, "村委会 0513-83000000");
  *in->add_partners() = P("江苏某某科技有限公司", pb::ENTERPRISE);
  in->mutable_liaison()->set_display_name("张三");
  in->mutable_liaison()->set_title("市级机关工委委员");
  in->mutable_liaison()->set_member("members/9");
  in->add_mechanisms(pb::JOINT_SERVICE);
  in->add_mechanisms(pb::JOINT_MEETING);
  in->add_brands()->set_display_name("红色代办");
  in->mutable_brands(0)->set_description("为群众代办事项");
  auto made = service_->Create(admin_, req);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_TRUE(absl::StartsWith(made->name(), "communities/"));
  EXPECT_EQ(made->lead_organization(), a_.name());
  ASSERT_EQ(made->member_organizations_size(), 2);
  EXPECT_EQ(made->member_organizations(0), b_.name());  // the order given
  EXPECT_EQ(made->member_organizations(1), c1_.name());
  EXPECT_EQ(made->scope_organization(), root_.name());  // A, B and C meet only at the root
  EXPECT_EQ(made->etag(), "v1");
  ASSERT_EQ(made->mechanisms_size(), 2);
  EXPECT_EQ(made->mechanisms(0), pb::JOINT_MEETING);  // by enum value

  auto got = GetCommunity(made->name());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), made->SerializeAsString());
  ASSERT_EQ(got->partners_size(), 2);
  EXPECT_EQ(got->partners(0).display_name(), "汇龙镇城北村");
  EXPECT_EQ(got->partners(0).kind(), pb::VILLAGE);
  EXPECT_EQ(got->partners(0).contact(), "村委会 0513-83000000");
  EXPECT_EQ(got->liaison().title(), "市级机关工委委员");
  EXPECT_EQ(got->liaison().member(), "members/9");
  EXPECT_EQ(got->brands(0).description(), "为群众代办事项");
  EXPECT_EQ(ListCommunities(admin_), std::vector<std::string>{"启东市级机关第一党建共同体"});

  // Deleting takes the current etag, and frees its organizations for another community.
  pb::DeleteCommunityRequest del;
  del.set_name(made->name());
  del.set_etag("v7");
  const std::string before = Snapshot();
  EXPECT_EQ(rpc::Reason(service_->Delete(admin_, del)), "ETAG_MISMATCH");
  EXPECT_EQ(Snapshot(), before);
  del.set_etag("v1");
  ASSERT_TRUE(service_->Delete(admin_, del).ok());
  EXPECT_EQ(GetCommunity(made->name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(service_->Create(admin_, Community("第二共同体", b_, {a_})).ok());
}

TEST_P(CommunityServiceTest, UpdateReplacesListsWholeAndRecomputesScope) {
  auto req = Community("共同体", a1_, {a2_});
  *req.mutable_community()->add_partners() = P("村一", pb::VILLAGE);
  *req.mutable_community()->add_partners() = P("村二", pb::VILLAGE);
  auto made = service_->Create(admin_, req);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->scope_organization(), ga_.name());

  pb::UpdateCommunityRequest update;
  *update.mutable_community() = *made;
  update.mutable_community()->clear_member_organizations();
  update.mutable_community()->add_member_organizations(b1_.name());
  update.mutable_community()->clear_partners();
  *update.mutable_community()->add_partners() = P("企业三", pb::ENTERPRISE);
  update.mutable_update_mask()->add_paths("memberOrganizations");
  update.mutable_update_mask()->add_paths("partners");
  auto updated = service_->Update(admin_, update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->scope_organization(), root_.name());
  EXPECT_EQ(updated->etag(), "v2");
  ASSERT_EQ(updated->partners_size(), 1);
  EXPECT_EQ(updated->partners(0).display_name(), "企业三");
  ASSERT_EQ(updated->member_organizations_size(), 1);
  EXPECT_EQ(updated->member_organizations(0), b1_.name());
  EXPECT_EQ(GetCommunity(made->name())->SerializeAsString(), updated->SerializeAsString());
  // a2 left the community: another may take it.
  EXPECT_TRUE(service_->Create(admin_, Community("另一个", a2_, {})).ok());

  // Refusals: a stale etag, unknown and output-only paths. Nothing changes.
  const std::string before = Snapshot();
  update.mutable_community()->set_etag("v1");
  auto stale = service_->Update(admin_, update).status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(rpc::Reason(stale), "ETAG_MISMATCH");
  update.mutable_community()->set_etag("v2");
  for (const char* path : {"kind", "scope_organization", "liaison.title"}) {
    update.mutable_update_mask()->clear_paths();
    update.mutable_update_mask()->add_paths(path);
    auto s = service_->Update(admin_, update).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_EQ(rpc::Reason(s), "INVALID_ARGUMENT") << path;
    EXPECT_EQ(Field(s), "update_mask") << path;
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(CommunityServiceTest, AnOrganizationInTwoCommunitiesIsRefused) {
  auto first = service_->Create(admin_, Community("第一共同体", a1_, {a2_}));
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string before = Snapshot();
  struct Case {
    pb::CreateCommunityRequest req;
    std::string field;
  };
  const Case cases[] = {
      {Community("第二共同体", b1_, {b2_, a2_}), "community.member_organizations[1]"},
      {Community("第二共同体", a1_, {b2_}), "community.lead_organization"},
      {Community("第二共同体", b1_, {a1_}), "community.member_organizations[0]"},
  };
  for (const Case& c : cases) {
    auto s = service_->Create(admin_, c.req).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(rpc::Reason(s), "ORGANIZATION_IN_ANOTHER_COMMUNITY") << c.field;
    EXPECT_EQ(Field(s), c.field);
    EXPECT_TRUE(absl::StrContains(s.message(), first->name())) << s.message();
  }
  // Updating another community to take one of the first's organizations is refused the same way.
  auto second = service_->Create(admin_, Community("第二共同体", b1_, {b2_}));
  ASSERT_TRUE(second.ok()) << second.status();
  const std::string with_second = Snapshot();
  pb::UpdateCommunityRequest update;
  update.mutable_community()->set_name(second->name());
  update.mutable_community()->add_member_organizations(b2_.name());
  update.mutable_community()->add_member_organizations(a2_.name());
  auto s = service_->Update(admin_, update).status();
  EXPECT_EQ(rpc::Reason(s), "ORGANIZATION_IN_ANOTHER_COMMUNITY");
  EXPECT_EQ(Field(s), "community.member_organizations[1]");
  EXPECT_EQ(Snapshot(), with_second);
  EXPECT_NE(before, with_second);
}

TEST_P(CommunityServiceTest, ConcurrentCreatesSharingAnOrganizationLeaveOneWinner) {
  // Each create checks memberships first, but only the unique key on organization_id holds
  // against a twin that commits in between; the loser gets the same answer either way.
  const pb::Organization leads[] = {a1_, a2_, b2_, c1_};
  ExpectOneWinner(
      RunConcurrently(std::size(leads),
                      [&](size_t i) {
                        return service_
                            ->Create(admin_, Community(absl::StrCat("并发", i), leads[i], {b1_}))
                            .status();
                      }),
      absl::StatusCode::kInvalidArgument, "ORGANIZATION_IN_ANOTHER_COMMUNITY",
      "community.member_organizations[0]");
  EXPECT_EQ(ListCommunities(admin_).size(), 1u);
}

TEST_P(CommunityServiceTest, BadCommunitiesAreRefusedNamingTheField) {
  // Placed at ga, where every community below is placed too (a1 and a2 meet there).
  ASSERT_TRUE(service_->Create(admin_, Community("已有共同体", ga_, {})).ok());
  const std::string before = Snapshot();
  struct Case {
    std::string what;
    std::function<void(pb::Community&)> change;
    absl::StatusCode code;
    std::string reason;
    std::string field;
  };
  const std::string long_name(101, 'x');
  const Case cases[] = {
      {"no lead", [](pb::Community& c) { c.clear_lead_organization(); },
       absl::StatusCode::kInvalidArgument, "LEAD_REQUIRED", "community.lead_organization"},
      {"no display name", [](pb::Community& c) { c.set_display_name("  "); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "community.display_name"},
      {"display name of 101", [&](pb::Community& c) { c.set_display_name(long_name); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "community.display_name"},
      {"display name taken", [](pb::Community& c) { c.set_display_name("已有共同体"); },
       absl::StatusCode::kAlreadyExists, "DISPLAY_NAME_TAKEN", "community.display_name"},
      {"member is the lead", [this](pb::Community& c) { c.add_member_organizations(a1_.name()); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "community.member_organizations[1]"},
      {"member twice", [this](pb::Community& c) { c.add_member_organizations(a2_.name()); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "community.member_organizations[1]"},
      {"missing member",
       [](pb::Community& c) { c.add_member_organizations("organizations/12345"); },
       absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND", "community.member_organizations[1]"},
      {"bad member name", [](pb::Community& c) { c.add_member_organizations("units/1"); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "community.member_organizations[1]"},
      {"partner without kind",
       [](pb::Community& c) { *c.add_partners() = P("村", pb::PARTNER_KIND_UNSPECIFIED); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "community.partners[0].kind"},
      {"partner without name", [](pb::Community& c) { *c.add_partners() = P("", pb::VILLAGE); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
       "community.partners[0].display_name"},
      {"partner contact of 101",
       [&](pb::Community& c) { *c.add_partners() = P("村", pb::VILLAGE, long_name); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "community.partners[0].contact"},
      {"liaison title without a name",
       [](pb::Community& c) { c.mutable_liaison()->set_title("委员"); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "community.liaison.display_name"},
      {"mechanism twice",
       [](pb::Community& c) {
         c.add_mechanisms(pb::JOINT_BRAND);
         c.add_mechanisms(pb::JOINT_BRAND);
       },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "community.mechanisms[1]"},
      {"unknown mechanism",
       [](pb::Community& c) { c.add_mechanisms(static_cast<pb::JointMechanism>(42)); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "community.mechanisms[0]"},
      {"brand description of 501",
       [](pb::Community& c) {
         c.add_brands()->set_display_name("品牌");
         c.mutable_brands(0)->set_description(std::string(501, 'y'));
       },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "community.brands[0].description"},
  };
  for (const Case& c : cases) {
    auto req = Community("新共同体", a1_, {a2_});
    c.change(*req.mutable_community());
    auto s = service_->Create(admin_, req).status();
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s;
    EXPECT_EQ(rpc::Reason(s), c.reason) << c.what;
    EXPECT_EQ(Field(s), c.field) << c.what;
  }
  EXPECT_EQ(Snapshot(), before);
  // The edges that pass: 100 characters, 500 in a description.
  auto req = Community(std::string(100, 'x'), a1_, {a2_});
  req.mutable_community()->add_brands()->set_display_name(std::string(100, 'b'));
  req.mutable_community()->mutable_brands(0)->set_description(std::string(500, 'y'));
  EXPECT_TRUE(service_->Create(admin_, req).ok());
}

TEST_P(CommunityServiceTest, ADissolvedOrganizationCannotJoin) {
  pb::DissolveOrganizationRequest dissolve;
  dissolve.set_name(b2_.name());
  dissolve.set_reason("机构改革");
  ASSERT_TRUE(orgs_->Dissolve(admin_, dissolve).ok());
  const std::string before = Snapshot();
  auto s = service_->Create(admin_, Community("共同体", b1_, {b2_})).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(rpc::Reason(s), "ORGANIZATION_DISSOLVED");
  EXPECT_EQ(Field(s), "community.member_organizations[0]");
  s = service_->CreatePairing(admin_, Pairing(b2_, "企业", D(2024, 1, 1))).status();
  EXPECT_EQ(rpc::Reason(s), "ORGANIZATION_DISSOLVED");
  EXPECT_EQ(Field(s), "pairing.organization");
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(CommunityServiceTest, ScopeHidesOtherBranchesAndRolesLimitWrites) {
  auto pairing_b1 = service_->CreatePairing(admin_, Pairing(b1_, "企业B", D(2023, 1, 1)));
  ASSERT_TRUE(pairing_b1.ok()) << pairing_b1.status();
  const auth::Principal secretary_a1 = Scoped("secretary", a1_);
  pb::GetPairingRequest get;
  get.set_name(pairing_b1->name());
  auto s = service_->GetPairing(secretary_a1, get).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(rpc::Reason(s), "PAIRING_NOT_FOUND");
  // Creating one for b1 looks like b1 does not exist; for a1 it is the secretary's to do.
  const std::string before = Snapshot();
  s = service_->CreatePairing(secretary_a1, Pairing(b1_, "企业", D(2023, 1, 1))).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(rpc::Reason(s), "ORGANIZATION_NOT_FOUND");
  EXPECT_EQ(Field(s), "pairing.organization");
  EXPECT_EQ(Snapshot(), before);
  ASSERT_TRUE(service_->CreatePairing(secretary_a1, Pairing(a1_, "企业A", D(2023, 1, 1))).ok());
  EXPECT_EQ(ListPairings(false, "", &secretary_a1), std::vector<std::string>{"企业A"});
  pb::ListPairingsRequest other;
  other.set_organization(b_.name());
  s = service_->ListPairings(secretary_a1, other).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(rpc::Reason(s), "ORGANIZATION_NOT_FOUND");
  EXPECT_EQ(Field(s), "organization");

  // A member reads communities but does not create them; a secretary does not create them, sees
  // the community the branch belongs to although it is placed above the branch ("my
  // community"), and cannot change it (PERMISSION_DENIED: it is readable, not missing); a
  // community the branch is not in stays hidden.
  const std::string now = Snapshot();
  s = service_->Create(Scoped("member", root_), Community("共同体", a1_, {a2_})).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(rpc::Reason(s), "PERMISSION_DENIED");
  s = service_->Create(secretary_a1, Community("共同体", a1_, {})).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(rpc::Reason(s), "PERMISSION_DENIED");
  EXPECT_EQ(Snapshot(), now);
  auto made = service_->Create(admin_, Community("共同体", a1_, {a2_}));
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_TRUE(GetCommunity(made->name(), &secretary_a1).ok());
  EXPECT_EQ(ListCommunities(secretary_a1), std::vector<std::string>{"共同体"});
  pb::DeleteCommunityRequest drop;
  drop.set_name(made->name());
  s = service_->Delete(secretary_a1, drop);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  const auth::Principal secretary_b1 = Scoped("secretary", b1_);
  EXPECT_EQ(GetCommunity(made->name(), &secretary_b1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(ListCommunities(secretary_b1).empty());
  s = service_->Delete(secretary_b1, drop);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  const auth::Principal member_root = Scoped("member", root_);
  EXPECT_TRUE(GetCommunity(made->name(), &member_root).ok());
}

TEST_P(CommunityServiceTest, ACommunityFollowsItsScopeOrganizationWhenItMoves) {
  auto made = service_->Create(admin_, Community("共同体", a1_, {a2_}));
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(made->scope_organization(), ga_.name());
  const auth::Principal admin_a = Scoped("org_admin", a_);
  const auth::Principal admin_b = Scoped("org_admin", b_);
  EXPECT_TRUE(GetCommunity(made->name(), &admin_a).ok());
  EXPECT_EQ(GetCommunity(made->name(), &admin_b).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ListCommunities(admin_a), std::vector<std::string>{"共同体"});
  EXPECT_TRUE(ListCommunities(admin_b).empty());

  pb::MoveOrganizationRequest move;
  move.set_name(ga_.name());
  move.set_new_parent(b_.name());
  ASSERT_TRUE(orgs_->Move(admin_, move).ok());

  EXPECT_EQ(GetCommunity(made->name(), &admin_a).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(GetCommunity(made->name(), &admin_b).ok());
  EXPECT_TRUE(ListCommunities(admin_a).empty());
  EXPECT_EQ(ListCommunities(admin_b), std::vector<std::string>{"共同体"});
  EXPECT_EQ(ListCommunities(admin_, b_.name()), std::vector<std::string>{"共同体"});
}

TEST_P(CommunityServiceTest, MovingAMemberAwayPlacesTheCommunityAgainOnItsEvent) {
  auto made = service_->Create(admin_, Community("共同体", a1_, {a2_}));
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(made->scope_organization(), ga_.name());
  pb::MoveOrganizationRequest move;
  move.set_name(a2_.name());
  move.set_new_parent(b_.name());
  ASSERT_TRUE(orgs_->Move(admin_, move).ok());

  // Deliver the org service's events to the consumer, twice (at-least-once delivery).
  EXPECT_EQ(DeliverOrgEvents(2), 1);
  auto got = GetCommunity(made->name());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->scope_organization(), root_.name());  // a1 under A, a2 under B now
  EXPECT_EQ(got->etag(), "v2");                        // placed once, not once per delivery
  // Its lead a1 is still under A: A's admin reads it as "my community" from below; an admin
  // of b1, beside both, does not see it.
  const auth::Principal admin_a = Scoped("org_admin", a_);
  EXPECT_TRUE(GetCommunity(made->name(), &admin_a).ok());
  const auth::Principal admin_b1 = Scoped("org_admin", b1_);
  EXPECT_EQ(GetCommunity(made->name(), &admin_b1).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(CommunityServiceTest, DisplayNamesAreUniquePerScopeAndCheckedAfterAuthorization) {
  // Two organs may each have their "第一党建共同体"; one placed at b1, one at ga.
  auto in_b = service_->Create(admin_, Community("第一党建共同体", b1_, {}));
  ASSERT_TRUE(in_b.ok()) << in_b.status();
  const auth::Principal admin_a = Scoped("org_admin", a_);
  auto in_a = service_->Create(admin_a, Community("第一党建共同体", a1_, {a2_}));
  ASSERT_TRUE(in_a.ok()) << in_a.status();
  EXPECT_EQ(in_a->scope_organization(), ga_.name());

  // A third at ga is refused, to a caller who may create there; one who may not is told only
  // that. The name is never compared outside the caller's reach.
  const std::string before = Snapshot();
  struct Case {
    std::string what;
    auth::Principal who;
    pb::CreateCommunityRequest req;
    absl::StatusCode code;
    std::string reason;
    std::string field;
  };
  const Case cases[] = {
      {"taken at ga", admin_a, Community("第一党建共同体", ga_, {}),
       absl::StatusCode::kAlreadyExists, "DISPLAY_NAME_TAKEN", "community.display_name"},
      {"taken at ga, to the committee", admin_, Community("第一党建共同体", ga_, {}),
       absl::StatusCode::kAlreadyExists, "DISPLAY_NAME_TAKEN", "community.display_name"},
      {"a reader at the root", Scoped("member", root_), Community("第一党建共同体", ga_, {}),
       absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED", ""},
      {"a secretary of ga", Scoped("secretary", ga_), Community("第一党建共同体", ga_, {}),
       absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED", ""},
      {"an organization out of scope", admin_a, Community("第一党建共同体", ga_, {b2_}),
       absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND", "community.member_organizations[0]"},
  };
  for (const Case& c : cases) {
    auto s = service_->Create(c.who, c.req).status();
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s;
    EXPECT_EQ(rpc::Reason(s), c.reason) << c.what;
    EXPECT_EQ(Field(s), c.field) << c.what;
    EXPECT_FALSE(absl::StrContains(s.message(), in_b->name())) << c.what;
  }
  EXPECT_EQ(Snapshot(), before);

  // An update that moves a community to a scope where its name is taken is refused, even
  // though the name itself is not changed; so is a rename to a name taken in its scope; and one
  // who may not update hears only that.
  auto at_root = service_->Create(admin_, Community("第二党建共同体", b2_, {c1_}));
  ASSERT_TRUE(at_root.ok()) << at_root.status();
  ASSERT_EQ(at_root->scope_organization(), root_.name());
  auto at_a = service_->Create(admin_, Community("第二党建共同体", a_, {}));
  ASSERT_TRUE(at_a.ok()) << at_a.status();
  auto at_ga = service_->Create(admin_a, Community("总支共同体", ga_, {}));
  ASSERT_TRUE(at_ga.ok()) << at_ga.status();
  ASSERT_EQ(at_ga->scope_organization(), ga_.name());
  const std::string with_all = Snapshot();
  pb::UpdateCommunityRequest move;
  move.mutable_community()->set_name(at_a->name());
  move.mutable_community()->add_member_organizations(c_.name());  // A and C meet at the root
  auto s = service_->Update(admin_, move).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(rpc::Reason(s), "DISPLAY_NAME_TAKEN");
  EXPECT_EQ(Field(s), "community.display_name");
  pb::UpdateCommunityRequest rename;
  rename.mutable_community()->set_name(at_ga->name());
  rename.mutable_community()->set_display_name("第一党建共同体");
  s = service_->Update(admin_a, rename).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(rpc::Reason(s), "DISPLAY_NAME_TAKEN");
  EXPECT_EQ(Field(s), "community.display_name");
  s = service_->Update(Scoped("secretary", ga_), rename).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_EQ(Field(s), "");
  EXPECT_EQ(Snapshot(), with_all);
  // The same move under a name free at the root is fine.
  move.mutable_community()->set_display_name("第三党建共同体");
  auto moved = service_->Update(admin_, move);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->scope_organization(), root_.name());
}

TEST_P(CommunityServiceTest, ConcurrentCreatesOfOneNameInOneScopeLeaveOneWinner) {
  // Four communities with no organization in common, all placed at the root: only the unique
  // key on (scope, name) holds against a twin that commits in between.
  const std::pair<pb::Organization, pb::Organization> orgs[] = {
      {a1_, b1_}, {a2_, b2_}, {c1_, ga_}, {c_, b_}};
  ExpectOneWinner(
      RunConcurrently(std::size(orgs),
                      [&](size_t i) {
                        return service_
                            ->Create(admin_, Community("并发同名", orgs[i].first, {orgs[i].second}))
                            .status();
                      }),
      absl::StatusCode::kAlreadyExists, "DISPLAY_NAME_TAKEN", "community.display_name");
  EXPECT_EQ(ListCommunities(admin_).size(), 1u);
}

TEST_P(CommunityServiceTest, AnotherCommunityIsNamedOnlyToWhoMayReadIt) {
  // Placed at the root: out of the reach of an admin of A, though a2 is within it.
  auto other = service_->Create(admin_, Community("城区共同体", b1_, {a2_}));
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_EQ(other->scope_organization(), root_.name());
  const auth::Principal admin_a = Scoped("org_admin", a_);
  auto mine = service_->Create(admin_a, Community("甲共同体", a1_, {}));
  ASSERT_TRUE(mine.ok()) << mine.status();
  const std::string before = Snapshot();

  auto s = service_->Create(admin_a, Community("乙共同体", ga_, {a2_})).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(rpc::Reason(s), "ORGANIZATION_IN_ANOTHER_COMMUNITY");
  EXPECT_EQ(Field(s), "community.member_organizations[0]");
  EXPECT_TRUE(absl::StrContains(s.message(), "already belongs to another community")) << s;
  EXPECT_FALSE(absl::StrContains(s.message(), other->name())) << s;
  EXPECT_FALSE(absl::StrContains(s.message(), "城区共同体")) << s;
  auto violations = rpc::Violations(s);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_FALSE(absl::StrContains(violations[0].description, other->name()));
  EXPECT_FALSE(absl::StrContains(violations[0].description, "城区共同体"));

  pb::UpdateCommunityRequest update;
  update.mutable_community()->set_name(mine->name());
  update.mutable_community()->add_member_organizations(a2_.name());
  s = service_->Update(admin_a, update).status();
  EXPECT_EQ(rpc::Reason(s), "ORGANIZATION_IN_ANOTHER_COMMUNITY") << s;
  EXPECT_EQ(Field(s), "community.member_organizations[0]");
  EXPECT_FALSE(absl::StrContains(s.message(), other->name())) << s;
  EXPECT_FALSE(absl::StrContains(s.message(), "城区共同体")) << s;
  EXPECT_EQ(Snapshot(), before);

  // One who may read it is told which; one who may not create there hears nothing of it.
  s = service_->Create(admin_, Community("乙共同体", ga_, {a2_})).status();
  EXPECT_EQ(Field(s), "community.member_organizations[0]");
  EXPECT_TRUE(absl::StrContains(s.message(), other->name())) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "城区共同体")) << s;
  s = service_->Create(Scoped("member", root_), Community("乙共同体", ga_, {a2_})).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(CommunityServiceTest, ACommunityWhoseNameIsTakenInItsNewScopeStaysWhereItWas) {
  auto at_b = service_->Create(admin_, Community("同名共同体", b_, {}));
  ASSERT_TRUE(at_b.ok()) << at_b.status();
  auto at_root = service_->Create(admin_, Community("同名共同体", b1_, {c1_}));
  ASSERT_TRUE(at_root.ok()) << at_root.status();
  ASSERT_EQ(at_root->scope_organization(), root_.name());
  pb::MoveOrganizationRequest move;
  move.set_name(c1_.name());
  move.set_new_parent(b_.name());  // b1 and c1 now meet at b, where the name is taken
  ASSERT_TRUE(orgs_->Move(admin_, move).ok());
  EXPECT_EQ(DeliverOrgEvents(2), 1);  // taken, not retried forever
  auto got = GetCommunity(at_root->name());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->scope_organization(), root_.name());
  EXPECT_EQ(got->etag(), "v1");
}

TEST_P(CommunityServiceTest, PairingsAreWithEnterprisesVillagesOrResidentialCommunities) {
  const std::string before = Snapshot();
  for (pb::PartnerKind kind : {pb::SOCIAL_ORGANIZATION, pb::OTHER_PARTNER,
                               static_cast<pb::PartnerKind>(42), pb::PARTNER_KIND_UNSPECIFIED}) {
    auto req = Pairing(a1_, "启东市个体私营企业协会", D(2024, 2, 29));
    req.mutable_pairing()->mutable_partner()->set_kind(kind);
    auto s = service_->CreatePairing(admin_, req).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << kind << ": " << s;
    EXPECT_EQ(rpc::Reason(s), "INVALID_ARGUMENT") << kind;
    EXPECT_EQ(Field(s), "pairing.partner.kind") << kind;
  }
  EXPECT_EQ(Snapshot(), before);
  for (pb::PartnerKind kind : {pb::ENTERPRISE, pb::VILLAGE, pb::RESIDENTIAL_COMMUNITY}) {
    auto req = Pairing(a1_, pb::PartnerKind_Name(kind), D(2024, 2, 29));
    req.mutable_pairing()->mutable_partner()->set_kind(kind);
    auto made = service_->CreatePairing(admin_, req);
    ASSERT_TRUE(made.ok()) << kind << ": " << made.status();
    EXPECT_EQ(made->partner().kind(), kind);
  }
  // A community's "X" keeps every kind.
  auto req = Community("共同体", b1_, {});
  *req.mutable_community()->add_partners() = P("启东市个体私营企业协会", pb::SOCIAL_ORGANIZATION);
  *req.mutable_community()->add_partners() = P("其他", pb::OTHER_PARTNER);
  auto made = service_->Create(admin_, req);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->partners(0).kind(), pb::SOCIAL_ORGANIZATION);
  EXPECT_EQ(made->partners(1).kind(), pb::OTHER_PARTNER);
}

TEST_P(CommunityServiceTest, PairingsAreCurrentUntilTheirEndDatePasses) {
  // Today is 2024-02-29 in Shanghai.
  ASSERT_TRUE(service_->CreatePairing(admin_, Pairing(a1_, "开放", D(2023, 3, 1))).ok());
  ASSERT_TRUE(
      service_->CreatePairing(admin_, Pairing(b1_, "昨天结束", D(2020, 1, 1), D(2024, 2, 28)))
          .ok());
  auto today =
      service_->CreatePairing(admin_, Pairing(a2_, "今天结束", D(2023, 12, 31), D(2024, 2, 29)));
  ASSERT_TRUE(today.ok()) << today.status();
  EXPECT_EQ(today->partner().kind(), pb::ENTERPRISE);
  EXPECT_EQ(today->partner().contact(), "党委办公室");
  EXPECT_EQ(ListPairings(false), (std::vector<std::string>{"开放", "今天结束"}));
  EXPECT_EQ(ListPairings(true), (std::vector<std::string>{"开放", "昨天结束", "今天结束"}));
  EXPECT_EQ(ListPairings(true, a_.name()), (std::vector<std::string>{"开放", "今天结束"}));
  EXPECT_EQ(ListPairings(true, b1_.name()), std::vector<std::string>{"昨天结束"});

  // Bad input changes nothing.
  const std::string before = Snapshot();
  struct Case {
    pb::CreatePairingRequest req;
    std::string reason;
    std::string field;
  };
  Case cases[] = {
      {Pairing(a1_, "企业", D(2024, 3, 1), D(2024, 2, 29)), "END_BEFORE_START", "pairing.end_date"},
      {Pairing(a1_, "企业", D(2024, 1, 1), D(2023, 12, 31)), "END_BEFORE_START",
       "pairing.end_date"},
      {Pairing(a1_, "", D(2024, 1, 1)), "INVALID_ARGUMENT", "pairing.partner.display_name"},
      {Pairing(a1_, "企业", D(2023, 2, 29)), "INVALID_ARGUMENT", "pairing.start_date.day"},
      {Pairing(a1_, "企业", D(2024, 1, 1)), "INVALID_ARGUMENT", "pairing.start_date"},
      {Pairing(a1_, "企业", D(2024, 1, 1)), "INVALID_ARGUMENT", "pairing.partner.kind"},
      {Pairing(a1_, "企业", D(2024, 1, 1)), "INVALID_ARGUMENT", "pairing.organization"},
  };
  cases[4].req.mutable_pairing()->clear_start_date();
  cases[5].req.mutable_pairing()->mutable_partner()->clear_kind();
  cases[6].req.mutable_pairing()->clear_organization();
  for (const Case& c : cases) {
    auto s = service_->CreatePairing(admin_, c.req).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field << ": " << s;
    EXPECT_EQ(rpc::Reason(s), c.reason) << c.field;
    EXPECT_EQ(Field(s), c.field);
  }
  EXPECT_EQ(Snapshot(), before);

  // Ending: not before the start, then current through its last day, then ended.
  auto open = service_->ListPairings(admin_, pb::ListPairingsRequest());
  ASSERT_TRUE(open.ok());
  const pb::Pairing first = open->pairings(0);
  pb::EndPairingRequest end;
  end.set_name(first.name());
  *end.mutable_end_date() = D(2023, 2, 28);
  auto s = service_->EndPairing(admin_, end).status();
  EXPECT_EQ(rpc::Reason(s), "END_BEFORE_START");
  EXPECT_EQ(Field(s), "end_date");
  end.clear_end_date();
  EXPECT_EQ(Field(service_->EndPairing(admin_, end).status()), "end_date");
  EXPECT_EQ(Snapshot(), before);
  *end.mutable_end_date() = D(2024, 2, 29);
  end.set_etag("v1");
  auto ended = service_->EndPairing(admin_, end);
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(ended->etag(), "v2");
  EXPECT_EQ(ended->end_date().day(), 29);
  EXPECT_EQ(ListPairings(false), (std::vector<std::string>{"开放", "今天结束"}));
  now_us_ = NoonInShanghai(2024, 3, 1);
  EXPECT_TRUE(ListPairings(false).empty());
  end.clear_etag();
  const std::string ended_once = Snapshot();
  s = service_->EndPairing(admin_, end).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(rpc::Reason(s), "ALREADY_ENDED");
  EXPECT_EQ(Snapshot(), ended_once);
}

TEST_P(CommunityServiceTest, StationsListCurrentOrAllAndPage) {
  // Just before midnight in Shanghai on 31 December is still that day.
  constexpr int64_t kMinuteUs = int64_t{60} * 1'000'000;
  now_us_ = NoonInShanghai(2023, 12, 31) + 11 * 60 * kMinuteUs + 59 * kMinuteUs;
  ASSERT_TRUE(service_->CreateStation(admin_, Station(a1_, "紫薇社区", D(2023, 1, 1))).ok());
  ASSERT_TRUE(
      service_->CreateStation(admin_, Station(a2_, "城南社区", D(2022, 1, 1), D(2023, 12, 31)))
          .ok());
  ASSERT_TRUE(
      service_->CreateStation(admin_, Station(b1_, "城北社区", D(2022, 1, 1), D(2023, 12, 30)))
          .ok());
  EXPECT_EQ(ListStations(false), (std::vector<std::string>{"紫薇社区", "城南社区"}));
  EXPECT_EQ(ListStations(true), (std::vector<std::string>{"紫薇社区", "城南社区", "城北社区"}));
  now_us_ += kMinuteUs;  // 2024-01-01 00:00 in Shanghai
  EXPECT_EQ(ListStations(false), std::vector<std::string>{"紫薇社区"});

  const std::string before = Snapshot();
  auto s = service_->CreateStation(admin_, Station(a1_, "", D(2024, 1, 1))).status();
  EXPECT_EQ(Field(s), "station.residential_community");
  s = service_->CreateStation(admin_, Station(a1_, "社区", D(2024, 1, 2), D(2024, 1, 1))).status();
  EXPECT_EQ(rpc::Reason(s), "END_BEFORE_START");
  EXPECT_EQ(Field(s), "station.end_date");
  EXPECT_EQ(Snapshot(), before);

  // Pages of one, with tokens bound to the filter.
  pb::ListStationsRequest page;
  page.set_include_ended(true);
  page.set_page_size(1);
  std::vector<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    auto list = service_->ListStations(admin_, page);
    ASSERT_TRUE(list.ok()) << list.status();
    for (const pb::Station& st : list->stations()) {
      seen.push_back(st.residential_community());
    }
    if (list->next_page_token().empty()) {
      break;
    }
    page.set_page_token(list->next_page_token());
    pb::ListStationsRequest other = page;
    other.set_include_ended(false);
    EXPECT_EQ(Field(service_->ListStations(admin_, other).status()), "page_token");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"紫薇社区", "城南社区", "城北社区"}));

  auto stations = service_->ListStations(admin_, pb::ListStationsRequest());
  ASSERT_TRUE(stations.ok());
  pb::EndStationRequest end;
  end.set_name(stations->stations(0).name());
  *end.mutable_end_date() = D(2024, 1, 1);
  auto ended = service_->EndStation(admin_, end);
  ASSERT_TRUE(ended.ok()) << ended.status();
  pb::GetStationRequest get;
  get.set_name(ended->name());
  EXPECT_EQ(service_->GetStation(admin_, get)->end_date().year(), 2024);
}

TEST_P(CommunityServiceTest, CreatesAreIdempotentByRequestId) {
  auto req = Community("共同体", a1_, {a2_});
  req.set_request_id("community-req-0001");
  auto first = service_->Create(admin_, req);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = service_->Create(admin_, req);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name(), first->name());
  req.mutable_community()->set_display_name("别的共同体");
  auto reused = service_->Create(admin_, req).status();
  EXPECT_EQ(reused.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(rpc::Reason(reused), "REQUEST_ID_REUSED");

  auto pairing = Pairing(b1_, "企业", D(2024, 2, 29));
  pairing.set_request_id("pairing-req-00001");
  auto p1 = service_->CreatePairing(admin_, pairing);
  auto p2 = service_->CreatePairing(admin_, pairing);
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_EQ(p1->name(), p2->name());
  auto station = Station(b1_, "社区", D(2024, 2, 29));
  station.set_request_id("pairing-req-00001");  // request ids are per collection
  auto s1 = service_->CreateStation(admin_, station);
  auto s2 = service_->CreateStation(admin_, station);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(s1->name(), s2->name());
  station.mutable_station()->set_residential_community("别的社区");
  EXPECT_EQ(rpc::Reason(service_->CreateStation(admin_, station).status()), "REQUEST_ID_REUSED");
  EXPECT_EQ(ListStations(true).size(), 1u);
  EXPECT_EQ(ListPairings(true).size(), 1u);
  EXPECT_EQ(ListCommunities(admin_).size(), 1u);
  station.set_request_id("not a uuid!");
  EXPECT_EQ(Field(service_->CreateStation(admin_, station).status()), "request_id");
}

TEST_P(CommunityServiceTest, ServedOverGrpcForTheCallerTheGatewayVouchesFor) {
  grpc::Service* services[] = {service_.get()};
  auto running = runtime::StartGrpcServer({}, services);
  ASSERT_TRUE(running.ok()) << running.status();
  auto stub =
      pb::CommunityService::NewStub(rpc::MakeChannel("127.0.0.1:" + std::to_string(running->port)));
  auto req = Community("共同体", a1_, {a2_});
  pb::Community made;
  {
    auto ctx = rpc::NewClientContext(std::chrono::seconds(10), "r-1");
    auth_->Attach(*ctx, admin_);
    grpc::Status s = stub->CreateCommunity(ctx.get(), req, &made);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(made.scope_organization(), ga_.name());
  {
    auto ctx = rpc::NewClientContext(std::chrono::seconds(10), "r-2");  // no principal
    pb::GetCommunityRequest get;
    get.set_name(made.name());
    pb::Community got;
    EXPECT_EQ(stub->GetCommunity(ctx.get(), get, &got).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  running->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

INSTANTIATE_TEST_SUITE_P(Databases, CommunityServiceTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
