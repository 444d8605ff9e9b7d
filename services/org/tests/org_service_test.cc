// OrganizationService over a real gRPC server (port 0) on a real MariaDB and Redis.
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/audit/audit_log.h"
#include "common/audit/recorder.h"
#include "common/db/migrate.h"
#include "common/metrics/metrics.h"
#include "common/rpc/channel.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "common/runtime/service_main.h"
#include "common/testing/test_env.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "services/org/src/org_service.h"
#include "services/org/tests/org_test_db.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

const std::string kSecret(32, 's');
const std::string kAuditKey(32, 'k');

class OrgServiceTest : public OrgDatabaseTest {
 protected:
  // A client context vouched for as `who_` (the gateway's job in production).
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& request_id = "") {
    auto ctx = rpc::NewClientContext(std::chrono::seconds(10), request_id);
    auth_->Attach(*ctx, who_);
    return ctx;
  }

  void SetUp() override {
    OrgDatabaseTest::SetUp();
    auto redis = db::ParseRedisUrl(testing::RequireEnv("DJ_TEST_REDIS_URL"));
    ASSERT_TRUE(redis.ok());
    cache_ = cache::NewRedisCache({.url = *redis});
    std::random_device rd;
    ids_ = std::make_unique<ids::IdGenerator>(static_cast<int>(rd() % 1024));
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(kSecret));
    service_ = std::make_unique<OrgService>(*pool_, cache_.get(), *ids_, *auth_, kAuditKey);
    grpc::Service* services[] = {service_.get()};
    auto running = runtime::StartGrpcServer({}, services);
    ASSERT_TRUE(running.ok()) << running.status();
    server_ = std::move(*running);
    stub_ = pb::OrganizationService::NewStub(
        rpc::MakeChannel("127.0.0.1:" + std::to_string(server_.port)));
  }

  void TearDown() override {
    if (server_.server) {
      server_.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    }
  }

  grpc::Status Create(const std::string& parent, pb::OrganizationKind kind,
                      const std::string& display_name, pb::Organization* out,
                      const std::string& request_id = "") {
    pb::CreateOrganizationRequest req;
    req.mutable_organization()->set_parent(parent);
    req.mutable_organization()->set_kind(kind);
    req.mutable_organization()->set_display_name(display_name);
    req.set_request_id(request_id);
    auto ctx = Ctx();
    return stub_->CreateOrganization(ctx.get(), req, out);
  }

  pb::Organization MustCreate(const std::string& parent, pb::OrganizationKind kind,
                              const std::string& display_name) {
    pb::Organization out;
    grpc::Status s = Create(parent, kind, display_name, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Get(const std::string& name, pb::Organization* out) {
    pb::GetOrganizationRequest req;
    req.set_name(name);
    auto ctx = Ctx();
    return stub_->GetOrganization(ctx.get(), req, out);
  }

  grpc::Status Update(const pb::Organization& org, std::vector<std::string> paths,
                      pb::Organization* out) {
    pb::UpdateOrganizationRequest req;
    *req.mutable_organization() = org;
    for (auto& p : paths) {
      req.mutable_update_mask()->add_paths(p);
    }
    auto ctx = Ctx();
    return stub_->UpdateOrganization(ctx.get(), req, out);
  }

  grpc::Status Delete(const std::string& name, const std::string& etag = "") {
    pb::DeleteOrganizationRequest req;
    req.set_name(name);
    req.set_etag(etag);
    google::protobuf::Empty out;
    auto ctx = Ctx();
    return stub_->DeleteOrganization(ctx.get(), req, &out);
  }

  int64_t Rows() {
    auto lease = pool_->Acquire();
    return (*lease)->Exec("SELECT COUNT(*) FROM organizations", {})->rows[0].Int(0);
  }

  static std::string ViolationField(const grpc::Status& s) {
    auto v = rpc::Violations(rpc::FromGrpcStatus(s));
    return v.empty() ? "" : v[0].field;
  }
  static std::string Reason(const grpc::Status& s) { return rpc::Reason(rpc::FromGrpcStatus(s)); }

  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ids::IdGenerator> ids_;
  std::unique_ptr<auth::InternalAuth> auth_;
  auth::Principal who_ = auth::SystemPrincipal();
  std::unique_ptr<OrgService> service_;
  runtime::RunningServer server_;
  std::unique_ptr<pb::OrganizationService::Stub> stub_;
};

TEST_P(OrgServiceTest, BuildsATreeAndReadsItBack) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "启东市级机关工委");
  EXPECT_TRUE(root.name().starts_with("organizations/"));
  EXPECT_EQ(root.depth(), 0);
  EXPECT_EQ(root.status(), pb::ACTIVE);
  EXPECT_FALSE(root.etag().empty());
  pb::Organization committee = MustCreate(root.name(), pb::PARTY_COMMITTEE, "市财政局机关党委");
  EXPECT_EQ(committee.parent(), root.name());
  EXPECT_EQ(committee.depth(), 1);
  pb::Organization branch = MustCreate(committee.name(), pb::BRANCH, "第一党支部");
  pb::Organization group = MustCreate(branch.name(), pb::PARTY_GROUP, "第一党小组");
  EXPECT_EQ(group.depth(), 3);

  pb::Organization got;
  ASSERT_TRUE(Get(branch.name(), &got).ok());
  EXPECT_EQ(got.display_name(), "第一党支部");
  EXPECT_EQ(got.etag(), branch.etag());
  EXPECT_EQ(got.create_time().seconds(), branch.create_time().seconds());

  pb::ListDescendantsRequest req;
  req.set_name(root.name());
  pb::ListDescendantsResponse resp;
  auto ctx = Ctx();
  ASSERT_TRUE(stub_->ListDescendants(ctx.get(), req, &resp).ok());
  ASSERT_EQ(resp.organizations_size(), 3);
  EXPECT_EQ(resp.organizations(0).name(), committee.name());
  EXPECT_EQ(resp.organizations(2).name(), group.name());
  EXPECT_TRUE(resp.next_page_token().empty());
}

TEST_P(OrgServiceTest, IllegalNestingIsRefusedWithAFieldAndWritesNothing) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  pb::Organization general = MustCreate(root.name(), pb::GENERAL_BRANCH, "总支");
  const int64_t before = Rows();
  struct Case {
    std::string parent;
    pb::OrganizationKind kind;
    std::string name;
    grpc::StatusCode code;
    std::string field;
  };
  const std::vector<Case> cases = {
      {general.name(), pb::PARTY_GROUP, "小组", grpc::INVALID_ARGUMENT, "organization.parent"},
      {general.name(), pb::PARTY_COMMITTEE, "党委", grpc::INVALID_ARGUMENT, "organization.parent"},
      {root.name(), pb::WORK_COMMITTEE, "工委2", grpc::INVALID_ARGUMENT, "organization.parent"},
      {"", pb::BRANCH, "孤儿支部", grpc::INVALID_ARGUMENT, "organization.parent"},
      {root.name(), pb::ORGANIZATION_KIND_UNSPECIFIED, "x", grpc::INVALID_ARGUMENT,
       "organization.kind"},
      {root.name(), pb::BRANCH, "", grpc::INVALID_ARGUMENT, "organization.display_name"},
      {root.name(), pb::BRANCH, "   ", grpc::INVALID_ARGUMENT, "organization.display_name"},
      {"organizations/abc", pb::BRANCH, "x", grpc::INVALID_ARGUMENT, "organization.parent"},
      {"units/5", pb::BRANCH, "x", grpc::INVALID_ARGUMENT, "organization.parent"},
      {"organizations/99999", pb::BRANCH, "x", grpc::NOT_FOUND, "organization.parent"},
  };
  for (const Case& c : cases) {
    pb::Organization out;
    grpc::Status s = Create(c.parent, c.kind, c.name, &out);
    EXPECT_EQ(s.error_code(), c.code) << c.name << ": " << s.error_message();
    EXPECT_EQ(ViolationField(s), c.field) << c.name;
  }
  EXPECT_EQ(Rows(), before);
}

TEST_P(OrgServiceTest, CreateValidatesEveryField) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  struct Case {
    std::function<void(pb::CreateOrganizationRequest&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.mutable_organization()->set_name("organizations/1"); }, "organization.name"},
      {[](auto& r) { r.mutable_organization()->set_unit("unit-5"); }, "organization.unit"},
      {[](auto& r) {
         auto* d = r.mutable_organization()->mutable_established_date();
         d->set_year(2023);
         d->set_month(2);
         d->set_day(29);
       },
       "organization.established_date.day"},
      {[](auto& r) { r.set_request_id(std::string(65, 'a')); }, "request_id"},
      {[](auto& r) { r.set_request_id("has space"); }, "request_id"},
      {[](auto& r) { r.clear_organization(); }, "organization"},
  };
  for (const Case& c : cases) {
    pb::CreateOrganizationRequest req;
    req.mutable_organization()->set_parent(root.name());
    req.mutable_organization()->set_kind(pb::BRANCH);
    req.mutable_organization()->set_display_name("支部");
    c.mutate(req);
    pb::Organization out;
    auto ctx = Ctx();
    grpc::Status s = stub_->CreateOrganization(ctx.get(), req, &out);
    EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(ViolationField(s), c.field);
  }
  EXPECT_EQ(Rows(), 1);
}

TEST_P(OrgServiceTest, CreateIsIdempotentByRequestId) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  pb::Organization first;
  pb::Organization second;
  ASSERT_TRUE(Create(root.name(), pb::BRANCH, "支部", &first, "req-000000000001").ok());
  ASSERT_TRUE(Create(root.name(), pb::BRANCH, "支部", &second, "req-000000000001").ok());
  EXPECT_EQ(first.name(), second.name());
  EXPECT_EQ(Rows(), 2);
  pb::Organization other;
  grpc::Status reused = Create(root.name(), pb::BRANCH, "另一个支部", &other, "req-000000000001");
  EXPECT_EQ(reused.error_code(), grpc::ALREADY_EXISTS);
  EXPECT_EQ(Reason(reused), "REQUEST_ID_REUSED");

  // Eight concurrent retries of one request create one organization.
  std::vector<std::thread> threads;
  std::vector<std::string> names(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      pb::Organization out;
      grpc::Status s = Create(root.name(), pb::BRANCH, "并发支部", &out, "req-race-0000001");
      EXPECT_TRUE(s.ok()) << s.error_message();
      names[i] = out.name();
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& n : names) {
    EXPECT_EQ(n, names[0]);
  }
  EXPECT_EQ(Rows(), 3);
}

TEST_P(OrgServiceTest, SiblingNamesAreUnique) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  pb::Organization a = MustCreate(root.name(), pb::PARTY_COMMITTEE, "甲局机关党委");
  pb::Organization b = MustCreate(root.name(), pb::PARTY_COMMITTEE, "乙局机关党委");
  MustCreate(a.name(), pb::BRANCH, "第一党支部");
  MustCreate(b.name(), pb::BRANCH, "第一党支部");  // same name, other parent: fine
  pb::Organization dup;
  grpc::Status s = Create(a.name(), pb::BRANCH, " 第一党支部 ", &dup);
  EXPECT_EQ(s.error_code(), grpc::ALREADY_EXISTS);
  EXPECT_EQ(ViolationField(s), "organization.display_name");
  pb::Organization renamed = b;
  renamed.set_display_name("甲局机关党委");
  pb::Organization out;
  EXPECT_EQ(Update(renamed, {"display_name"}, &out).error_code(), grpc::ALREADY_EXISTS);
}

TEST_P(OrgServiceTest, GetIsServedFromTheCacheAndWritesInvalidateIt) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  auto hits = [] {
    const std::string text = metrics::Serialize();
    const std::string key = "dj_cache_requests_total{cache=\"organization\",result=\"hit\"} ";
    size_t at = text.find(key);
    return at == std::string::npos ? 0.0 : std::stod(text.substr(at + key.size()));
  };
  pb::Organization got;
  ASSERT_TRUE(Get(root.name(), &got).ok());
  const double before = hits();
  ASSERT_TRUE(Get(root.name(), &got).ok());
  EXPECT_EQ(hits(), before + 1);

  pb::Organization change = got;
  change.set_display_name("新名字");
  pb::Organization updated;
  ASSERT_TRUE(Update(change, {"displayName"}, &updated).ok());
  ASSERT_TRUE(Get(root.name(), &got).ok());
  EXPECT_EQ(got.display_name(), "新名字");  // not the cached old name
  EXPECT_EQ(got.etag(), updated.etag());
}

TEST_P(OrgServiceTest, UpdateHonoursMaskAndEtag) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  pb::Organization branch = MustCreate(root.name(), pb::BRANCH, "支部");

  pb::Organization change = branch;
  change.set_display_name("改名支部");
  change.set_unit("units/42");  // not in the mask: ignored
  pb::Organization out;
  ASSERT_TRUE(Update(change, {"display_name"}, &out).ok());
  EXPECT_EQ(out.display_name(), "改名支部");
  EXPECT_EQ(out.unit(), "");
  EXPECT_NE(out.etag(), branch.etag());
  EXPECT_GE(out.update_time().seconds(), branch.update_time().seconds());

  // The old etag is stale now.
  grpc::Status stale = Update(change, {"display_name"}, &out);
  EXPECT_EQ(stale.error_code(), grpc::ABORTED);
  EXPECT_EQ(Reason(stale), "ETAG_MISMATCH");

  // No etag: last writer wins. Date and kind through the mask.
  pb::Organization patch;
  patch.set_name(branch.name());
  patch.set_kind(pb::GENERAL_BRANCH);
  patch.mutable_established_date()->set_year(2024);
  patch.mutable_established_date()->set_month(2);
  patch.mutable_established_date()->set_day(29);
  ASSERT_TRUE(Update(patch, {"kind", "established_date"}, &out).ok());
  EXPECT_EQ(out.kind(), pb::GENERAL_BRANCH);
  EXPECT_EQ(out.established_date().day(), 29);
  EXPECT_EQ(out.display_name(), "改名支部");

  struct Case {
    std::vector<std::string> paths;
    std::string field;
  };
  const std::vector<Case> bad = {
      {{"parent"}, "update_mask"},      {{"etag"}, "update_mask"},
      {{"no_such"}, "update_mask"},     {{"*", "kind"}, "update_mask"},
      {{"create_time"}, "update_mask"},
  };
  for (const Case& c : bad) {
    grpc::Status s = Update(patch, c.paths, &out);
    EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT) << c.paths[0];
    EXPECT_EQ(ViolationField(s), c.field);
  }
  pb::Organization missing = patch;
  missing.set_name("organizations/123456789");
  EXPECT_EQ(Update(missing, {"kind"}, &out).error_code(), grpc::NOT_FOUND);
}

TEST_P(OrgServiceTest, KindChangeMustFitParentAndChildren) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  pb::Organization branch = MustCreate(root.name(), pb::BRANCH, "支部");
  MustCreate(branch.name(), pb::PARTY_GROUP, "小组");
  pb::Organization change;
  change.set_name(branch.name());
  change.set_kind(pb::GENERAL_BRANCH);  // its party group could no longer sit under it
  pb::Organization out;
  grpc::Status s = Update(change, {"kind"}, &out);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(ViolationField(s), "organization.kind");
  change.set_kind(pb::WORK_COMMITTEE);
  EXPECT_EQ(Update(change, {"kind"}, &out).error_code(), grpc::INVALID_ARGUMENT);
  pb::Organization got;
  ASSERT_TRUE(Get(branch.name(), &got).ok());
  EXPECT_EQ(got.kind(), pb::BRANCH);
}

TEST_P(OrgServiceTest, DeleteRefusesWhileChildrenExist) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  pb::Organization branch = MustCreate(root.name(), pb::BRANCH, "支部");
  grpc::Status s = Delete(root.name());
  EXPECT_EQ(s.error_code(), grpc::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "HAS_CHILDREN");
  EXPECT_EQ(Delete(branch.name(), "v999").error_code(), grpc::ABORTED);
  pb::Organization got;
  ASSERT_TRUE(Get(branch.name(), &got).ok());  // cached now
  ASSERT_TRUE(Delete(branch.name(), branch.etag()).ok());
  EXPECT_EQ(Get(branch.name(), &got).error_code(), grpc::NOT_FOUND);  // cache invalidated
  EXPECT_EQ(Delete(branch.name()).error_code(), grpc::NOT_FOUND);
  ASSERT_TRUE(Delete(root.name()).ok());
  EXPECT_EQ(Rows(), 0);
}

TEST_P(OrgServiceTest, ListPagesThroughChildren) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  std::vector<std::string> created;
  for (int i = 0; i < 7; ++i) {
    created.push_back(MustCreate(root.name(), pb::BRANCH, "支部" + std::to_string(i)).name());
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    pb::ListOrganizationsRequest req;
    req.set_parent(root.name());
    req.set_page_size(3);
    req.set_page_token(token);
    pb::ListOrganizationsResponse resp;
    auto ctx = Ctx();
    ASSERT_TRUE(stub_->ListOrganizations(ctx.get(), req, &resp).ok());
    for (const auto& o : resp.organizations()) {
      seen.push_back(o.name());
    }
    token = resp.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, created);

  // Roots, a token reused with another parent, a negative size, an unknown parent.
  pb::ListOrganizationsRequest roots;
  pb::ListOrganizationsResponse resp;
  auto ctx = Ctx();
  ASSERT_TRUE(stub_->ListOrganizations(ctx.get(), roots, &resp).ok());
  ASSERT_EQ(resp.organizations_size(), 1);

  pb::ListOrganizationsRequest first;
  first.set_parent(root.name());
  first.set_page_size(3);
  ctx = Ctx();
  ASSERT_TRUE(stub_->ListOrganizations(ctx.get(), first, &resp).ok());
  pb::ListOrganizationsRequest wrong;
  wrong.set_parent(created[0]);
  wrong.set_page_token(resp.next_page_token());
  ctx = Ctx();
  grpc::Status s = stub_->ListOrganizations(ctx.get(), wrong, &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(ViolationField(s), "page_token");

  pb::ListOrganizationsRequest negative;
  negative.set_page_size(-1);
  ctx = Ctx();
  EXPECT_EQ(ViolationField(stub_->ListOrganizations(ctx.get(), negative, &resp)), "page_size");

  pb::ListOrganizationsRequest unknown;
  unknown.set_parent("organizations/424242");
  ctx = Ctx();
  EXPECT_EQ(stub_->ListOrganizations(ctx.get(), unknown, &resp).error_code(), grpc::NOT_FOUND);
}

TEST_P(OrgServiceTest, DescendantsPageDepthFirst) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  std::vector<std::string> expected;
  for (int c = 0; c < 3; ++c) {
    pb::Organization committee =
        MustCreate(root.name(), pb::PARTY_COMMITTEE, "党委" + std::to_string(c));
    expected.push_back(committee.name());
    for (int b = 0; b < 2; ++b) {
      expected.push_back(
          MustCreate(committee.name(), pb::BRANCH, "支部" + std::to_string(b)).name());
    }
  }
  std::vector<std::string> seen;
  std::string token;
  do {
    pb::ListDescendantsRequest req;
    req.set_name(root.name());
    req.set_page_size(4);
    req.set_page_token(token);
    pb::ListDescendantsResponse resp;
    auto ctx = Ctx();
    ASSERT_TRUE(stub_->ListDescendants(ctx.get(), req, &resp).ok());
    for (const auto& o : resp.organizations()) {
      seen.push_back(o.name());
    }
    token = resp.next_page_token();
  } while (!token.empty());
  EXPECT_EQ(seen, expected);
}

TEST_P(OrgServiceTest, RequestIdReachesTheServer) {
  pb::GetOrganizationRequest req;
  req.set_name("organizations/1");
  pb::Organization out;
  auto ctx = Ctx("test-request-42");
  grpc::Status s = stub_->GetOrganization(ctx.get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::NOT_FOUND);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(s.error_details()));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.domain(), "org.dangjian");
  EXPECT_EQ(info.reason(), "ORGANIZATION_NOT_FOUND");
}

TEST_P(OrgServiceTest, ScopeDecidesWhatACallerSeesAndEveryDecisionIsAudited) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  pb::Organization a = MustCreate(root.name(), pb::PARTY_COMMITTEE, "甲局机关党委");
  pb::Organization a1 = MustCreate(a.name(), pb::BRANCH, "甲一支部");
  pb::Organization b = MustCreate(root.name(), pb::PARTY_COMMITTEE, "乙局机关党委");
  auto id = [](const pb::Organization& o) {
    return *rpc::ParseName(o.name(), "organizations", "n");
  };
  // The secretary of branch 甲一.
  who_ = auth::Principal{.subject = "accounts/7",
                         .roles = {"secretary"},
                         .scope_org = id(a1),
                         .client_ip = "10.0.0.9",
                         .request_id = "r-scope"};
  pb::Organization out;
  EXPECT_TRUE(Get(a1.name(), &out).ok());
  // Outside the scope reads exactly like a missing organization, above it too.
  grpc::Status other = Get(b.name(), &out);
  grpc::Status missing = Get("organizations/999999", &out);
  EXPECT_EQ(other.error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(Reason(other), Reason(missing));
  EXPECT_EQ(Get(a.name(), &out).error_code(), grpc::NOT_FOUND);
  // Writes: a party group under the own branch, nothing under 乙, no delete at all.
  EXPECT_TRUE(Create(a1.name(), pb::PARTY_GROUP, "第一小组", &out).ok());
  EXPECT_EQ(Create(b.name(), pb::BRANCH, "渗透支部", &out).error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(Delete(a1.name()).error_code(), grpc::PERMISSION_DENIED);
  // The top of a scoped caller's tree is their own organization.
  pb::ListOrganizationsResponse roots;
  auto ctx = Ctx();
  ASSERT_TRUE(stub_->ListOrganizations(ctx.get(), pb::ListOrganizationsRequest(), &roots).ok());
  ASSERT_EQ(roots.organizations_size(), 1);
  EXPECT_EQ(roots.organizations(0).name(), a1.name());
  EXPECT_EQ(Rows(), 5);

  // Every decision is in the audit log, with who, from where and under which request.
  audit::AuditLog log(kAuditKey);
  audit::Recorder::FlushAll();  // refusals are appended off the request path
  auto entries = log.List(*pool_, 0, 0, 100);
  ASSERT_TRUE(entries.ok()) << entries.status();
  auto find = [&](const std::string& action, const std::string& outcome) -> const audit::Entry* {
    for (const audit::Entry& e : *entries) {
      if (e.actor == "accounts/7" && e.action == action && e.outcome == outcome) {
        return &e;
      }
    }
    return nullptr;
  };
  const audit::Entry* refused_read = find("organizations.read", "NOT_FOUND");
  ASSERT_NE(refused_read, nullptr);
  EXPECT_EQ(refused_read->detail, "OUT_OF_SCOPE");
  EXPECT_EQ(refused_read->client_ip, "10.0.0.9");
  EXPECT_EQ(refused_read->request_id, "r-scope");
  ASSERT_NE(find("organizations.create", "OK"), nullptr);
  ASSERT_NE(find("organizations.create", "NOT_FOUND"), nullptr);
  ASSERT_NE(find("organizations.delete", "PERMISSION_DENIED"), nullptr);
  // The refused create is placed at 乙's path, so 乙's auditors see the attempt.
  EXPECT_TRUE(absl::StrContains(find("organizations.create", "NOT_FOUND")->org_path,
                                absl::StrCat("/", id(b), "/")));
  auto verified = log.Verify(*pool_);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact) << verified->problem;
}

// GetOrganization answers a cached copy on the thread that received the call only for a caller
// it grants; a copy in the cache is refused outside the scope exactly as a database read is, and
// the refusal is recorded (by the blocking half, which the fast half leaves it to).
TEST_P(OrgServiceTest, ACachedCopyIsRefusedOutsideTheScopeAndTheRefusalAudited) {
  pb::Organization root = MustCreate("", pb::WORK_COMMITTEE, "工委");
  pb::Organization a = MustCreate(root.name(), pb::PARTY_COMMITTEE, "甲局机关党委");
  pb::Organization b = MustCreate(root.name(), pb::PARTY_COMMITTEE, "乙局机关党委");
  pb::Organization out;
  for (int i = 0; i < 3; ++i) {  // cached, with the tree version beside it
    ASSERT_TRUE(Get(b.name(), &out).ok());
  }
  who_ = auth::Principal{.subject = "accounts/8",
                         .roles = {"secretary"},
                         .scope_org = *rpc::ParseName(a.name(), "organizations", "n"),
                         .client_ip = "10.0.0.8",
                         .request_id = "r-cached"};
  for (int i = 0; i < 3; ++i) {
    pb::Organization refused_answer;
    grpc::Status s = Get(b.name(), &refused_answer);
    EXPECT_EQ(s.error_code(), grpc::NOT_FOUND);
    EXPECT_EQ(refused_answer.name(), "");  // nothing of the copy in a refused answer
  }
  EXPECT_TRUE(Get(a.name(), &out).ok());
  EXPECT_EQ(out.name(), a.name());
  audit::Recorder::FlushAll();
  auto entries = audit::AuditLog(kAuditKey).List(*pool_, 0, 0, 100);
  ASSERT_TRUE(entries.ok()) << entries.status();
  int refused = 0;
  for (const audit::Entry& e : *entries) {
    refused += e.actor == "accounts/8" && e.action == "organizations.read" &&
               e.outcome == "NOT_FOUND" && e.request_id == "r-cached";
  }
  EXPECT_GE(refused, 1);
}

TEST_P(OrgServiceTest, ACallTheGatewayDidNotVouchForIsRefusedAndRecorded) {
  pb::GetOrganizationRequest req;
  req.set_name("organizations/1");
  pb::Organization out;
  // No principal at all: a client talking straight to the service port.
  auto bare = rpc::NewClientContext(std::chrono::seconds(10));
  grpc::Status s = stub_->GetOrganization(bare.get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(Reason(s), "PRINCIPAL_MISSING");
  // A principal signed with another secret (forged), claiming to be a committee admin.
  auto forger = auth::InternalAuth::Create(std::string(32, 'x'));
  auto forged = rpc::NewClientContext(std::chrono::seconds(10));
  forger->Attach(*forged, auth::SystemPrincipal());
  s = stub_->GetOrganization(forged.get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(Reason(s), "PRINCIPAL_FORGED");
  // A client's own access token is not a principal either.
  auto token = rpc::NewClientContext(std::chrono::seconds(10));
  token->AddMetadata("authorization", "Bearer x.y.z");
  EXPECT_EQ(stub_->GetOrganization(token.get(), req, &out).error_code(), grpc::UNAUTHENTICATED);

  audit::Recorder::FlushAll();  // refusals are appended off the request path
  auto entries = audit::AuditLog(kAuditKey).List(*pool_, 0, 0, 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[1].action, "rpc.authenticate");
  EXPECT_EQ((*entries)[1].outcome, "UNAUTHENTICATED");
  EXPECT_EQ((*entries)[1].detail, "PRINCIPAL_FORGED");
  EXPECT_EQ((*entries)[1].actor, "anonymous");
  EXPECT_FALSE((*entries)[1].client_ip.empty());
}

INSTANTIATE_TEST_SUITE_P(Databases, OrgServiceTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
