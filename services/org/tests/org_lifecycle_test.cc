// Moves, dissolutions and merges (Step 4) on MariaDB and SQLite, through the service's own API:
// subtree paths rewritten in one transaction, nesting rules re-checked, events in the outbox,
// refusals that change nothing, scope on both ends of a move.
#include <map>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "common/cache/cache.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "dangjian/org/v1/events.pb.h"
#include "gtest/gtest.h"
#include "services/org/src/org_service.h"
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
    service_ = std::make_unique<OrgService>(*pool_, cache_.get(), *ids_, *auth_,
                                            std::string(32, 'k'), options);
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
    pb::CreateOrganizationRequest req;
    req.mutable_organization()->set_parent(parent);
    req.mutable_organization()->set_kind(kind);
    req.mutable_organization()->set_display_name(name);
    req.mutable_organization()->mutable_established_date()->set_year(2019);
    req.mutable_organization()->mutable_established_date()->set_month(7);
    req.mutable_organization()->mutable_established_date()->set_day(1);
    auto made = service_->Create(admin_, req);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? *made : pb::Organization();
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

  auth::Principal admin_ = auth::SystemPrincipal();
  std::map<std::string, int64_t> members_;
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ids::IdGenerator> ids_;
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<OrgService> service_;
  pb::Organization root_, a_, a1_, b1_, g1_, b2_, b_, c1_, d1_;
};

TEST_P(OrgLifecycleTest, MoveRewritesTheWholeSubtreeAndPublishesOneEvent) {
  (void)Get(g1_);  // cached with its old path: the move must invalidate it
  const size_t events_before = Events().size();
  auto moved = Move(a1_, b_);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->parent(), b_.name());
  EXPECT_EQ(moved->path(), absl::StrCat(b_.path(), rpc::ParseName(a1_.name(), "organizations",
                                                                   "n").value(), "/"));
  EXPECT_EQ(moved->depth(), 2);
  EXPECT_NE(moved->etag(), a1_.etag());
  for (const pb::Organization* o : {&b1_, &g1_, &b2_}) {
    pb::Organization now = Get(*o);
    EXPECT_TRUE(absl::StartsWith(now.path(), moved->path())) << now.path();
    EXPECT_EQ(now.depth(), o->depth()) << "same depth: a1 stays at depth 2";
    EXPECT_NE(now.etag(), o->etag()) << "its path changed, so its etag did";
  }
  EXPECT_EQ(Get(g1_).path(), absl::StrCat(Get(b1_).path(), absl::StripPrefix(g1_.name(),
                                                                              "organizations/"),
                                          "/"));
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
    EXPECT_EQ(s.code(), c.code) << c.what->display_name() << " -> " << c.to->display_name()
                                << ": " << s;
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
  const auth::Principal a_admin{.subject = "accounts/5", .roles = {"org_admin"},
                                .scope_org = *rpc::ParseName(a_.name(), "organizations", "n")};
  const std::string before = Snapshot();
  // Out of scope at the destination: answered as if it did not exist.
  auto out = Move(a1_, b_, &a_admin);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kNotFound) << out.status();
  EXPECT_EQ(Field(out.status()), "new_parent");
  // Out of scope at the source: the organization itself does not exist for them.
  EXPECT_EQ(Move(c1_, a_, &a_admin).status().code(), absl::StatusCode::kNotFound);
  // A secretary may create but not move.
  const auth::Principal secretary{.subject = "accounts/6", .roles = {"secretary"},
                                  .scope_org = a_admin.scope_org};
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
  EXPECT_TRUE(absl::StartsWith(Field(Dissolve(g1_, "撤销", 2027, 2, 29).status()),
                               "dissolved_date"));
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

INSTANTIATE_TEST_SUITE_P(Databases, OrgLifecycleTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
