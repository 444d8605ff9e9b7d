// Units (机关单位) and the units organizations belong to, on MariaDB and SQLite: create, get,
// list and update with idempotency and etags; every bad input refused with its reason and field
// and nothing written; scope (out of scope looks missing); organizations naming units and joint
// branches covering several, up to the limit of the rule set in force on the day (injected
// clock). One round trip goes through a real gRPC server (port 0) to check the wire details.
#include <random>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/cache/cache.h"
#include "common/rpc/channel.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "common/runtime/service_main.h"
#include "common/testing/test_env.h"
#include "dangjian/org/v1/events.pb.h"
#include "gtest/gtest.h"
#include "services/org/src/org_server.h"
#include "services/org/src/unit_service.h"
#include "services/org/tests/org_test_db.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

// Valid credit codes (check characters worked out from GB 32100's weights).
const char* const kCodes[] = {
    "11320681014160013P", "11320681014160021J", "12320681467000001N", "11320681MB1949820K",
    "113206810141600060", "11320681014160025Y", "91350100M000100Y43", "11100000000013912A",
    "11320681014160031K", "11320681014160032N", "11320681014160033R", "11320681014160034W",
};

class UnitServiceTest : public OrgDatabaseTest {
 protected:
  void SetUp() override {
    OrgDatabaseTest::SetUp();
    auto redis = db::ParseRedisUrl(testing::RequireEnv("DJ_TEST_REDIS_URL"));
    ASSERT_TRUE(redis.ok());
    cache_ = cache::NewRedisCache({.url = *redis});
    std::random_device rd;
    ids_ = std::make_unique<ids::IdGenerator>(static_cast<int>(rd() % 1024));
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(std::string(32, 's')));
    OrgServiceOptions options;
    options.now_us = [this] { return now_us_; };
    orgs_ = std::make_unique<OrgServer>(*pool_, cache_.get(), *ids_, *auth_, std::string(32, 'k'),
                                        options);
    units_ = std::make_unique<UnitService>(*pool_, *ids_, *auth_, std::string(32, 'k'),
                                           [this] { return now_us_; });
    root_ = MustOrg("", pb::WORK_COMMITTEE, "启东市级机关工委");
  }

  absl::StatusOr<pb::Organization> Org(const std::string& parent, pb::OrganizationKind kind,
                                       const std::string& name, const std::string& unit = "",
                                       std::vector<std::string> joint = {},
                                       const auth::Principal& who = auth::SystemPrincipal()) {
    pb::CreateOrganizationRequest req;
    req.mutable_organization()->set_parent(parent);
    req.mutable_organization()->set_kind(kind);
    req.mutable_organization()->set_display_name(name);
    req.mutable_organization()->set_unit(unit);
    for (const std::string& j : joint) {
      req.mutable_organization()->add_joint_units(j);
    }
    return orgs_->organizations().Create(who, req);
  }
  std::string MustOrg(const std::string& parent, pb::OrganizationKind kind,
                      const std::string& name) {
    auto o = Org(parent, kind, name);
    EXPECT_TRUE(o.ok()) << o.status();
    return o.ok() ? o->name() : "";
  }

  static pb::Unit NewUnit(const std::string& parent, const std::string& name,
                          const std::string& code) {
    pb::Unit u;
    u.set_parent(parent);
    u.set_display_name(name);
    u.set_credit_code(code);
    u.set_kind(pb::GOVERNMENT);
    u.set_leadership_mode(pb::DIRECT);
    return u;
  }
  absl::StatusOr<pb::Unit> Create(const pb::Unit& unit, const std::string& request_id = "",
                                  const auth::Principal& who = auth::SystemPrincipal()) {
    pb::CreateUnitRequest req;
    *req.mutable_unit() = unit;
    req.set_request_id(request_id);
    return units_->Create(who, req);
  }
  // A unit under `parent` with the next unused code.
  std::string MustUnit(const std::string& parent, const std::string& name) {
    auto u = Create(NewUnit(parent, name, kCodes[next_code_++]));
    EXPECT_TRUE(u.ok()) << u.status();
    return u.ok() ? u->name() : "";
  }
  absl::StatusOr<pb::Unit> Get(const std::string& name,
                               const auth::Principal& who = auth::SystemPrincipal()) {
    pb::GetUnitRequest req;
    req.set_name(name);
    return units_->Get(who, req);
  }
  absl::StatusOr<pb::Unit> Update(const pb::Unit& unit, std::vector<std::string> paths,
                                  const auth::Principal& who = auth::SystemPrincipal()) {
    pb::UpdateUnitRequest req;
    *req.mutable_unit() = unit;
    for (const std::string& p : paths) {
      req.mutable_update_mask()->add_paths(p);
    }
    return units_->Update(who, req);
  }
  absl::StatusOr<pb::ListUnitsResponse> List(const std::string& parent, int32_t page_size = 0,
                                             const std::string& token = "",
                                             const auth::Principal& who = auth::SystemPrincipal()) {
    pb::ListUnitsRequest req;
    req.set_parent(parent);
    req.set_page_size(page_size);
    req.set_page_token(token);
    return units_->List(who, req);
  }
  absl::StatusOr<pb::Organization> GetOrg(const std::string& name) {
    pb::GetOrganizationRequest req;
    req.set_name(name);
    return orgs_->organizations().Get(auth::SystemPrincipal(), req);
  }
  absl::StatusOr<pb::Organization> UpdateOrg(const pb::Organization& org,
                                             std::vector<std::string> paths) {
    pb::UpdateOrganizationRequest req;
    *req.mutable_organization() = org;
    for (const std::string& p : paths) {
      req.mutable_update_mask()->add_paths(p);
    }
    return orgs_->organizations().Update(auth::SystemPrincipal(), req);
  }
  absl::StatusOr<pb::StructureRuleSet> AddRules(int joint_max, int y, int m, int d) {
    pb::StructureRuleSet r = ToProto(NationalDefaultVersion());
    r.set_joint_branch_max_units(joint_max);
    r.mutable_effective_date()->set_year(y);
    r.mutable_effective_date()->set_month(m);
    r.mutable_effective_date()->set_day(d);
    r.set_note("工委〔2026〕15号");
    pb::CreateStructureRuleSetRequest req;
    *req.mutable_rule_set() = r;
    return orgs_->rule_sets().Create(auth::SystemPrincipal(), req);
  }

  int64_t Count(const std::string& table) {
    auto lease = pool_->Acquire();
    return (*lease)->Exec(absl::StrCat("SELECT COUNT(*) FROM ", table), {})->rows[0].Int(0);
  }
  // Everything a refused write must leave alone.
  std::string Snapshot() {
    auto lease = pool_->Acquire();
    std::string out;
    for (const char* sql :
         {"SELECT id, display_name, credit_code, kind, leadership_mode, vertical_leading_body, "
          "version FROM units ORDER BY id",
          "SELECT organization_id, unit_id, position FROM organization_joint_units ORDER BY "
          "organization_id, position",
          "SELECT id, unit, version FROM organizations ORDER BY id",
          "SELECT COUNT(*) FROM outbox"}) {
      auto rows = (*lease)->Exec(sql, {});
      EXPECT_TRUE(rows.ok()) << rows.status();
      for (const db::Row& r : rows->rows) {
        for (size_t i = 0; i < r.values.size(); ++i) {
          absl::StrAppend(&out, r.Text(i), i + 1 < r.values.size() ? "|" : "\n");
        }
      }
    }
    return out;
  }
  static std::string Field(const absl::Status& s) {
    auto v = rpc::Violations(s);
    return v.empty() ? "" : v[0].field;
  }
  static auth::Principal As(const std::string& role, const std::string& scope_org) {
    int64_t id = 0;
    EXPECT_TRUE(absl::SimpleAtoi(scope_org.substr(scope_org.find('/') + 1), &id));
    return auth::Principal{.subject = "accounts/9", .roles = {role}, .scope_org = id};
  }

  int64_t now_us_ = ShanghaiMidnightUs(2026, 6, 30) + 3600'000'000LL * 10;  // 30 June, 10:00
  int next_code_ = 0;
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ids::IdGenerator> ids_;
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<OrgServer> orgs_;
  std::unique_ptr<UnitService> units_;
  std::string root_;
};

TEST_P(UnitServiceTest, CreatesGetsListsAndUpdates) {
  pb::Unit in = NewUnit(root_, "  启东市税务局 ", "11320681mb1949820k");
  in.set_leadership_mode(pb::DUAL);
  in.set_vertical_leading_body("国家税务总局南通市税务局");
  auto created = Create(in);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->name().starts_with("units/"));
  EXPECT_EQ(created->display_name(), "启东市税务局") << "trimmed";
  EXPECT_EQ(created->credit_code(), "11320681MB1949820K") << "upper-cased";
  EXPECT_EQ(created->parent(), root_);
  EXPECT_EQ(created->etag(), "v1");
  EXPECT_EQ(created->create_time().seconds(), now_us_ / 1'000'000);

  auto got = Get(created->name());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), created->SerializeAsString());

  const std::string committee = MustOrg(root_, pb::PARTY_COMMITTEE, "市财政局机关党委");
  const std::string finance = MustUnit(committee, "启东市财政局");
  const std::string audit = MustUnit(committee, "启东市审计局");
  // The caller's scope (the whole tree) by id, a page at a time; a subtree only its units.
  std::vector<std::string> seen;
  std::string token;
  do {
    auto page = List("", 2, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const pb::Unit& u : page->units()) {
      seen.push_back(u.name());
    }
    token = page->next_page_token();
  } while (!token.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{created->name(), finance, audit}));
  auto below = List(committee);
  ASSERT_TRUE(below.ok());
  ASSERT_EQ(below->units_size(), 2);
  EXPECT_EQ(below->units(0).name(), finance);
  EXPECT_TRUE(below->next_page_token().empty());
  EXPECT_EQ(List(committee, 0, List("", 1)->next_page_token()).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "a token is bound to its parent";

  now_us_ += 1'000'000;
  pb::Unit change;
  change.set_name(created->name());
  change.set_etag(created->etag());
  change.set_display_name("国家税务总局启东市税务局");
  change.set_kind(pb::OTHER_UNIT);  // not in the mask: ignored
  auto updated = Update(change, {"displayName"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->display_name(), "国家税务总局启东市税务局");
  EXPECT_EQ(updated->kind(), pb::GOVERNMENT);
  EXPECT_EQ(updated->etag(), "v2");
  EXPECT_EQ(updated->update_time().seconds(), now_us_ / 1'000'000);
  EXPECT_EQ(Get(created->name())->display_name(), "国家税务总局启东市税务局");
  auto stale = Update(change, {"display_name"});
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted) << stale.status();
  EXPECT_EQ(rpc::Reason(stale.status()), "ETAG_MISMATCH");

  // DUAL -> DIRECT together with clearing the body; `*` replaces every field.
  pb::Unit direct = *updated;
  direct.set_leadership_mode(pb::DIRECT);
  direct.clear_vertical_leading_body();
  direct.set_credit_code("11320681014160025Y");
  auto replaced = Update(direct, {"*"});
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->leadership_mode(), pb::DIRECT);
  EXPECT_EQ(replaced->vertical_leading_body(), "");
  EXPECT_EQ(replaced->credit_code(), "11320681014160025Y");
  EXPECT_EQ(replaced->etag(), "v3");
  direct.set_etag(replaced->etag());
  auto same = Update(direct, {"*"});  // nothing changes: no new version
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->etag(), "v3");

  auto log = orgs_->organizations().audit().log().List(*pool_, 0, 0, 20);
  ASSERT_TRUE(log.ok());
  std::set<std::string> actions;
  for (const auto& e : *log) {
    actions.insert(e.action);
  }
  EXPECT_TRUE(actions.contains("units.create"));
  EXPECT_TRUE(actions.contains("units.update"));
}

TEST_P(UnitServiceTest, CreateIsIdempotentByRequestId) {
  const pb::Unit in = NewUnit(root_, "启东市财政局", kCodes[0]);
  auto first = Create(in, "5f0c6d1e-8a7b-4c1d-9e2f-3a4b5c6d7e8f");
  ASSERT_TRUE(first.ok()) << first.status();
  now_us_ += 1'000'000;
  auto again = Create(in, "5f0c6d1e-8a7b-4c1d-9e2f-3a4b5c6d7e8f");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(Count("units"), 1);

  const std::string before = Snapshot();
  pb::Unit other = in;
  other.set_display_name("启东市审计局");
  auto reused = Create(other, "5f0c6d1e-8a7b-4c1d-9e2f-3a4b5c6d7e8f");
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists) << reused.status();
  EXPECT_EQ(rpc::Reason(reused.status()), "REQUEST_ID_REUSED");
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(UnitServiceTest, BadInputIsRefusedWithReasonAndFieldAndWritesNothing) {
  const std::string dissolved = MustOrg(root_, pb::PARTY_COMMITTEE, "已撤销党委");
  pb::DissolveOrganizationRequest dissolve;
  dissolve.set_name(dissolved);
  dissolve.set_reason("机构改革");
  ASSERT_TRUE(orgs_->organizations().Dissolve(auth::SystemPrincipal(), dissolve).ok());
  ASSERT_TRUE(Create(NewUnit(root_, "启东市财政局", kCodes[0])).ok());
  const std::string before = Snapshot();

  struct Case {
    std::string what;
    std::function<void(pb::Unit&)> spoil;
    absl::StatusCode code;
    std::string reason;
    std::string field;
    std::string request_id = "";
  };
  const std::vector<Case> cases = {
      {"no name", [](pb::Unit& u) { u.clear_display_name(); }, absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT", "unit.display_name"},
      {"blank name", [](pb::Unit& u) { u.set_display_name(" \u3000 "); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "unit.display_name"},
      {"101 characters",
       [](pb::Unit& u) {
         std::string s;
         for (int i = 0; i < 101; ++i) s += "局";
         u.set_display_name(s);
       },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "unit.display_name"},
      {"no credit code", [](pb::Unit& u) { u.clear_credit_code(); },
       absl::StatusCode::kInvalidArgument, "INVALID_CREDIT_CODE", "unit.credit_code"},
      {"bad check character", [](pb::Unit& u) { u.set_credit_code("11320681014160021K"); },
       absl::StatusCode::kInvalidArgument, "INVALID_CREDIT_CODE", "unit.credit_code"},
      {"letter O", [](pb::Unit& u) { u.set_credit_code("11320681O14160021J"); },
       absl::StatusCode::kInvalidArgument, "INVALID_CREDIT_CODE", "unit.credit_code"},
      {"code taken", [](pb::Unit& u) { u.set_credit_code(kCodes[0]); },
       absl::StatusCode::kAlreadyExists, "CREDIT_CODE_TAKEN", "unit.credit_code"},
      {"code taken, lower case", [](pb::Unit& u) { u.set_credit_code("11320681014160013p"); },
       absl::StatusCode::kAlreadyExists, "CREDIT_CODE_TAKEN", "unit.credit_code"},
      {"no kind", [](pb::Unit& u) { u.set_kind(pb::UNIT_KIND_UNSPECIFIED); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "unit.kind"},
      {"unknown kind", [](pb::Unit& u) { u.set_kind(static_cast<pb::UnitKind>(99)); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "unit.kind"},
      {"no leadership mode",
       [](pb::Unit& u) { u.set_leadership_mode(pb::LEADERSHIP_MODE_UNSPECIFIED); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "unit.leadership_mode"},
      {"DUAL without its body", [](pb::Unit& u) { u.set_leadership_mode(pb::DUAL); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "unit.vertical_leading_body"},
      {"DUAL with a blank body",
       [](pb::Unit& u) {
         u.set_leadership_mode(pb::DUAL);
         u.set_vertical_leading_body("  ");
       },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "unit.vertical_leading_body"},
      {"DIRECT with a body", [](pb::Unit& u) { u.set_vertical_leading_body("南通海关"); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "unit.vertical_leading_body"},
      {"no parent", [](pb::Unit& u) { u.clear_parent(); }, absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT", "unit.parent"},
      {"parent not an organization", [](pb::Unit& u) { u.set_parent("units/5"); },
       absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "unit.parent"},
      {"no such parent", [](pb::Unit& u) { u.set_parent("organizations/99999"); },
       absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND", "unit.parent"},
      {"dissolved parent", [&](pb::Unit& u) { u.set_parent(dissolved); },
       absl::StatusCode::kFailedPrecondition, "PARENT_NOT_ACTIVE", "unit.parent"},
      {"name given", [](pb::Unit& u) { u.set_name("units/1"); }, absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT", "unit.name"},
      {"bad request id", [](pb::Unit&) {}, absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
       "request_id", "not a uuid!"},
  };
  for (const Case& c : cases) {
    pb::Unit u = NewUnit(root_, "启东市审计局", kCodes[1]);
    c.spoil(u);
    absl::Status s = Create(u, c.request_id).status();
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s;
    EXPECT_EQ(rpc::Reason(s), c.reason) << c.what << ": " << s;
    EXPECT_EQ(Field(s), c.field) << c.what << ": " << s;
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(UnitServiceTest, BadUpdatesAreRefusedWithReasonAndFieldAndWriteNothing) {
  auto unit = Create(NewUnit(root_, "启东市财政局", kCodes[0]));
  ASSERT_TRUE(unit.ok()) << unit.status();
  ASSERT_TRUE(Create(NewUnit(root_, "启东市审计局", kCodes[1])).ok());
  const std::string before = Snapshot();
  struct Case {
    std::string what;
    std::function<void(pb::Unit&)> change;
    std::vector<std::string> paths;
    absl::StatusCode code;
    std::string reason;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"unknown path",
       [](pb::Unit&) {},
       {"no_such"},
       absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT",
       "update_mask"},
      {"parent is fixed",
       [](pb::Unit& u) { u.set_parent("organizations/5"); },
       {"parent"},
       absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT",
       "update_mask"},
      {"output only",
       [](pb::Unit&) {},
       {"create_time"},
       absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT",
       "update_mask"},
      {"* with others",
       [](pb::Unit&) {},
       {"*", "kind"},
       absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT",
       "update_mask"},
      {"nothing set, no mask",
       [](pb::Unit& u) {
         u.clear_display_name();
         u.clear_credit_code();
         u.set_kind(pb::UNIT_KIND_UNSPECIFIED);
         u.set_leadership_mode(pb::LEADERSHIP_MODE_UNSPECIFIED);
       },
       {},
       absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT",
       "update_mask"},
      {"blank name",
       [](pb::Unit& u) { u.set_display_name(" "); },
       {"display_name"},
       absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT",
       "unit.display_name"},
      {"bad code",
       [](pb::Unit& u) { u.set_credit_code("11320681014160013Q"); },
       {"credit_code"},
       absl::StatusCode::kInvalidArgument,
       "INVALID_CREDIT_CODE",
       "unit.credit_code"},
      {"code of another unit",
       [](pb::Unit& u) { u.set_credit_code(kCodes[1]); },
       {"credit_code"},
       absl::StatusCode::kAlreadyExists,
       "CREDIT_CODE_TAKEN",
       "unit.credit_code"},
      {"kind cleared",
       [](pb::Unit& u) { u.set_kind(pb::UNIT_KIND_UNSPECIFIED); },
       {"kind"},
       absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT",
       "unit.kind"},
      {"DUAL, body not given",
       [](pb::Unit& u) { u.set_leadership_mode(pb::DUAL); },
       {"leadership_mode"},
       absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT",
       "unit.vertical_leading_body"},
      {"a body while DIRECT",
       [](pb::Unit& u) { u.set_vertical_leading_body("南通海关"); },
       {"vertical_leading_body"},
       absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT",
       "unit.vertical_leading_body"},
      {"no such unit",
       [](pb::Unit& u) { u.set_name("units/99999"); },
       {"display_name"},
       absl::StatusCode::kNotFound,
       "UNIT_NOT_FOUND",
       ""},
      {"bad name",
       [](pb::Unit& u) { u.set_name("organizations/1"); },
       {"display_name"},
       absl::StatusCode::kInvalidArgument,
       "INVALID_ARGUMENT",
       "unit.name"},
      {"stale etag",
       [](pb::Unit& u) { u.set_etag("v7"); },
       {"display_name"},
       absl::StatusCode::kAborted,
       "ETAG_MISMATCH",
       ""},
  };
  for (const Case& c : cases) {
    pb::Unit u = *unit;
    u.set_display_name("启东市财政局（新）");
    c.change(u);
    absl::Status s = Update(u, c.paths).status();
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s;
    EXPECT_EQ(rpc::Reason(s), c.reason) << c.what << ": " << s;
    EXPECT_EQ(Field(s), c.field) << c.what << ": " << s;
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(UnitServiceTest, OutOfScopeLooksMissingAndRolesLimitWrites) {
  const std::string committee = MustOrg(root_, pb::PARTY_COMMITTEE, "市财政局机关党委");
  const std::string branch_a = MustOrg(committee, pb::BRANCH, "第一党支部");
  const std::string branch_b = MustOrg(committee, pb::BRANCH, "第二党支部");
  const std::string unit_a = MustUnit(branch_a, "启东市财政局国库集中收付中心");
  const std::string unit_b = MustUnit(branch_b, "启东市财政局财政监督局");
  const auth::Principal secretary_a = As("secretary", branch_a);

  EXPECT_TRUE(Get(unit_a, secretary_a).ok());
  auto hidden = Get(unit_b, secretary_a);
  EXPECT_EQ(hidden.status().code(), absl::StatusCode::kNotFound) << hidden.status();
  EXPECT_EQ(hidden.status().message(), absl::StrCat(unit_b, " does not exist"))
      << "exactly what a missing unit says";
  EXPECT_EQ(rpc::Reason(hidden.status()), rpc::Reason(Get("units/99999", secretary_a).status()));
  auto mine = List("", 0, "", secretary_a);
  ASSERT_TRUE(mine.ok()) << mine.status();
  ASSERT_EQ(mine->units_size(), 1) << "the default parent is the caller's scope";
  EXPECT_EQ(mine->units(0).name(), unit_a);
  auto theirs = List(branch_b, 0, "", secretary_a);
  EXPECT_EQ(theirs.status().code(), absl::StatusCode::kNotFound) << theirs.status();
  EXPECT_EQ(Field(theirs.status()), "parent");
  auto whole = List(root_, 0, "", secretary_a);
  EXPECT_EQ(whole.status().code(), absl::StatusCode::kNotFound) << "above the scope";

  const std::string before = Snapshot();
  pb::Unit change = *Get(unit_a);
  change.set_display_name("改名");
  auto update = Update(change, {"display_name"}, secretary_a);
  EXPECT_EQ(update.status().code(), absl::StatusCode::kPermissionDenied) << "secretaries read";
  change.set_name(unit_b);
  EXPECT_EQ(Update(change, {"display_name"}, secretary_a).status().code(),
            absl::StatusCode::kNotFound);
  const auth::Principal member = As("member", branch_a);
  auto created = Create(NewUnit(branch_a, "启东市财政局会计科", kCodes[5]), "", member);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kPermissionDenied) << created.status();
  const auth::Principal admin_a = As("org_admin", branch_a);
  auto elsewhere = Create(NewUnit(branch_b, "启东市财政局会计科", kCodes[5]), "", admin_a);
  EXPECT_EQ(elsewhere.status().code(), absl::StatusCode::kNotFound) << elsewhere.status();
  EXPECT_EQ(Field(elsewhere.status()), "unit.parent");
  EXPECT_EQ(Snapshot(), before);
  // A replayed request_id is authorized again: not a way to read someone else's unit.
  ASSERT_TRUE(Create(NewUnit(branch_b, "启东市财政局会计科", kCodes[5]), "req-b-0000000001").ok());
  const std::string with_b = Snapshot();
  auto replay =
      Create(NewUnit(branch_b, "启东市财政局会计科", kCodes[5]), "req-b-0000000001", admin_a);
  EXPECT_EQ(replay.status().code(), absl::StatusCode::kNotFound) << replay.status();
  EXPECT_EQ(Snapshot(), with_b);
  auto ok = Create(NewUnit(branch_a, "启东市财政局会计科二", kCodes[6]), "", admin_a);
  EXPECT_TRUE(ok.ok()) << ok.status();

  // Refusals are security events in the org service's log (appended off the request path).
  audit::Recorder::FlushAll();
  auto log = orgs_->organizations().audit().log().List(*pool_, 0, 0, 50);
  ASSERT_TRUE(log.ok());
  int refused_reads = 0;
  for (const auto& e : *log) {
    refused_reads += e.action == "units.read" && e.outcome == "NOT_FOUND" ? 1 : 0;
  }
  EXPECT_GE(refused_reads, 2);
}

// Units are reference data: the ones managed at or above a caller's scope (the organ a branch
// belongs to is usually managed at the work committee) are readable and may be named by the
// caller's organizations; a unit managed beside the caller's scope stays hidden.
TEST_P(UnitServiceTest, UnitsManagedAboveTheScopeAreReadableReferenceData) {
  const std::string finance_org = MustOrg(root_, pb::PARTY_COMMITTEE, "市财政局机关党委");
  const std::string tax_org = MustOrg(root_, pb::PARTY_COMMITTEE, "市税务局机关党委");
  const std::string branch = MustOrg(finance_org, pb::BRANCH, "第一党支部");
  const std::string finance = MustUnit(root_, "启东市财政局");
  const std::string treasury = MustUnit(finance_org, "启东市国库集中收付中心");
  const std::string beside = MustUnit(tax_org, "国家税务总局启东市税务局第一分局");
  const auth::Principal secretary = As("secretary", branch);

  EXPECT_TRUE(Get(finance, secretary).ok());
  EXPECT_TRUE(Get(treasury, secretary).ok());
  EXPECT_EQ(Get(beside, secretary).status().code(), absl::StatusCode::kNotFound);
  auto listed = List("", 0, "", secretary);
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::set<std::string> names;
  for (const pb::Unit& u : listed->units()) {
    names.insert(u.name());
  }
  EXPECT_EQ(names, (std::set<std::string>{finance, treasury}));
  // Paging over the two sources keeps its order and ends.
  auto first = List("", 1, "", secretary);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->units_size(), 1);
  auto second = List("", 1, first->next_page_token(), secretary);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->units_size(), 1);
  EXPECT_NE(first->units(0).name(), second->units(0).name());
  EXPECT_TRUE(second->next_page_token().empty());

  auto group = Org(branch, pb::PARTY_GROUP, "第一党小组", finance, {}, secretary);
  ASSERT_TRUE(group.ok()) << group.status();
  EXPECT_EQ(group->unit(), finance);
  const std::string before = Snapshot();
  auto hidden = Org(branch, pb::PARTY_GROUP, "第二党小组", beside, {}, secretary);
  EXPECT_EQ(hidden.status().code(), absl::StatusCode::kInvalidArgument) << hidden.status();
  EXPECT_EQ(Field(hidden.status()), "organization.unit");
  EXPECT_EQ(rpc::Violations(hidden.status())[0].description, "no such unit");
  EXPECT_EQ(Snapshot(), before);
  // Reading is not managing: the unit above stays unchangeable from below.
  pb::Unit change = *Get(finance);
  change.set_display_name("改名");
  EXPECT_EQ(Update(change, {"display_name"}, As("org_admin", branch)).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_P(UnitServiceTest, OrganizationsNameExistingUnitsInScope) {
  const std::string committee = MustOrg(root_, pb::PARTY_COMMITTEE, "市财政局机关党委");
  const std::string branch_a = MustOrg(committee, pb::BRANCH, "第一党支部");
  const std::string branch_b = MustOrg(committee, pb::BRANCH, "第二党支部");
  const std::string finance = MustUnit(root_, "启东市财政局");
  const std::string unit_a = MustUnit(branch_a, "国库集中收付中心");
  const std::string unit_b = MustUnit(branch_b, "财政监督局");
  const std::string before = Snapshot();

  auto missing = Org(committee, pb::BRANCH, "第三党支部", "units/99999");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument) << missing.status();
  EXPECT_EQ(Field(missing.status()), "organization.unit");
  EXPECT_EQ(rpc::Violations(missing.status())[0].description, "no such unit");
  const auth::Principal secretary_a = As("secretary", branch_a);
  auto out_of_scope = Org(branch_a, pb::PARTY_GROUP, "第一党小组", unit_b, {}, secretary_a);
  EXPECT_EQ(out_of_scope.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Field(out_of_scope.status()), "organization.unit");
  EXPECT_EQ(rpc::Violations(out_of_scope.status())[0].description, "no such unit");
  EXPECT_EQ(Snapshot(), before);

  auto group = Org(branch_a, pb::PARTY_GROUP, "第一党小组", unit_a, {}, secretary_a);
  ASSERT_TRUE(group.ok()) << group.status();
  EXPECT_EQ(group->unit(), unit_a);

  auto branch = GetOrg(branch_b);
  ASSERT_TRUE(branch.ok());
  pb::Organization change = *branch;
  change.set_unit("units/99999");
  auto refused = UpdateOrg(change, {"unit"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Field(refused.status()), "organization.unit");
  change.set_unit(finance);
  auto updated = UpdateOrg(change, {"unit"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->unit(), finance);
  EXPECT_EQ(GetOrg(branch_b)->unit(), finance);
}

TEST_P(UnitServiceTest, JointBranchesCoverUnitsUpToTheRuleSet) {
  const std::string committee = MustOrg(root_, pb::PARTY_COMMITTEE, "市级机关联合党委");
  std::vector<std::string> u;
  for (int i = 0; i < 7; ++i) {
    u.push_back(MustUnit(root_, absl::StrCat("单位", i)));
  }
  const std::string before = Snapshot();
  struct Case {
    std::string what;
    pb::OrganizationKind kind;
    std::string unit;
    std::vector<std::string> joint;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"1 + 5 > 5", pb::BRANCH, u[0], {u[1], u[2], u[3], u[4], u[5]}, "JOINT_UNITS_EXCEEDED"},
      {"no own unit", pb::BRANCH, "", {u[1]}, "INVALID_ARGUMENT"},
      {"named twice", pb::BRANCH, u[0], {u[1], u[1]}, "INVALID_ARGUMENT"},
      {"the own unit again", pb::BRANCH, u[0], {u[1], u[0]}, "INVALID_ARGUMENT"},
      {"no such unit", pb::BRANCH, u[0], {u[1], "units/99999"}, "UNIT_NOT_FOUND"},
      {"not a unit name", pb::BRANCH, u[0], {"organizations/3"}, "INVALID_ARGUMENT"},
      {"a party committee", pb::PARTY_COMMITTEE, u[0], {u[1]}, "JOINT_UNITS_NOT_ALLOWED"},
  };
  for (const Case& c : cases) {
    const std::string parent = c.kind == pb::PARTY_COMMITTEE ? root_ : committee;
    absl::Status s = Org(parent, c.kind, "联合党支部", c.unit, c.joint).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.what << ": " << s;
    EXPECT_EQ(rpc::Reason(s), c.reason) << c.what << ": " << s;
    EXPECT_EQ(Field(s), "organization.joint_units") << c.what << ": " << s;
  }
  EXPECT_EQ(Snapshot(), before);

  // 1 + 4 = 5: allowed, kept in order, read back by Get, List and ListDescendants.
  auto joint = Org(committee, pb::BRANCH, "联合党支部", u[0], {u[4], u[1], u[3], u[2]});
  ASSERT_TRUE(joint.ok()) << joint.status();
  const std::vector<std::string> order = {u[4], u[1], u[3], u[2]};
  EXPECT_EQ(std::vector<std::string>(joint->joint_units().begin(), joint->joint_units().end()),
            order);
  auto general = Org(committee, pb::GENERAL_BRANCH, "联合党总支", u[5], {u[6]});
  ASSERT_TRUE(general.ok()) << general.status();
  auto got = GetOrg(joint->name());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::vector<std::string>(got->joint_units().begin(), got->joint_units().end()), order);
  pb::ListOrganizationsRequest children;
  children.set_parent(committee);
  auto listed = orgs_->organizations().List(auth::SystemPrincipal(), children);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->organizations_size(), 2);
  EXPECT_EQ(listed->organizations(0).joint_units_size(), 4);
  EXPECT_EQ(listed->organizations(1).joint_units(0), u[6]);
  pb::ListDescendantsRequest descendants;
  descendants.set_name(root_);
  auto all = orgs_->organizations().Descendants(auth::SystemPrincipal(), descendants);
  ASSERT_TRUE(all.ok());
  int with_joint = 0;
  for (const pb::Organization& o : all->organizations()) {
    with_joint += o.joint_units_size();
  }
  EXPECT_EQ(with_joint, 5);

  // Update: replace them (the event carries the new list); a kind that cannot cover them, or
  // dropping the own unit while they stay, is refused.
  pb::Organization change = *got;
  change.clear_joint_units();
  change.add_joint_units(u[6]);
  change.add_joint_units(u[1]);
  auto clash = UpdateOrg(change, {"joint_units"});
  ASSERT_TRUE(clash.ok()) << clash.status() << " (u[6] is also the general branch's: allowed)";
  EXPECT_EQ(std::vector<std::string>(clash->joint_units().begin(), clash->joint_units().end()),
            (std::vector<std::string>{u[6], u[1]}));
  EXPECT_EQ(GetOrg(joint->name())->joint_units_size(), 2) << "the cached copy was dropped";
  auto lease = pool_->Acquire();
  auto last = (*lease)->Exec("SELECT type, payload FROM outbox ORDER BY id DESC LIMIT 1", {});
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->rows[0].Text(0), "dangjian.org.v1.OrganizationUpdated");
  std::string payload;
  ASSERT_TRUE(absl::Base64Unescape(last->rows[0].Text(1), &payload));
  pb::OrganizationUpdated event;
  ASSERT_TRUE(event.ParseFromString(payload));
  EXPECT_EQ(event.organization().joint_units_size(), 2);
  EXPECT_EQ(event.organization().joint_units(0), u[6]);

  auto direct = Org(root_, pb::BRANCH, "工委直属联合党支部", u[0], {u[1]});
  ASSERT_TRUE(direct.ok()) << direct.status();
  const std::string kept = Snapshot();
  pb::Organization regroup = *direct;
  regroup.set_kind(pb::PARTY_COMMITTEE);
  auto kind = UpdateOrg(regroup, {"kind"});
  EXPECT_EQ(kind.status().code(), absl::StatusCode::kInvalidArgument) << kind.status();
  EXPECT_EQ(Field(kind.status()), "organization.joint_units");
  pb::Organization unitless = *clash;
  unitless.clear_unit();
  auto no_unit = UpdateOrg(unitless, {"unit"});
  EXPECT_EQ(Field(no_unit.status()), "organization.joint_units") << no_unit.status();
  auto too_many = *clash;
  too_many.clear_joint_units();
  for (int i = 1; i <= 5; ++i) {
    too_many.add_joint_units(u[i]);
  }
  EXPECT_EQ(rpc::Reason(UpdateOrg(too_many, {"joint_units"}).status()), "JOINT_UNITS_EXCEEDED");
  EXPECT_EQ(Snapshot(), kept);

  // `*` with an empty list clears them; deleting the organization leaves no rows behind.
  pb::Organization cleared = *clash;
  cleared.clear_joint_units();
  auto none = UpdateOrg(cleared, {"*"});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->joint_units_size(), 0);
  pb::DeleteOrganizationRequest del;
  del.set_name(general->name());
  ASSERT_TRUE(orgs_->organizations().Delete(auth::SystemPrincipal(), del).ok());
  EXPECT_EQ(Count("organization_joint_units"), 1) << "only the directly placed branch's";
  // An organization that manages units is not deleted from under them.
  const std::string manager = MustOrg(root_, pb::PARTY_COMMITTEE, "市审计局机关党委");
  MustUnit(manager, "启东市审计局");
  const std::string with_unit = Snapshot();
  del.set_name(manager);
  absl::Status refused = orgs_->organizations().Delete(auth::SystemPrincipal(), del);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_EQ(rpc::Reason(refused), "HAS_UNITS");
  EXPECT_EQ(Snapshot(), with_unit);
}

TEST_P(UnitServiceTest, ACommitteeVersionLowersTheJointUnitLimitFromItsDate) {
  const std::string committee = MustOrg(root_, pb::PARTY_COMMITTEE, "市级机关联合党委");
  std::vector<std::string> u;
  for (int i = 0; i < 5; ++i) {
    u.push_back(MustUnit(root_, absl::StrCat("单位", i)));
  }
  // From 1 July a joint branch covers at most 3 units.
  auto added = AddRules(3, 2026, 7, 1);
  ASSERT_TRUE(added.ok()) << added.status();
  auto wide = Org(committee, pb::BRANCH, "联合党支部一", u[0], {u[1], u[2], u[3], u[4]});
  ASSERT_TRUE(wide.ok()) << "30 June: the national 5 still applies: " << wide.status();

  now_us_ = ShanghaiMidnightUs(2026, 7, 1);
  const std::string before = Snapshot();
  auto four = Org(committee, pb::BRANCH, "联合党支部二", u[0], {u[1], u[2], u[3]});
  EXPECT_EQ(four.status().code(), absl::StatusCode::kInvalidArgument) << four.status();
  EXPECT_EQ(rpc::Reason(four.status()), "JOINT_UNITS_EXCEEDED");
  EXPECT_EQ(Field(four.status()), "organization.joint_units");
  EXPECT_NE(rpc::Violations(four.status())[0].description.find("at most 3"), std::string::npos);
  EXPECT_EQ(Snapshot(), before);
  auto three = Org(committee, pb::BRANCH, "联合党支部二", u[0], {u[1], u[2]});
  EXPECT_TRUE(three.ok()) << three.status();

  // The wide branch keeps its units, but may not widen again under the new rules...
  pb::Organization rename = *wide;
  rename.set_display_name("联合党支部（一）");
  EXPECT_TRUE(UpdateOrg(rename, {"display_name"}).ok()) << "other changes still go through";
  pb::Organization shrink = *GetOrg(wide->name());
  shrink.clear_joint_units();
  shrink.add_joint_units(u[1]);
  shrink.add_joint_units(u[2]);
  shrink.add_joint_units(u[3]);
  EXPECT_EQ(rpc::Reason(UpdateOrg(shrink, {"joint_units"}).status()), "JOINT_UNITS_EXCEEDED");
  shrink.mutable_joint_units()->RemoveLast();
  EXPECT_TRUE(UpdateOrg(shrink, {"joint_units"}).ok());
}

TEST_P(UnitServiceTest, ServesOverGrpcWithErrorDetails) {
  grpc::Service* services[] = {units_.get()};
  auto running = runtime::StartGrpcServer({}, services);
  ASSERT_TRUE(running.ok()) << running.status();
  auto stub =
      pb::UnitService::NewStub(rpc::MakeChannel("127.0.0.1:" + std::to_string(running->port)));
  auto call = [&](const pb::Unit& u, pb::Unit* out) {
    auto ctx = rpc::NewClientContext(std::chrono::seconds(10), "");
    auth_->Attach(*ctx, auth::SystemPrincipal());
    pb::CreateUnitRequest req;
    *req.mutable_unit() = u;
    return stub->CreateUnit(ctx.get(), req, out);
  };
  pb::Unit created;
  grpc::Status ok = call(NewUnit(root_, "启东市财政局", kCodes[0]), &created);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  pb::Unit got;
  auto ctx = rpc::NewClientContext(std::chrono::seconds(10), "");
  auth_->Attach(*ctx, auth::SystemPrincipal());
  pb::GetUnitRequest get;
  get.set_name(created.name());
  ASSERT_TRUE(stub->GetUnit(ctx.get(), get, &got).ok());
  EXPECT_EQ(got.credit_code(), kCodes[0]);
  pb::Unit out;
  grpc::Status bad = call(NewUnit(root_, "启东市审计局", "11320681014160021K"), &out);
  EXPECT_EQ(bad.error_code(), grpc::INVALID_ARGUMENT);
  absl::Status detail = rpc::FromGrpcStatus(bad);
  EXPECT_EQ(rpc::Reason(detail), "INVALID_CREDIT_CODE");
  ASSERT_EQ(rpc::Violations(detail).size(), 1u);
  EXPECT_EQ(rpc::Violations(detail)[0].description, "check character should be J, got K");
  running->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

INSTANTIATE_TEST_SUITE_P(Databases, UnitServiceTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
