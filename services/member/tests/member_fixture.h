// What the member service's tests on both databases share: a fresh database (MariaDB or SQLite)
// migrated as the service migrates it, ids, the internal trust, a PII vault, the org service as
// a table of organization paths (NOT_FOUND outside the caller's scope, as it answers), a test
// clock, the member records service on all of that, principals of each role, and helpers that
// look at the tables.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/audit/recorder.h"
#include "common/auth/authorize.h"
#include "common/crypto/pii.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"
#include "common/testing/service_database_test.h"
#include "gtest/gtest.h"
#include "services/member/src/member_records.h"
#include "services/member/src/schema.h"

namespace dj::member::fixture {

// Noon of `date` in Shanghai.
inline int64_t At(const time::CivilDate& date) {
  return time::ShanghaiMidnightMicros(date) + int64_t{12} * 3600 * 1'000'000;
}

class MemberServiceTestBase : public dj::testing::ServiceDatabaseTest {
 protected:
  inline static const std::string kAuditKey = std::string(32, 'k');

  MemberServiceTestBase() : ServiceDatabaseTest(Schema, "member") {}

  void SetUp() override {
    ServiceDatabaseTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    ids_ = std::make_unique<ids::IdGenerator>(7);
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(std::string(32, 's')));
    auto vault = crypto::PiiVault::Create({{"k1", std::string(40, 'a')}}, std::string(40, 'i'));
    ASSERT_TRUE(vault.ok()) << vault.status();
    vault_ = std::make_unique<crypto::PiiVault>(*vault);
    StartRecords();
  }

  // (Re)builds the member records service on the current vault.
  void StartRecords() {
    records_ = std::make_unique<MemberRecords>(*pool_, *ids_, *auth_, kAuditKey, OrgPaths(),
                                               *vault_, Clock());
  }

  // The org service as this one sees it: orgs_ for callers whose scope covers them.
  auth::OrgPathLookup OrgPaths() {
    return
        [this](const auth::Principal& who, std::string_view name) -> absl::StatusOr<std::string> {
          auto it = orgs_.find(std::string(name));
          if (it == orgs_.end() || !auth::PathInScope(it->second, who.scope_org)) {
            return absl::NotFoundError(absl::StrCat(AV(name), " does not exist"));
          }
          return it->second;
        };
  }
  std::function<int64_t()> Clock() {
    return [this] { return now_; };
  }

  // The first administrator, over the whole tree (rule sets are changed for all of it).
  static auth::Principal Root() {
    return {.subject = "accounts/0", .roles = {"committee_admin"}, .scope_org = 0};
  }
  static auth::Principal Admin() {
    return {.subject = "accounts/1", .roles = {"committee_admin"}, .scope_org = 1};
  }
  static auth::Principal OrgAdmin5() {
    return {.subject = "accounts/2", .roles = {"org_admin"}, .scope_org = 5};
  }
  static auth::Principal Secretary5() {
    return {.subject = "accounts/3", .roles = {"secretary"}, .scope_org = 5};
  }
  static auth::Principal Secretary6() {
    return {.subject = "accounts/4", .roles = {"secretary"}, .scope_org = 6};
  }
  static auth::Principal Auditor5() {
    return {.subject = "accounts/8", .roles = {"auditor"}, .scope_org = 5};
  }
  static auth::Principal Self(const std::string& member) {
    return {.subject = "accounts/9", .roles = {"member"}, .scope_org = 5, .member = member};
  }

  // Rows of `table`.
  int64_t Count(std::string_view table) {
    auto n = pool_->Run([&](db::Connection& c) {
      return c.Exec(absl::StrCat("SELECT COUNT(*) FROM ", AV(table)), {});
    });
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? n->rows[0].Int(0) : -1;
  }
  // Every text value of every row of `table`, joined.
  std::string Dump(std::string_view table) {
    auto rows = pool_->Run(
        [&](db::Connection& c) { return c.Exec(absl::StrCat("SELECT * FROM ", AV(table)), {}); });
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::string out;
    for (const db::Row& r : rows->rows) {
      for (size_t i = 0; i < r.values.size(); ++i) {
        absl::StrAppend(&out, r.Text(i), "|");
      }
      out += "\n";
    }
    return out;
  }
  // Audit rows of `action` (refusals queued off the request path included).
  int64_t AuditRows(std::string_view action) {
    audit::Recorder::FlushAll();
    auto n = pool_->Run([&](db::Connection& c) {
      return c.Exec("SELECT COUNT(*) FROM audit_log WHERE action = ?", {std::string(action)});
    });
    return n.ok() ? n->rows[0].Int(0) : -1;
  }
  // The fields a refusal names.
  static std::set<std::string> Fields(const absl::Status& s) {
    std::set<std::string> out;
    for (const rpc::FieldViolation& v : rpc::Violations(s)) {
      out.insert(v.field);
    }
    return out;
  }

  std::map<std::string, std::string> orgs_ = {{"organizations/1", "/1/"},
                                              {"organizations/5", "/1/5/"},
                                              {"organizations/6", "/1/6/"},
                                              {"organizations/7", "/1/7/"}};
  int64_t now_ = At({2026, 12, 7});
  std::unique_ptr<ids::IdGenerator> ids_;
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<crypto::PiiVault> vault_;
  std::unique_ptr<MemberRecords> records_;
};

}  // namespace dj::member::fixture
