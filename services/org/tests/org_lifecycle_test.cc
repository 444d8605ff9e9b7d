// Moves, dissolutions and merges (Step 4) on MariaDB and SQLite, through the services' own APIs:
// subtree paths rewritten in one transaction, nesting rules re-checked, events in the outbox,
// refusals that change nothing, scope on both ends of a move; a dissolution or merge ending what
// hangs on the organization (pairings, stations, officers, its term, its community place), and
// a deletion refused while records would be lost.
#include <functional>
#include <map>
#include <optional>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/audit/audit_log.h"
#include "common/cache/cache.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "dangjian/org/v1/events.pb.h"
#include "gtest/gtest.h"
#include "services/org/src/org_server.h"
#include "services/org/tests/org_test_db.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

class OrgLifecycleTest : public OrgDatabaseTest {
 protected:
  void SetUp() override {
    OrgDatabaseTest::SetUp();
    cache_ = cache::NewMemoryCache();
    std::random_device rd;
    ids_ = std::make_unique<ids::IdGenerator>(static_cast<int>(rd() % 1024));
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(std::string(32, 's')));
    OrgServiceOptions options;
    options.member_count = [this](std::string_view name) -> absl::StatusOr<int64_t> {
      auto it = members_.find(std::string(name));
      return it == members_.end() ? 0 : it->second;
    };
    // A fixed clock: "today" is 2026-06-15 in Shanghai.
    options.now_us = [] { return ShanghaiMidnightUs(2026, 6, 15) + int64_t{12} * 3600'000'000; };
    server_ = std::make_unique<OrgServer>(*pool_, cache_.get(), *ids_, *auth_, std::string(32, 'k'),
                                          options);
    service_ = &server_->organizations();
    // 工委 -> 党委 A -> 总支 a1 -> 支部 b1 -> 小组 g1, 支部 b2; 党委 B -> 总支 c1 -> 支部 d1
    root_ = Make("", pb::WORK_COMMITTEE, "工委");
    a_ = Make(root_.name(), pb::PARTY_COMMITTEE, "党委A");
    a1_ = Make(a_.name(), pb::GENERAL_BRANCH, "总支a1");
    b1_ = Make(a1_.name(), pb::BRANCH, "支部b1");
    g1_ = Make(b1_.name(), pb::PARTY_GROUP, "小组g1");
    b2_ = Make(a1_.name(), pb::BRANCH, "支部b2");
    b_ = Make(root_.name(), pb::PARTY_COMMITTEE, "党委B");
    c1_ = Make(b_.name(), pb::GENERAL_BRANCH, "总支c1");
    d1_ = Make(c1_.name(), pb::BRANCH, "支部d1");
  }

  pb::Organization Make(const std::string& parent, pb::OrganizationKind kind,
                        const std::string& name) {
    return MakeOrganization(*service_, admin_, parent, kind, name);
  }
  pb::Organization Get(const pb::Organization& o) {
    pb::GetOrganizationRequest req;
    req.set_name(o.name());
    auto got = service_->Get(admin_, req);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : pb::Organization();
  }
  absl::StatusOr<pb::Organization> Move(const pb::Organization& o, const pb::Organization& to,
                                        const auth::Principal* who = nullptr) {
    pb::MoveOrganizationRequest req;
    req.set_name(o.name());
    req.set_new_parent(to.name());
    return service_->Move(who != nullptr ? *who : admin_, req);
  }
  absl::StatusOr<pb::Organization> Dissolve(const pb::Organization& o, const std::string& why,
                                            int y = 0, int m = 0, int d = 0) {
    pb::DissolveOrganizationRequest req;
    req.set_name(o.name());
    req.set_reason(why);
    if (y != 0) {
      req.mutable_dissolved_date()->set_year(y);
      req.mutable_dissolved_date()->set_month(m);
      req.mutable_dissolved_date()->set_day(d);
    }
    return service_->Dissolve(admin_, req);
  }
  absl::StatusOr<pb::Organization> Merge(const pb::Organization& o, const pb::Organization& into) {
    pb::MergeOrganizationRequest req;
    req.set_name(o.name());
    req.set_into(into.name());
    return service_->Merge(admin_, req);
  }
  // Every organization's path, parent, status and version, plus the outbox size: what a refused
  // call must leave exactly as it was.
  std::string Snapshot() {
    auto lease = pool_->Acquire();
    auto rows = (*lease)->Exec(
        "SELECT id, path, parent_id, status, version FROM organizations ORDER BY id", {});
    std::string out;
    for (const db::Row& r : rows->rows) {
      absl::StrAppend(&out, r.Int(0), " ", r.Text(1), " ", r.IsNull(2) ? 0 : r.Int(2), " ",
                      r.Text(3), " ", r.Int(4), "\n");
    }
    auto outbox = (*lease)->Exec("SELECT COUNT(*) FROM outbox", {});
    absl::StrAppend(&out, "outbox ", outbox->rows[0].Int(0));
    return out;
  }
  std::vector<std::pair<std::string, std::string>> Events() {  // (type, payload), in order
    auto lease = pool_->Acquire();
    auto rows = (*lease)->Exec("SELECT type, payload FROM outbox ORDER BY id", {});
    std::vector<std::pair<std::string, std::string>> out;
    for (const db::Row& r : rows->rows) {
      std::string payload;
      EXPECT_TRUE(absl::Base64Unescape(r.Text(1), &payload));
      out.emplace_back(r.Text(0), payload);
    }
    return out;
  }
  static std::string Field(const absl::Status& s) {
    auto v = rpc::Violations(s);
    return v.empty() ? "" : v[0].field;
  }

  // --- what hangs on an organization, set up through the services' own APIs ---
  static google::type::Date D(int y, int m, int d) {
    google::type::Date out;
    out.set_year(y);
    out.set_month(m);
    out.set_day(d);
    return out;
  }
  // The numeric id at the end of a resource name ("organizations/5/officers/9" -> 9).
  static int64_t IdOf(const std::string& name) {
    int64_t id = 0;
    EXPECT_TRUE(absl::SimpleAtoi(name.substr(name.rfind('/') + 1), &id)) << name;
    return id;
  }
  std::string Pair(const pb::Organization& o, const std::string& partner, google::type::Date start,
                   std::optional<google::type::Date> end = {}) {
    pb::CreatePairingRequest req;
    req.mutable_pairing()->set_organization(o.name());
    req.mutable_pairing()->mutable_partner()->set_display_name(partner);
    req.mutable_pairing()->mutable_partner()->set_kind(pb::ENTERPRISE);
    *req.mutable_pairing()->mutable_start_date() = start;
    if (end.has_value()) {
      *req.mutable_pairing()->mutable_end_date() = *end;
    }
    auto made = server_->communities().CreatePairing(admin_, req);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->name() : "";
  }
  std::string Station(const pb::Organization& o, const std::string& where,
                      google::type::Date start) {
    pb::CreateStationRequest req;
    req.mutable_station()->set_organization(o.name());
    req.mutable_station()->set_residential_community(where);
    *req.mutable_station()->mutable_start_date() = start;
    auto made = server_->communities().CreateStation(admin_, req);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->name() : "";
  }
  std::string Appoint(const pb::Organization& o, pb::OfficerRole role, const std::string& member,
                      google::type::Date start, std::optional<google::type::Date> end = {}) {
    pb::CreateOfficerRequest req;
    req.set_parent(o.name());
    req.mutable_officer()->set_member(member);
    req.mutable_officer()->set_role(role);
    *req.mutable_officer()->mutable_start_date() = start;
    if (end.has_value()) {
      *req.mutable_officer()->mutable_end_date() = *end;
    }
    auto made = server_->officers().Create(admin_, req);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->name() : "";
  }
  std::string Term(const pb::Organization& o, google::type::Date start) {
    pb::CreateTermRequest req;
    req.set_parent(o.name());
    *req.mutable_term()->mutable_start_date() = start;
    auto made = server_->officers().CreateTerm(admin_, req);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->name() : "";
  }
  pb::Community Community(const std::string& name, const pb::Organization& lead,
                          const std::vector<const pb::Organization*>& members) {
    pb::CreateCommunityRequest req;
    req.mutable_community()->set_display_name(name);
    req.mutable_community()->set_lead_organization(lead.name());
    for (const pb::Organization* m : members) {
      req.mutable_community()->add_member_organizations(m->name());
    }
    auto made = server_->communities().Create(admin_, req);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? *made : pb::Community();
  }
  pb::Community GetCommunity(const pb::Community& c) {
    pb::GetCommunityRequest req;
    req.set_name(c.name());
    auto got = server_->communities().Get(admin_, req);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : pb::Community();
  }
  // "end_date vN" of row `name` in `table` ("open" for no end date); terms have no version.
  std::string EndOf(const std::string& table, const std::string& name) {
    auto lease = pool_->Acquire();
    auto rows = (*lease)->Exec(absl::StrCat("SELECT end_date, ", table == "terms" ? "0" : "version",
                                            " FROM ", table, " WHERE id = ?"),
                               {IdOf(name)});
    EXPECT_TRUE(rows.ok() && rows->rows.size() == 1) << table << " " << name;
    if (!rows.ok() || rows->rows.empty()) {
      return "";
    }
    const db::Row& r = rows->rows[0];
    return absl::StrCat(r.IsNull(0) ? "open" : r.Text(0),
                        table == "terms" ? "" : absl::StrCat(" v", r.Int(1)));
  }
  // Snapshot() plus every row of what hangs on organizations: what a refused dissolution, merge
  // or deletion must leave exactly as it was.
  std::string RecordsSnapshot() {
    auto lease = pool_->Acquire();
    std::string out = Snapshot();
    for (const char* sql :
         {"SELECT id, version, update_time_us FROM communities ORDER BY id",
          "SELECT community_id, organization_id, role, position FROM community_organizations "
          "ORDER BY community_id, position",
          "SELECT id, end_date, version FROM pairings ORDER BY id",
          "SELECT id, end_date, version FROM stations ORDER BY id",
          "SELECT id, end_date, version FROM officers ORDER BY id",
          "SELECT id, end_date, shift_days FROM terms ORDER BY id"}) {
      auto rows = (*lease)->Exec(sql, {});
      EXPECT_TRUE(rows.ok()) << sql;
      for (const db::Row& r : rows.ok() ? rows->rows : std::vector<db::Row>{}) {
        for (size_t i = 0; i < r.values.size(); ++i) {
          absl::StrAppend(&out, i == 0 ? "\n" : " ", r.IsNull(i) ? "NULL" : r.Text(i));
        }
      }
    }
    return out;
  }
  // The detail of the last successful audit entry for `action` on `resource`.
  std::string AuditDetail(const std::string& action, const std::string& resource) {
    audit::AuditLog log(std::string(32, 'k'));
    auto entries = log.List(*pool_, 0, 0, 500);
    EXPECT_TRUE(entries.ok()) << entries.status();
    std::string out = "(none)";
    int64_t seq = -1;
    for (const audit::Entry& e : entries.ok() ? *entries : std::vector<audit::Entry>{}) {
      if (e.action == action && e.resource == resource && e.outcome == "OK" && e.seq > seq) {
        seq = e.seq;
        out = e.detail;
      }
    }
    return out;
  }
  int64_t PlacedPairings(const pb::Organization& o) {
    pb::GetOrganizationStatisticsRequest req;
    req.set_name(o.name());
    auto stats = server_->statistics().Get(admin_, req);
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.ok() ? stats->pairings() * 1000 + stats->stations() : -1;
  }

  auth::Principal admin_ = auth::SystemPrincipal();
  std::map<std::string, int64_t> members_;
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ids::IdGenerator> ids_;
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<OrgServer> server_;
  OrgService* service_ = nullptr;
  pb::Organization root_, a_, a1_, b1_, g1_, b2_, b_, c1_, d1_;
};

TEST_P(OrgLifecycleTest, MoveRewritesTheWholeSubtreeAndPublishesOneEvent) {
  (void)Get(g1_);  // cached with its old path: the move must invalidate it
  const size_t events_before = Events().size();
  auto moved = Move(a1_, b_);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->parent(), b_.name());
  EXPECT_EQ(moved->path(),
            absl::StrCat(b_.path(), rpc::ParseName(a1_.name(), "organizations", "n").value(), "/"));
  EXPECT_EQ(moved->depth(), 2);
  EXPECT_NE(moved->etag(), a1_.etag());
  for (const pb::Organization* o : {&b1_, &g1_, &b2_}) {
    pb::Organization now = Get(*o);
    EXPECT_TRUE(absl::StartsWith(now.path(), moved->path())) << now.path();
    EXPECT_EQ(now.depth(), o->depth()) << "same depth: a1 stays at depth 2";
    EXPECT_NE(now.etag(), o->etag()) << "its path changed, so its etag did";
  }
  EXPECT_EQ(Get(g1_).path(),
            absl::StrCat(Get(b1_).path(), absl::StripPrefix(g1_.name(), "organizations/"), "/"));
  auto events = Events();
  ASSERT_EQ(events.size(), events_before + 1);
  EXPECT_EQ(events.back().first, "dangjian.org.v1.OrganizationMoved");
  pb::OrganizationMoved event;
  ASSERT_TRUE(event.ParseFromString(events.back().second));
  EXPECT_EQ(event.organization(), a1_.name());
  EXPECT_EQ(event.old_parent(), a_.name());
  EXPECT_EQ(event.new_parent(), b_.name());
  EXPECT_EQ(event.old_path(), a1_.path());
  EXPECT_EQ(event.new_path(), moved->path());
  EXPECT_EQ(event.subtree_size(), 4);

  // Deeper: a branch moves up under a party committee; its group's depth follows.
  auto up = Move(b1_, a_);
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->depth(), 2);
  EXPECT_EQ(Get(g1_).depth(), 3);
}

TEST_P(OrgLifecycleTest, RefusedMovesChangeNothing) {
  const std::string before = Snapshot();
  struct Case {
    const pb::Organization* what;
    const pb::Organization* to;
    absl::StatusCode code;
    std::string field;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {&a1_, &b1_, absl::StatusCode::kInvalidArgument, "new_parent", "MOVE_CYCLE"},
      {&a1_, &a1_, absl::StatusCode::kInvalidArgument, "new_parent", "MOVE_CYCLE"},
      {&g1_, &c1_, absl::StatusCode::kInvalidArgument, "new_parent", "ILLEGAL_NESTING"},
      {&b1_, &g1_, absl::StatusCode::kInvalidArgument, "new_parent", "MOVE_CYCLE"},
      {&b2_, &g1_, absl::StatusCode::kInvalidArgument, "new_parent", "ILLEGAL_NESTING"},
      {&a_, &b_, absl::StatusCode::kInvalidArgument, "new_parent", "ILLEGAL_NESTING"},
      {&root_, &a_, absl::StatusCode::kInvalidArgument, "name", "ILLEGAL_NESTING"},
  };
  for (const Case& c : cases) {
    auto s = Move(*c.what, *c.to).status();
    EXPECT_EQ(s.code(), c.code) << c.what->display_name() << " -> " << c.to->display_name() << ": "
                                << s;
    EXPECT_EQ(Field(s), c.field) << s;
    EXPECT_EQ(rpc::Reason(s), c.reason) << s;
  }
  pb::Organization ghost = b_;
  ghost.set_name("organizations/999");
  EXPECT_EQ(Move(a1_, ghost).status().code(), absl::StatusCode::kNotFound);
  pb::MoveOrganizationRequest no_parent;
  no_parent.set_name(a1_.name());
  EXPECT_EQ(Field(service_->Move(admin_, no_parent).status()), "new_parent");
  pb::MoveOrganizationRequest stale;
  stale.set_name(a1_.name());
  stale.set_new_parent(b_.name());
  stale.set_etag("v99");
  EXPECT_EQ(service_->Move(admin_, stale).status().code(), absl::StatusCode::kAborted);
  // A sibling with the same name under the new parent.
  pb::Organization twin = Make(c1_.name(), pb::BRANCH, "支部b2");
  const std::string with_twin = Snapshot();
  auto s = Move(b2_, c1_).status();
  EXPECT_EQ(rpc::Reason(s), "DISPLAY_NAME_TAKEN") << s;
  EXPECT_EQ(Snapshot(), with_twin);
  EXPECT_NE(before, with_twin);  // (the twin itself was written)
}

TEST_P(OrgLifecycleTest, AMoveNeedsScopeAtBothEnds) {
  const auth::Principal a_admin{.subject = "accounts/5",
                                .roles = {"org_admin"},
                                .scope_org = *rpc::ParseName(a_.name(), "organizations", "n")};
  const std::string before = Snapshot();
  // Out of scope at the destination: answered as if it did not exist.
  auto out = Move(a1_, b_, &a_admin);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kNotFound) << out.status();
  EXPECT_EQ(Field(out.status()), "new_parent");
  // Out of scope at the source: the organization itself does not exist for them.
  EXPECT_EQ(Move(c1_, a_, &a_admin).status().code(), absl::StatusCode::kNotFound);
  // A secretary may create but not move.
  const auth::Principal secretary{
      .subject = "accounts/6", .roles = {"secretary"}, .scope_org = a_admin.scope_org};
  EXPECT_EQ(Move(b2_, a_, &secretary).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Snapshot(), before);
  // Within their subtree it works.
  EXPECT_TRUE(Move(b2_, a_, &a_admin).ok());
}

TEST_P(OrgLifecycleTest, DissolvedOrganizationsStayReadableAndStopChanging) {
  const std::string before = Snapshot();
  auto busy = Dissolve(b1_, "合并精简");
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(rpc::Reason(busy.status()), "HAS_ACTIVE_CHILDREN");
  EXPECT_EQ(Field(Dissolve(g1_, "  ").status()), "reason");
  EXPECT_TRUE(
      absl::StartsWith(Field(Dissolve(g1_, "撤销", 2027, 2, 29).status()), "dissolved_date"));
  EXPECT_EQ(Field(Dissolve(g1_, "撤销", 2019, 6, 30).status()), "dissolved_date")
      << "before it was established";
  EXPECT_EQ(Field(Dissolve(root_, "撤销").status()), "name");
  members_[g1_.name()] = 3;
  auto with_members = Dissolve(g1_, "撤销");
  EXPECT_EQ(rpc::Reason(with_members.status()), "HAS_MEMBERS");
  EXPECT_EQ(Snapshot(), before);

  members_.clear();
  auto gone = Dissolve(g1_, "小组撤销", 2028, 2, 29);
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(gone->status(), pb::DISSOLVED);
  EXPECT_EQ(gone->dissolved_date().day(), 29);
  EXPECT_EQ(gone->dissolution_reason(), "小组撤销");
  pb::Organization read = Get(g1_);
  EXPECT_EQ(read.status(), pb::DISSOLVED) << "readable, with its history";
  EXPECT_EQ(Events().back().first, "dangjian.org.v1.OrganizationDissolved");

  // No more changes, children or moves; its parent may now be dissolved.
  pb::UpdateOrganizationRequest rename;
  rename.mutable_organization()->set_name(g1_.name());
  rename.mutable_organization()->set_display_name("新名");
  EXPECT_EQ(rpc::Reason(service_->Update(admin_, rename).status()), "ORGANIZATION_DISSOLVED");
  EXPECT_EQ(rpc::Reason(Dissolve(g1_, "again").status()), "ORGANIZATION_DISSOLVED");
  EXPECT_EQ(rpc::Reason(Move(g1_, b2_).status()), "ORGANIZATION_DISSOLVED");
  const pb::Organization dissolved_b1 = *Dissolve(b1_, "支部撤销");
  EXPECT_EQ(rpc::Reason(Move(b2_, dissolved_b1).status()), "PARENT_NOT_ACTIVE");
  pb::CreateOrganizationRequest child;
  child.mutable_organization()->set_parent(b1_.name());
  child.mutable_organization()->set_kind(pb::PARTY_GROUP);
  child.mutable_organization()->set_display_name("新小组");
  EXPECT_EQ(rpc::Reason(service_->Create(admin_, child).status()), "PARENT_NOT_ACTIVE");
}

TEST_P(OrgLifecycleTest, MergeMovesTheChildrenAndDissolvesTheRest) {
  // a1 (b1 with g1, b2) merges into c1 (d1).
  auto merged = Merge(a1_, c1_);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->status(), pb::DISSOLVED);
  EXPECT_EQ(merged->merged_into(), c1_.name());
  EXPECT_EQ(Get(b1_).parent(), c1_.name());
  EXPECT_EQ(Get(b2_).parent(), c1_.name());
  EXPECT_TRUE(absl::StartsWith(Get(g1_).path(), c1_.path()));
  int moved_events = 0;
  for (const auto& [type, payload] : Events()) {
    moved_events += type == "dangjian.org.v1.OrganizationMoved" ? 1 : 0;
  }
  EXPECT_EQ(moved_events, 2);
  EXPECT_EQ(Events().back().first, "dangjian.org.v1.OrganizationDissolved");
}

TEST_P(OrgLifecycleTest, AMergeThatCannotTakeEveryChildIsRefusedWhole) {
  Make(c1_.name(), pb::BRANCH, "支部b2");  // c1 already has a branch of that name
  const std::string before = Snapshot();
  auto s = Merge(a1_, c1_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(Field(s), "into");
  EXPECT_EQ(Snapshot(), before) << "b1 was movable, but nothing moved";
  EXPECT_EQ(Field(Merge(a1_, a1_).status()), "into");
  EXPECT_EQ(rpc::Reason(Merge(a_, b1_).status()), "MOVE_CYCLE");
  members_[a1_.name()] = 1;
  EXPECT_EQ(rpc::Reason(Merge(a1_, b_).status()), "HAS_MEMBERS");
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(OrgLifecycleTest, CreatesAndUpdatesArePublishedWithTheirWrite) {
  auto events = Events();
  ASSERT_EQ(events.size(), 9u);  // the nine organizations of SetUp
  pb::OrganizationCreated created;
  ASSERT_TRUE(created.ParseFromString(events[0].second));
  EXPECT_EQ(events[0].first, "dangjian.org.v1.OrganizationCreated");
  EXPECT_EQ(created.organization().name(), root_.name());
  pb::UpdateOrganizationRequest rename;
  rename.mutable_organization()->set_name(b2_.name());
  rename.mutable_organization()->set_display_name("第二支部");
  ASSERT_TRUE(service_->Update(admin_, rename).ok());
  EXPECT_EQ(Events().back().first, "dangjian.org.v1.OrganizationUpdated");
  rename.mutable_organization()->set_display_name("支部b1");  // taken: refused, nothing published
  EXPECT_FALSE(service_->Update(admin_, rename).ok());
  EXPECT_EQ(Events().size(), 10u);
}

TEST_P(OrgLifecycleTest, DissolvingEndsWhatHangsOnTheOrganizationOnItsDate) {
  // b2 leads nothing but is the first of two members of a community led by d1.
  const pb::Community community = Community("汇龙共同体", d1_, {&b2_, &b1_});
  const std::string open = Pair(b2_, "开放结对", D(2023, 1, 1));
  const std::string later =
      Pair(b2_, "晚到结对", D(2024, 3, 1));  // starts after: ends on its start
  const std::string through = Pair(b2_, "跨期结对", D(2022, 5, 1), D(2025, 12, 31));
  const std::string done = Pair(b2_, "已结对", D(2022, 1, 1), D(2023, 12, 31));
  const std::string that_day = Pair(b2_, "当日止", D(2022, 1, 1), D(2024, 2, 29));
  const std::string other = Pair(b1_, "兄弟结对", D(2023, 1, 1));
  const std::string station = Station(b2_, "紫薇社区", D(2023, 6, 1));
  const std::string secretary = Appoint(b2_, pb::SECRETARY, "members/1", D(2023, 1, 1));
  const std::string member = Appoint(b2_, pb::COMMITTEE_MEMBER, "members/2", D(2024, 3, 1));
  const std::string former =
      Appoint(b2_, pb::DEPUTY_SECRETARY, "members/3", D(2021, 1, 1), D(2022, 12, 31));
  const std::string term = Term(b2_, D(2023, 1, 1));

  // 29 February: the last day of the month in a leap year.
  auto gone = Dissolve(b2_, "机构改革", 2024, 2, 29);
  ASSERT_TRUE(gone.ok()) << gone.status();

  EXPECT_EQ(EndOf("pairings", open), "2024-02-29 v2");
  EXPECT_EQ(EndOf("pairings", later), "2024-03-01 v2");
  EXPECT_EQ(EndOf("pairings", through), "2024-02-29 v2");
  EXPECT_EQ(EndOf("pairings", done), "2023-12-31 v1") << "ended before: left alone";
  EXPECT_EQ(EndOf("pairings", that_day), "2024-02-29 v1") << "not in force after the date";
  EXPECT_EQ(EndOf("pairings", other), "open v1") << "another organization's";
  EXPECT_EQ(EndOf("stations", station), "2024-02-29 v2");
  EXPECT_EQ(EndOf("officers", secretary), "2024-02-29 v2");
  EXPECT_EQ(EndOf("officers", member), "2024-03-01 v2");
  EXPECT_EQ(EndOf("officers", former), "2022-12-31 v1");
  EXPECT_EQ(EndOf("terms", term), "2024-02-29");

  const pb::Community now = GetCommunity(community);
  EXPECT_EQ(now.lead_organization(), d1_.name());
  ASSERT_EQ(now.member_organizations_size(), 1);
  EXPECT_EQ(now.member_organizations(0), b1_.name());
  EXPECT_NE(now.etag(), community.etag());
  {
    // The remaining member moved up: members stay at positions 1..N.
    auto lease = pool_->Acquire();
    auto rows = (*lease)->Exec(
        "SELECT organization_id, role, position FROM community_organizations "
        "WHERE community_id = ? ORDER BY position",
        {IdOf(community.name())});
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->rows.size(), 2u);
    EXPECT_EQ(rows->rows[1].Int(0), IdOf(b1_.name()));
    EXPECT_EQ(rows->rows[1].Int(2), 1);
  }
  EXPECT_EQ(
      AuditDetail("organizations.dissolve", b2_.name()),
      absl::StrCat("ended 3 pairings, 1 station, 2 officers, 1 term; left ", community.name()));

  // With nothing hanging on it, the detail still says so.
  ASSERT_TRUE(Dissolve(g1_, "小组撤销", 2024, 12, 31).ok());
  EXPECT_EQ(AuditDetail("organizations.dissolve", g1_.name()),
            "ended 0 pairings, 0 stations, 0 officers, 0 terms");
}

TEST_P(OrgLifecycleTest, ACommunityLeadIsNeitherDissolvedNorMergedAway) {
  const pb::Community community = Community("城南共同体", b2_, {&d1_});
  Pair(b2_, "结对企业", D(2023, 1, 1));
  Appoint(b2_, pb::SECRETARY, "members/1", D(2023, 1, 1));
  Term(b2_, D(2023, 1, 1));
  const std::string before = RecordsSnapshot();

  for (const absl::Status& s :
       {Dissolve(b2_, "机构改革", 2024, 2, 29).status(), Merge(b2_, a1_).status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_EQ(rpc::Reason(s), "LEADS_A_COMMUNITY") << s;
    EXPECT_EQ(Field(s), "name") << s;
    EXPECT_TRUE(absl::StrContains(s.message(), community.name())) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "another lead first")) << s;
  }
  EXPECT_EQ(RecordsSnapshot(), before);
  EXPECT_EQ(Get(b2_).status(), pb::ACTIVE);
}

TEST_P(OrgLifecycleTest, AMergeEndsWhatHangsOnTheMergedOrganizationOnly) {
  // a1 (with b1 and b2 below) is a member of d1's community and merges into c1.
  const pb::Community community = Community("沿江共同体", d1_, {&a1_});
  const std::string own = Pair(a1_, "总支结对", D(2020, 1, 1));
  const std::string own_station = Station(a1_, "城东社区", D(2020, 1, 1));
  const std::string secretary = Appoint(a1_, pb::SECRETARY, "members/1", D(2020, 1, 1));
  const std::string term = Term(a1_, D(2022, 7, 1));
  const std::string childs = Pair(b1_, "支部结对", D(2020, 1, 1));
  const std::string child_secretary = Appoint(b1_, pb::SECRETARY, "members/2", D(2020, 1, 1));
  const std::string child_term = Term(b1_, D(2022, 7, 1));

  pb::MergeOrganizationRequest req;
  req.set_name(a1_.name());
  req.set_into(c1_.name());
  *req.mutable_merged_date() = D(2025, 12, 31);  // a year end
  auto merged = service_->Merge(admin_, req);
  ASSERT_TRUE(merged.ok()) << merged.status();

  EXPECT_EQ(EndOf("pairings", own), "2025-12-31 v2");
  EXPECT_EQ(EndOf("stations", own_station), "2025-12-31 v2");
  EXPECT_EQ(EndOf("officers", secretary), "2025-12-31 v2");
  EXPECT_EQ(EndOf("terms", term), "2025-12-31");
  EXPECT_EQ(EndOf("pairings", childs), "open v1") << "a moved child keeps its own";
  EXPECT_EQ(EndOf("officers", child_secretary), "open v1");
  EXPECT_EQ(EndOf("terms", child_term), "open");
  const pb::Community now = GetCommunity(community);
  EXPECT_EQ(now.member_organizations_size(), 0);
  EXPECT_NE(now.etag(), community.etag());
  EXPECT_EQ(AuditDetail("organizations.merge", a1_.name()),
            absl::StrCat("into ", c1_.name(),
                         "; 3 organizations moved; ended 1 pairing, "
                         "1 station, 1 officer, 1 term; left ",
                         community.name()));
}

TEST_P(OrgLifecycleTest, StatisticsCountOnlyActiveOrganizationsPairingsAndStations) {
  Pair(b2_, "结对企业", D(2025, 1, 1));
  Station(b2_, "紫薇社区", D(2025, 1, 1));
  Pair(b1_, "兄弟结对", D(2025, 1, 1));
  EXPECT_EQ(PlacedPairings(root_), 2001);  // 2 pairings, 1 station
  // Dissolved as of the year end, after "today" (2026-06-15): its ties run until then, yet a
  // dissolved organization no longer counts.
  ASSERT_TRUE(Dissolve(b2_, "机构改革", 2026, 12, 31).ok());
  EXPECT_EQ(PlacedPairings(root_), 1000);
  EXPECT_EQ(PlacedPairings(b2_), 0);
}

TEST_P(OrgLifecycleTest, ADeletionRefusedForRecordsNamesThem) {
  const pb::Organization e1 = Make(c1_.name(), pb::BRANCH, "支部e1");
  Appoint(e1, pb::SECRETARY, "members/1", D(2024, 1, 1));
  Appoint(e1, pb::DEPUTY_SECRETARY, "members/2", D(2024, 1, 1));
  Pair(e1, "结对企业", D(2024, 1, 1));
  const pb::Organization e2 = Make(c1_.name(), pb::BRANCH, "支部e2");
  Term(e2, D(2024, 1, 1));
  Station(e2, "紫薇社区", D(2024, 1, 1));
  const pb::Community community = Community("江海共同体", d1_, {&e2});
  const std::string before = RecordsSnapshot();

  auto remove = [&](const pb::Organization& o) {
    pb::DeleteOrganizationRequest req;
    req.set_name(o.name());
    return service_->Delete(admin_, req);
  };
  struct Case {
    const pb::Organization* what;
    std::string says;
  };
  const std::vector<Case> cases = {
      {&e1, "has 2 officers and 1 pairing; dissolve it instead to keep its history"},
      {&e2, absl::StrCat("has 1 term, 1 station and a place in ", community.name(),
                         "; dissolve it instead")},
  };
  for (const Case& c : cases) {
    const absl::Status s = remove(*c.what);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_EQ(rpc::Reason(s), "HAS_RECORDS") << s;
    EXPECT_EQ(Field(s), "name") << s;
    EXPECT_TRUE(absl::StrContains(s.message(), c.says)) << s;
  }
  EXPECT_EQ(RecordsSnapshot(), before);

  // Dissolved, it keeps them as history: still refused.
  ASSERT_TRUE(Dissolve(e1, "机构改革", 2025, 1, 1).ok());
  const absl::Status s = remove(e1);
  EXPECT_EQ(rpc::Reason(s), "HAS_RECORDS") << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "keeps them as history")) << s;
  // Nothing on record: deleted.
  const pb::Organization e3 = Make(c1_.name(), pb::BRANCH, "支部e3");
  EXPECT_TRUE(remove(e3).ok());
}

TEST_P(OrgLifecycleTest, AReplayWithAnotherBodyIsARequestIdReused) {
  auto unit = [&](const std::string& name, const std::string& code) {
    pb::CreateUnitRequest req;
    req.mutable_unit()->set_parent(root_.name());
    req.mutable_unit()->set_display_name(name);
    req.mutable_unit()->set_credit_code(code);
    req.mutable_unit()->set_kind(pb::GOVERNMENT);
    req.mutable_unit()->set_leadership_mode(pb::DIRECT);
    auto made = server_->units().Create(admin_, req);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->name() : "";
  };
  const std::string u1 = unit("启东市财政局", "11320681014160013P");
  const std::string u2 = unit("启东市审计局", "11320681014160021J");
  auto request = [&](const std::string& request_id) {
    pb::CreateOrganizationRequest req;
    req.set_request_id(request_id);
    req.mutable_organization()->set_parent(a1_.name());
    req.mutable_organization()->set_kind(pb::BRANCH);
    req.mutable_organization()->set_display_name("联合支部");
    req.mutable_organization()->set_unit(u1);
    req.mutable_organization()->add_joint_units(u2);
    *req.mutable_organization()->mutable_established_date() = D(2020, 2, 29);
    return req;
  };
  auto first = service_->Create(admin_, request("req-joint-000001"));
  ASSERT_TRUE(first.ok()) << first.status();
  auto same = service_->Create(admin_, request("req-joint-000001"));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->name(), first->name());
  const std::string before = Snapshot();

  struct Case {
    std::string what;
    std::function<void(pb::Organization&)> change;
  };
  const std::vector<Case> cases = {
      {"another unit",
       [&](pb::Organization& o) {
         o.set_unit(u2);
         o.clear_joint_units();
       }},
      {"no unit",
       [&](pb::Organization& o) {
         o.clear_unit();
         o.clear_joint_units();
       }},
      {"no joint units", [](pb::Organization& o) { o.clear_joint_units(); }},
      {"another established date",
       [](pb::Organization& o) { *o.mutable_established_date() = D(2020, 3, 1); }},
      {"no established date", [](pb::Organization& o) { o.clear_established_date(); }},
  };
  for (const Case& c : cases) {
    pb::CreateOrganizationRequest req = request("req-joint-000001");
    c.change(*req.mutable_organization());
    const absl::Status s = service_->Create(admin_, req).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << c.what << ": " << s;
    EXPECT_EQ(rpc::Reason(s), "REQUEST_ID_REUSED") << c.what << ": " << s;
  }
  EXPECT_EQ(Snapshot(), before);
}

INSTANTIATE_TEST_SUITE_P(Databases, OrgLifecycleTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
