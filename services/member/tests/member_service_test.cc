// Sign-in rules of the member service on a test-controlled clock, on MariaDB (with Redis) and on
// SQLite (with the in-process cache): the bootstrap administrator's first password, lockout,
// password expiry, resets, and refresh-token idle time, lifetime and rotation. Every refusal
// that is a security event must leave an audit row, and no refusal may tell whether a username
// exists. The service's plain methods are called directly, as the gRPC adapters do.
#include <algorithm>
#include <map>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/auth/jwt.h"
#include "common/auth/principal.h"
#include "common/cache/cache.h"
#include "common/db/url.h"
#include "common/rpc/errors.h"
#include "common/runtime/config.h"
#include "common/testing/service_database_test.h"
#include "dangjian/org/v1/events.pb.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "services/member/src/account_store.h"
#include "services/member/src/member_service.h"
#include "services/member/src/schema.h"
#include "services/member/src/settings.h"

namespace dj::member {
namespace {

using google::protobuf::util::TimeUtil;

namespace pb = dangjian::member::v1;

constexpr int64_t kMicro = 1;
constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
// 2028-02-28 16:00 UTC, midnight of a leap day in Shanghai. The rules count microseconds, not
// calendar days, so 90 days from here crosses 29 February without a special case.
constexpr int64_t kStart = int64_t{1'835'366'400} * kSecond;

const std::string kSecret(32, 's');
const std::string kAuditKey(32, 'k');
const std::string kJwtKey(32, 'j');
constexpr char kInitial[] = "Initial-pass1";  // set by an administrator
constexpr char kPassword[] = "Chosen-pass2";  // chosen by the account's owner
constexpr char kNewPassword[] = "Second-pass3";
constexpr char kWrong[] = "Wrong-pass9";
constexpr char kOrg[] = "organizations/5";
constexpr char kOrgPath[] = "/1/5/";

class MemberServiceTest : public testing::ServiceDatabaseTest {
 protected:
  MemberServiceTest() : ServiceDatabaseTest(Schema, "member") {}

  void SetUp() override {
    ServiceDatabaseTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    // MariaDB with Redis (the distributed topology), SQLite with the in-process cache (the
    // embedded one): refresh tokens live in the cache.
    if (GetParam() == db::Dialect::kMySql) {
      auto redis = db::ParseRedisUrl(testing::RequireEnv("DJ_TEST_REDIS_URL"));
      ASSERT_TRUE(redis.ok());
      cache_ = cache::NewRedisCache({.url = *redis});
    } else {
      cache_ = cache::NewMemoryCache();
    }
    std::random_device rd;
    ids_ = std::make_unique<ids::IdGenerator>(static_cast<int>(rd() % 1024));
    // Addresses of this run's own (2001:db8::/32 is for documentation): sign-in delays are kept
    // per (username, address) in the cache, which outlives one run on a shared Redis.
    net_ =
        absl::StrCat("2001:db8:", absl::Hex(rd() % 0x10000), ":", absl::Hex(rd() % 0x10000), "::");
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(kSecret));
    Start(MemberServiceOptions{});
  }

  // (Re)builds the service with `options` on the test's clock.
  void Start(MemberServiceOptions options) {
    // The cheapest argon2id the library takes: the tests hash and verify hundreds of times on
    // shared cores, and the cost is not what they check.
    options.policy.memory_kib = 64;
    options.policy.passes = 1;
    options.now_us = [this] { return now_; };
    auto signer = auth::JwtSigner::Create({{"k1", kJwtKey}}, "dangjian");
    ASSERT_TRUE(signer.ok());
    signer_ = std::make_unique<auth::JwtSigner>(*signer);
    service_ = std::make_unique<MemberService>(*pool_, *cache_, *ids_, *auth_, *signer, kAuditKey,
                                               OrgPathsFor(), std::move(options));
  }

  static absl::StatusOr<std::string> OrgPaths(const auth::Principal&, std::string_view name) {
    if (name == kOrg) {
      return std::string(kOrgPath);
    }
    return absl::NotFoundError(std::string(name) + " does not exist");
  }
  // The org service as this service sees it: kOrg for anyone, and the organizations in
  // `org_now_` at their current paths for callers whose scope covers them (NOT_FOUND otherwise,
  // as the org service hides what is out of scope); `org_down_` makes it unreachable.
  OrgPathLookup OrgPathsFor() {
    return
        [this](const auth::Principal& who, std::string_view name) -> absl::StatusOr<std::string> {
          ++org_lookups_;
          if (org_down_) {
            return absl::UnavailableError("org service unreachable");
          }
          auto it = org_now_.find(std::string(name));
          if (it == org_now_.end()) {
            return OrgPaths(who, name);
          }
          if (!auth::PathInScope(it->second, who.scope_org)) {
            return absl::NotFoundError(std::string(name) + " does not exist");
          }
          return it->second;
        };
  }
  // The org service's OrganizationMoved event, number `sequence` of the tree.
  static events::Event Moved(int64_t id, int64_t sequence, const std::string& org,
                             const std::string& from, const std::string& to) {
    dangjian::org::v1::OrganizationMoved moved;
    moved.set_organization(org);
    moved.set_old_path(from);
    moved.set_new_path(to);
    return events::Event{.id = id,
                         .stream = "org.organizations",
                         .type = dangjian::org::v1::OrganizationMoved::descriptor()->full_name(),
                         .key = "organizations",
                         .sequence = sequence,
                         .payload = moved.SerializeAsString()};
  }
  // An account row as the store holds it, written straight to the table.
  void InsertAccount(int64_t id, const std::string& username, int64_t scope_org,
                     const std::string& scope_path) {
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE(AccountStore::Insert(**lease, {.id = id,
                                               .username = username,
                                               .password_hash = "x",
                                               .scope_org = scope_org,
                                               .scope_path = scope_path})
                    .ok());
  }
  std::map<std::string, std::string> org_now_;
  bool org_down_ = false;
  int org_lookups_ = 0;

  void Advance(int64_t us) { now_ += us; }

  // The gateway's anonymous caller (sign-in needs no token).
  auth::Principal Client() const { return From(Address(7)); }
  // The anonymous caller from another address.
  auth::Principal From(const std::string& address) const {
    return auth::Principal{.subject = "anonymous", .client_ip = address, .request_id = "req-7"};
  }
  std::string Address(int n) const { return absl::StrCat(net_, absl::Hex(n)); }
  static auth::Principal Admin() {
    return auth::Principal{
        .subject = "accounts/1", .roles = {"committee_admin"}, .username = "root"};
  }

  absl::StatusOr<pb::TokenResponse> Login(std::string_view username, std::string_view password) {
    return LoginFrom(Client(), username, password);
  }
  absl::StatusOr<pb::TokenResponse> LoginFrom(const auth::Principal& who, std::string_view username,
                                              std::string_view password) {
    pb::LoginRequest r;
    r.set_username(std::string(username));
    r.set_password(std::string(password));
    return service_->Login(who, r);
  }
  // Locks `username` the only way a stranger can: policy.lock_failures wrong passwords from
  // that many addresses (one each, so no address is ever delayed). Returns the last one's time.
  int64_t LockAccount(std::string_view username, int lock_failures = 50) {
    for (int i = 0; i < lock_failures; ++i) {
      Advance(kSecond);
      EXPECT_FALSE(LoginFrom(From(Address(0x1000 + i)), username, kWrong).ok()) << i;
    }
    return now_;
  }
  absl::Status ChangePassword(std::string_view username, std::string_view old_password,
                              std::string_view new_password) {
    pb::ChangePasswordRequest r;
    r.set_username(std::string(username));
    r.set_old_password(std::string(old_password));
    r.set_new_password(std::string(new_password));
    return service_->ChangePassword(Client(), r);
  }
  absl::StatusOr<pb::TokenResponse> Refresh(std::string_view token) {
    pb::RefreshRequest r;
    r.set_refresh_token(std::string(token));
    return service_->Refresh(Client(), r);
  }
  absl::Status Reset(const auth::Principal& who, std::string_view name, std::string_view password) {
    pb::ResetPasswordRequest r;
    r.set_name(std::string(name));
    r.set_new_password(std::string(password));
    return service_->ResetPassword(who, r);
  }

  // A secretary's account in organizations/5, created by an administrator with kInitial and,
  // a minute later, given kPassword by its owner (so it can sign in). Returns its name.
  std::string NewAccount(std::string_view username) {
    pb::CreateAccountRequest r;
    r.mutable_account()->set_username(std::string(username));
    r.mutable_account()->add_roles(pb::SECRETARY);
    r.mutable_account()->set_scope(kOrg);
    r.set_initial_password(kInitial);
    auto created = service_->CreateAccount(Admin(), r);
    EXPECT_TRUE(created.ok()) << created.status();
    Advance(kMinute);
    EXPECT_TRUE(ChangePassword(username, kInitial, kPassword).ok());
    return created.ok() ? created->name() : "";
  }

  AccountRow Row(std::string_view username) {
    auto row = AccountStore(*pool_).GetByUsername(username);
    EXPECT_TRUE(row.ok() && row->has_value()) << username;
    return row.ok() && row->has_value() ? **row : AccountRow{};
  }

  pb::AccountState StateOf(const std::string& name) {
    pb::GetAccountRequest r;
    r.set_name(name);
    auto account = service_->GetAccount(Admin(), r);
    EXPECT_TRUE(account.ok()) << account.status();
    return account.ok() ? account->state() : pb::ACCOUNT_STATE_UNSPECIFIED;
  }

  // The audit rows of `action`, oldest first.
  std::vector<audit::Entry> Audit(std::string_view action) {
    audit::Recorder::FlushAll();  // refusals are appended off the request path
    auto all = service_->audit().log().List(*pool_, 0, 0, 500);
    EXPECT_TRUE(all.ok()) << all.status();
    std::vector<audit::Entry> out;
    if (all.ok()) {
      for (auto it = all->rbegin(); it != all->rend(); ++it) {
        if (it->action == action) {
          out.push_back(*it);
        }
      }
    }
    return out;
  }
  // The details of the audit rows of `action` with `outcome`, oldest first.
  std::vector<std::string> Details(std::string_view action, std::string_view outcome) {
    std::vector<std::string> out;
    for (const audit::Entry& e : Audit(action)) {
      if (e.outcome == outcome) {
        out.push_back(e.detail);
      }
    }
    return out;
  }

  // `password` works until `max_age` after `changed_at` and must be changed from then on.
  void ExpectExpiresAfter(std::string_view username, std::string_view password, int64_t changed_at,
                          int64_t max_age) {
    now_ = changed_at + max_age - kMicro;
    EXPECT_TRUE(Login(username, password).ok()) << username;
    now_ = changed_at + max_age;
    ExpectRefused(Login(username, password).status(), absl::StatusCode::kFailedPrecondition,
                  "PASSWORD_CHANGE_REQUIRED");
  }

  static void ExpectRefused(const absl::Status& s, absl::StatusCode code, std::string_view reason) {
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_EQ(rpc::Reason(s), reason) << s;
  }
  static void ExpectField(const absl::Status& s, std::string_view field) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    const auto violations = rpc::Violations(s);
    ASSERT_EQ(violations.size(), 1u) << s;
    EXPECT_EQ(violations[0].field, field);
  }

  int64_t now_ = kStart;
  std::string net_;
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ids::IdGenerator> ids_;
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<auth::JwtSigner> signer_;
  std::unique_ptr<MemberService> service_;
};

TEST_P(MemberServiceTest, BootstrapRefusesToStartWithoutAPassword) {
  const absl::Status s = service_->Bootstrap("");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "DJ_BOOTSTRAP_ADMIN_PASSWORD")) << s;
  EXPECT_EQ(service_->Bootstrap("short").code(), absl::StatusCode::kInvalidArgument);
  auto lease = pool_->Acquire();
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(*AccountStore::Count(**lease), 0);
}

TEST_P(MemberServiceTest, BootstrapAdminChangesTheInitialPasswordFirst) {
  ASSERT_TRUE(service_->Bootstrap(kInitial).ok());
  // A second start (or replica) with another password changes nothing.
  ASSERT_TRUE(service_->Bootstrap("Other-pass4").ok());
  const AccountRow admin = Row("admin");
  EXPECT_TRUE(admin.must_change);
  EXPECT_EQ(admin.roles, std::vector<std::string>{"committee_admin"});
  EXPECT_EQ(admin.scope_path, "/");
  EXPECT_EQ(admin.password_changed_us, kStart);

  // Before the password is proven, the answer is the plain failure: whether this account must
  // change its password is nobody's business yet.
  ExpectRefused(Login("admin", kWrong).status(), absl::StatusCode::kUnauthenticated,
                "LOGIN_FAILED");
  ExpectRefused(Login("admin", "Other-pass4").status(), absl::StatusCode::kUnauthenticated,
                "LOGIN_FAILED");
  EXPECT_EQ(Row("admin").failed_attempts, 2);

  Advance(kMinute);
  const absl::Status must = Login("admin", kInitial).status();
  ExpectRefused(must, absl::StatusCode::kFailedPrecondition, "PASSWORD_CHANGE_REQUIRED");
  EXPECT_TRUE(absl::StrContains(must.message(), "changePassword")) << must;
  // The password was right: the failures are forgiven, though no session was started.
  EXPECT_EQ(Row("admin").failed_attempts, 0);
  const auto refused = Audit("auth.login");
  ASSERT_EQ(refused.size(), 3u);
  EXPECT_EQ(refused[2].outcome, "FAILED_PRECONDITION");
  EXPECT_EQ(refused[2].detail, "PASSWORD_CHANGE_REQUIRED");
  EXPECT_EQ(refused[2].actor, absl::StrCat("accounts/", admin.id));
  EXPECT_EQ(refused[2].client_ip, Client().client_ip);

  // Bad new passwords are refused, naming the field, and change nothing.
  ExpectField(ChangePassword("admin", kInitial, "short"), "new_password");
  ExpectField(ChangePassword("admin", kInitial, kInitial), "new_password");
  ExpectField(ChangePassword("admin", "", kPassword), "old_password");
  ExpectRefused(ChangePassword("admin", kWrong, kPassword), absl::StatusCode::kUnauthenticated,
                "LOGIN_FAILED");
  EXPECT_EQ(Row("admin").password_hash, admin.password_hash);
  EXPECT_TRUE(Row("admin").must_change);

  Advance(kMinute);
  ASSERT_TRUE(ChangePassword("admin", kInitial, kPassword).ok());
  const AccountRow changed = Row("admin");
  EXPECT_FALSE(changed.must_change);
  EXPECT_EQ(changed.password_changed_us, now_);
  EXPECT_EQ(changed.failed_attempts, 0);
  EXPECT_EQ(Audit("auth.change_password").back().outcome, "OK");

  ExpectRefused(Login("admin", kInitial).status(), absl::StatusCode::kUnauthenticated,
                "LOGIN_FAILED");
  auto tokens = Login("admin", kPassword);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->account(), absl::StrCat("accounts/", admin.id));
  EXPECT_EQ(tokens->token_type(), "Bearer");
  EXPECT_FALSE(tokens->refresh_token().empty());
  EXPECT_EQ(Audit("auth.login").back().outcome, "OK");
}

TEST_P(MemberServiceTest, EveryFailureAnswersAlikeAndIsAudited) {
  // A city whose accounts lock after 5 failures (and whose sign-in delays start later), so that
  // one address sees every kind of failure.
  MemberServiceOptions strict;
  strict.policy.lock_failures = 5;
  strict.policy.max_failures = 20;
  Start(strict);
  const std::string name = NewAccount("wang.li");
  const absl::Status wrong = Login("wang.li", kWrong).status();
  const absl::Status unknown = Login("nobody.here", kPassword).status();
  const absl::Status oversized = Login(std::string(65, 'a'), kPassword).status();
  const absl::Status change_unknown = ChangePassword("nobody.here", kPassword, kNewPassword);
  for (int i = 2; i <= 5; ++i) {
    Advance(kSecond);
    ASSERT_EQ(Login("wang.li", kWrong).status(), wrong) << i;
  }
  const absl::Status locked = Login("wang.li", kPassword).status();
  const absl::Status change_locked = ChangePassword("wang.li", kPassword, kNewPassword);

  ExpectRefused(wrong, absl::StatusCode::kUnauthenticated, "LOGIN_FAILED");
  // Equal as whole statuses (code, message, ErrorInfo): nothing tells the cases apart.
  EXPECT_EQ(unknown, wrong);
  EXPECT_EQ(oversized, wrong);
  EXPECT_EQ(locked, wrong);
  EXPECT_EQ(change_unknown, wrong);
  EXPECT_EQ(change_locked, wrong);
  ExpectField(Login("", kPassword).status(), "username");
  ExpectField(Login("wang.li", "").status(), "password");

  // The log tells them apart, for the auditor; the attempted unknown name is not kept (people
  // type their password into the username field).
  EXPECT_EQ(Details("auth.login", "UNAUTHENTICATED"),
            (std::vector<std::string>{"WRONG_PASSWORD", "UNKNOWN_USERNAME", "OVERSIZED_CREDENTIALS",
                                      "WRONG_PASSWORD", "WRONG_PASSWORD", "WRONG_PASSWORD",
                                      "WRONG_PASSWORD; LOCKED", "LOCKED"}));
  EXPECT_EQ(Details("auth.change_password", "UNAUTHENTICATED"),
            (std::vector<std::string>{"UNKNOWN_USERNAME", "LOCKED"}));
  for (const std::string action : {"auth.login", "auth.change_password"}) {
    for (const audit::Entry& e : Audit(action)) {
      EXPECT_EQ(e.client_ip, Client().client_ip);
      EXPECT_EQ(e.request_id, "req-7");
      if (e.detail == "UNKNOWN_USERNAME" || e.detail == "OVERSIZED_CREDENTIALS") {
        EXPECT_EQ(e.resource, "");
        EXPECT_EQ(e.org_path, "/");
        EXPECT_EQ(e.actor, "anonymous");
      } else if (e.outcome != "OK") {
        EXPECT_EQ(e.resource, name);
        EXPECT_EQ(e.org_path, kOrgPath);  // the scope's auditors see it
      }
    }
  }
  auto all = service_->audit().log().List(*pool_, 0, 0, 500);
  ASSERT_TRUE(all.ok());
  for (const audit::Entry& e : *all) {
    for (const std::string& field : {e.actor, e.resource, e.detail}) {
      for (const char* secret : {"nobody", kWrong, kPassword, kNewPassword, kInitial}) {
        EXPECT_FALSE(absl::StrContains(field, secret)) << e.action << ": " << field;
      }
    }
  }
}

// 等保: a limit on failed sign-ins that locks. Strangers can reach it only from many addresses
// (one address is delayed long before, see below).
TEST_P(MemberServiceTest, FiftyFailuresFromAnywhereLockForThirtyMinutes) {
  const std::string name = NewAccount("li.na");
  auto session = Login("li.na", kPassword);
  ASSERT_TRUE(session.ok()) << session.status();
  LockAccount("li.na", 49);
  EXPECT_EQ(Row("li.na").failed_attempts, 49);
  EXPECT_EQ(Row("li.na").locked_until_us, 0);
  EXPECT_EQ(StateOf(name), pb::ACTIVE);

  Advance(kSecond);
  const int64_t locked_at = now_;
  ASSERT_FALSE(LoginFrom(From(Address(0x2000)), "li.na", kWrong).ok());
  const AccountRow locked = Row("li.na");
  EXPECT_EQ(locked.locked_until_us, locked_at + 30 * kMinute);
  EXPECT_EQ(locked.failed_attempts, 0);  // a fresh count once the lock ends
  EXPECT_EQ(StateOf(name), pb::LOCKED);
  EXPECT_EQ(Details("auth.login", "UNAUTHENTICATED").back(), "WRONG_PASSWORD; LOCKED");
  // A lock ends the sessions already open.
  ExpectRefused(Refresh(session->refresh_token()).status(), absl::StatusCode::kUnauthenticated,
                "REFRESH_TOKEN_INVALID");
  EXPECT_EQ(Audit("auth.refresh").back().detail, "SESSION_ENDED_BY_ACCOUNT_CHANGE");

  // Still locked up to the last microsecond, even with the right password; attempts meanwhile
  // neither count nor extend the lock.
  int address = 0x3000;
  for (const int64_t after :
       {int64_t{0}, kSecond, 29 * kMinute + 59 * kSecond, 30 * kMinute - kMicro}) {
    now_ = locked_at + after;
    ExpectRefused(LoginFrom(From(Address(++address)), "li.na", kPassword).status(),
                  absl::StatusCode::kUnauthenticated, "LOGIN_FAILED");
    ASSERT_FALSE(LoginFrom(From(Address(++address)), "li.na", kWrong).ok());
    EXPECT_EQ(Row("li.na").locked_until_us, locked_at + 30 * kMinute) << after;
    EXPECT_EQ(Row("li.na").failed_attempts, 0) << after;
  }
  EXPECT_EQ(Row("li.na").version, locked.version);  // nothing was written while locked

  now_ = locked_at + 30 * kMinute;
  EXPECT_EQ(StateOf(name), pb::ACTIVE);
  ASSERT_TRUE(Login("li.na", kPassword).ok());
  EXPECT_EQ(Row("li.na").failed_attempts, 0);
  EXPECT_EQ(Row("li.na").locked_until_us, 0);
  // The count starts again: 49 more failures do not lock.
  LockAccount("li.na", 49);
  EXPECT_EQ(Row("li.na").locked_until_us, 0);
  EXPECT_TRUE(Login("li.na", kPassword).ok());
}

// Failures counted a day before stop counting: the lock needs them within a day.
TEST_P(MemberServiceTest, FailuresADayApartDoNotAddUp) {
  NewAccount("ma.lin");
  LockAccount("ma.lin", 49);
  Advance(kDay);
  Advance(kSecond);
  ASSERT_FALSE(LoginFrom(From(Address(0x2000)), "ma.lin", kWrong).ok());
  EXPECT_EQ(Row("ma.lin").locked_until_us, 0);
  EXPECT_EQ(Row("ma.lin").failed_attempts, 1);
  EXPECT_TRUE(Login("ma.lin", kPassword).ok());
}

// The other half of the rule: after 5 failures for one username from one address, each further
// attempt from there waits (30 s, doubling, at most 30 minutes), whether or not the name exists;
// the owner elsewhere is not delayed, and nothing tells existing names from unknown ones.
TEST_P(MemberServiceTest, FailuresFromOneAddressWaitLongerEachTime) {
  NewAccount("sun.yu");
  const auth::Principal stranger = From(Address(0x66));
  for (int i = 1; i <= 5; ++i) {
    Advance(kSecond);
    for (const std::string name : {"sun.yu", "no.such.user"}) {
      ExpectRefused(LoginFrom(stranger, name, kWrong).status(), absl::StatusCode::kUnauthenticated,
                    "LOGIN_FAILED");
    }
  }
  // Both names wait alike, even with the right password.
  const absl::Status delayed = LoginFrom(stranger, "sun.yu", kPassword).status();
  ExpectRefused(delayed, absl::StatusCode::kResourceExhausted, "SIGN_IN_DELAYED");
  EXPECT_EQ(rpc::RetryDelay(delayed), std::chrono::seconds(30)) << delayed;
  EXPECT_EQ(LoginFrom(stranger, "no.such.user", kPassword).status(), delayed);
  EXPECT_EQ(Row("sun.yu").failed_attempts, 5);  // the waiting attempts did not count
  EXPECT_EQ(Details("auth.login", "RESOURCE_EXHAUSTED"),
            (std::vector<std::string>{"DELAYED", "DELAYED"}));

  // The owner, from their own address, is not delayed at all.
  auto owner = Login("sun.yu", kPassword);
  ASSERT_TRUE(owner.ok()) << owner.status();

  // Waited out, the next failure waits twice as long; each one longer, at most 30 minutes.
  Advance(30 * kSecond - kMicro);
  ExpectRefused(LoginFrom(stranger, "sun.yu", kWrong).status(),
                absl::StatusCode::kResourceExhausted, "SIGN_IN_DELAYED");
  Advance(kMicro);
  int64_t expected = 60;
  for (int i = 0; i < 8; ++i) {
    ExpectRefused(LoginFrom(stranger, "sun.yu", kWrong).status(),
                  absl::StatusCode::kUnauthenticated, "LOGIN_FAILED");
    const absl::Status wait = LoginFrom(stranger, "sun.yu", kWrong).status();
    EXPECT_EQ(rpc::RetryDelay(wait), std::chrono::seconds(expected)) << i << ": " << wait;
    Advance(expected * kSecond);
    expected = std::min<int64_t>(expected * 2, 30 * 60);
  }
  EXPECT_EQ(expected, 30 * 60);
  // The right password from the stranger's address clears the pair's count.
  ASSERT_TRUE(LoginFrom(stranger, "sun.yu", kPassword).ok());
  ExpectRefused(LoginFrom(stranger, "sun.yu", kWrong).status(), absl::StatusCode::kUnauthenticated,
                "LOGIN_FAILED");
  EXPECT_EQ(Row("sun.yu").locked_until_us, 0);
}

TEST_P(MemberServiceTest, ClockLimitsComeFromTheSettings) {
  const std::map<std::string, std::string> env;
  const char* argv[] = {"test",
                        "--login-max-failures=3",
                        "--login-delay-seconds=10",
                        "--account-lock-failures=4",
                        "--lockout-minutes=10",
                        "--password-max-age-days=30",
                        "--session-idle-minutes=5",
                        "--access-token-ttl-seconds=300"};
  auto config =
      runtime::Config::Load(MemberSettings(), static_cast<int>(std::size(argv)), argv, &env);
  ASSERT_TRUE(config.ok()) << config.status();
  Start(MemberOptionsFrom(*config));
  NewAccount("chen.jie");
  const int64_t changed_at = now_;

  // 3 failures from one address: the next attempt from there waits 10 seconds.
  ASSERT_FALSE(Login("chen.jie", kWrong).ok());
  ASSERT_FALSE(Login("chen.jie", kWrong).ok());
  ASSERT_FALSE(Login("chen.jie", kWrong).ok());
  const absl::Status wait = Login("chen.jie", kPassword).status();
  ExpectRefused(wait, absl::StatusCode::kResourceExhausted, "SIGN_IN_DELAYED");
  EXPECT_EQ(rpc::RetryDelay(wait), std::chrono::seconds(10));
  EXPECT_EQ(Row("chen.jie").locked_until_us, 0);
  // A 4th from anywhere locks for 10 minutes.
  ASSERT_FALSE(LoginFrom(From(Address(0x99)), "chen.jie", kWrong).ok());
  const int64_t locked_at = now_;
  EXPECT_EQ(Row("chen.jie").locked_until_us, locked_at + 10 * kMinute);
  now_ = locked_at + 9 * kMinute + 59 * kSecond;
  ExpectRefused(LoginFrom(From(Address(0x9a)), "chen.jie", kPassword).status(),
                absl::StatusCode::kUnauthenticated, "LOGIN_FAILED");
  now_ = locked_at + 10 * kMinute;
  auto tokens = Login("chen.jie", kPassword);
  ASSERT_TRUE(tokens.ok()) << tokens.status();

  // Access tokens live 300 seconds.
  EXPECT_EQ(tokens->expires_in(), 300);
  auto claims = signer_->Verify(tokens->access_token(), now_ / kSecond, 0);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->issued_at, now_ / kSecond);
  EXPECT_EQ(claims->expires_at, now_ / kSecond + 300);
  ExpectRefused(signer_->Verify(tokens->access_token(), now_ / kSecond + 301, 0).status(),
                absl::StatusCode::kUnauthenticated, "TOKEN_EXPIRED");

  // Sessions idle out after 5 minutes.
  Advance(5 * kMinute - kMicro);
  auto refreshed = Refresh(tokens->refresh_token());
  ASSERT_TRUE(refreshed.ok()) << refreshed.status();
  Advance(5 * kMinute);
  ExpectRefused(Refresh(refreshed->refresh_token()).status(), absl::StatusCode::kUnauthenticated,
                "REFRESH_TOKEN_INVALID");

  // Passwords expire after 30 days.
  ExpectExpiresAfter("chen.jie", kPassword, changed_at, 30 * kDay);
}

TEST_P(MemberServiceTest, PasswordExpiresAfterNinetyDays) {
  NewAccount("zhou.yan");
  const int64_t changed_at = now_;
  EXPECT_EQ(Row("zhou.yan").password_changed_us, changed_at);
  struct Case {
    int64_t after;
    bool expired;
  };
  for (const Case& c :
       {Case{89 * kDay + 23 * kHour + 59 * kMinute, false}, Case{90 * kDay - kMicro, false},
        Case{90 * kDay, true}, Case{90 * kDay + kMicro, true}, Case{400 * kDay, true}}) {
    now_ = changed_at + c.after;
    const absl::Status s = Login("zhou.yan", kPassword).status();
    if (c.expired) {
      ExpectRefused(s, absl::StatusCode::kFailedPrecondition, "PASSWORD_CHANGE_REQUIRED");
      EXPECT_TRUE(absl::StrContains(s.message(), "expired")) << s;
    } else {
      EXPECT_TRUE(s.ok()) << c.after << ": " << s;
    }
  }
  // An expired password is still proven first: a wrong one is the plain failure.
  ExpectRefused(Login("zhou.yan", kWrong).status(), absl::StatusCode::kUnauthenticated,
                "LOGIN_FAILED");
  EXPECT_EQ(Details("auth.login", "FAILED_PRECONDITION"),
            (std::vector<std::string>(3, "PASSWORD_CHANGE_REQUIRED")));

  // The expired password still proves who is changing it.
  ASSERT_TRUE(ChangePassword("zhou.yan", kPassword, kNewPassword).ok());
  const int64_t changed_again = now_;
  ExpectRefused(Login("zhou.yan", kPassword).status(), absl::StatusCode::kUnauthenticated,
                "LOGIN_FAILED");
  EXPECT_TRUE(Login("zhou.yan", kNewPassword).ok());
  ExpectExpiresAfter("zhou.yan", kNewPassword, changed_again, 90 * kDay);
}

TEST_P(MemberServiceTest, ResetPasswordMustBeChangedAtFirstLogin) {
  const std::string name = NewAccount("zhao.min");
  auto session = Login("zhao.min", kPassword);
  ASSERT_TRUE(session.ok()) << session.status();
  const AccountRow before = Row("zhao.min");

  // Refused resets write nothing but their audit row: a secretary of the same organization may
  // read the account but not reset it; one elsewhere cannot see it at all.
  const auth::Principal secretary{.subject = "accounts/77", .roles = {"secretary"}, .scope_org = 5};
  const auth::Principal elsewhere{.subject = "accounts/78", .roles = {"org_admin"}, .scope_org = 6};
  ExpectRefused(Reset(secretary, name, kNewPassword), absl::StatusCode::kPermissionDenied,
                "PERMISSION_DENIED");
  const absl::Status hidden = Reset(elsewhere, name, kNewPassword);
  EXPECT_EQ(hidden.code(), absl::StatusCode::kNotFound) << hidden;
  EXPECT_EQ(rpc::Reason(hidden), rpc::Reason(Reset(Admin(), "accounts/999", kNewPassword)));
  ExpectField(Reset(Admin(), name, "short"), "new_password");
  ExpectField(Reset(Admin(), "members/1", kNewPassword), "name");
  EXPECT_EQ(Row("zhao.min").version, before.version);
  EXPECT_EQ(Details("accounts.reset_password", "PERMISSION_DENIED").size(), 1u);
  EXPECT_EQ(Details("accounts.reset_password", "NOT_FOUND").size(), 2u);

  // A reset also lifts a lock.
  LockAccount("zhao.min");
  ASSERT_NE(Row("zhao.min").locked_until_us, 0);
  Advance(kMinute);
  ASSERT_TRUE(Reset(Admin(), name, kInitial).ok());
  const AccountRow reset = Row("zhao.min");
  EXPECT_TRUE(reset.must_change);
  EXPECT_EQ(reset.password_changed_us, now_);
  EXPECT_EQ(reset.locked_until_us, 0);
  EXPECT_EQ(reset.failed_attempts, 0);
  const audit::Entry done = Audit("accounts.reset_password").back();
  EXPECT_EQ(done.outcome, "OK");
  EXPECT_EQ(done.resource, name);
  EXPECT_EQ(done.org_path, kOrgPath);

  // The session from before the reset is over.
  ExpectRefused(Refresh(session->refresh_token()).status(), absl::StatusCode::kUnauthenticated,
                "REFRESH_TOKEN_INVALID");
  EXPECT_EQ(Audit("auth.refresh").back().detail, "SESSION_ENDED_BY_ACCOUNT_CHANGE");

  Advance(kMinute);
  ExpectRefused(Login("zhao.min", kPassword).status(), absl::StatusCode::kUnauthenticated,
                "LOGIN_FAILED");
  ExpectRefused(Login("zhao.min", kInitial).status(), absl::StatusCode::kFailedPrecondition,
                "PASSWORD_CHANGE_REQUIRED");
  ASSERT_TRUE(ChangePassword("zhao.min", kInitial, kNewPassword).ok());
  EXPECT_FALSE(Row("zhao.min").must_change);
  EXPECT_TRUE(Login("zhao.min", kNewPassword).ok());
}

TEST_P(MemberServiceTest, RefreshTokenIdlesOutAfterThirtyMinutes) {
  NewAccount("sun.hao");
  struct Case {
    int64_t idle;
    bool valid;
  };
  for (const Case& c :
       {Case{kMicro, true}, Case{29 * kMinute + 59 * kSecond, true},
        Case{30 * kMinute - kMicro, true}, Case{30 * kMinute, false}, Case{2 * kHour, false}}) {
    auto tokens = Login("sun.hao", kPassword);
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    Advance(c.idle);
    auto refreshed = Refresh(tokens->refresh_token());
    if (c.valid) {
      ASSERT_TRUE(refreshed.ok()) << c.idle << ": " << refreshed.status();
      EXPECT_NE(refreshed->refresh_token(), tokens->refresh_token());
      EXPECT_EQ(refreshed->account(), tokens->account());
      auto claims = signer_->Verify(refreshed->access_token(), now_ / kSecond, 0);
      ASSERT_TRUE(claims.ok()) << claims.status();
      EXPECT_EQ(claims->expires_at, now_ / kSecond + 900);
    } else {
      ExpectRefused(refreshed.status(), absl::StatusCode::kUnauthenticated,
                    "REFRESH_TOKEN_INVALID");
    }
  }

  // Idle time counts from the last refresh, not from sign-in.
  auto tokens = Login("sun.hao", kPassword);
  ASSERT_TRUE(tokens.ok());
  std::string token = tokens->refresh_token();
  for (int i = 0; i < 3; ++i) {
    Advance(29 * kMinute + 59 * kSecond);
    auto next = Refresh(token);
    ASSERT_TRUE(next.ok()) << i << ": " << next.status();
    token = next->refresh_token();
  }
  Advance(30 * kMinute);
  ExpectRefused(Refresh(token).status(), absl::StatusCode::kUnauthenticated,
                "REFRESH_TOKEN_INVALID");
}

TEST_P(MemberServiceTest, SessionsEndTwelveHoursAfterSignIn) {
  NewAccount("he.ping");
  auto tokens = Login("he.ping", kPassword);
  ASSERT_TRUE(tokens.ok());
  const int64_t signed_in = now_;
  std::string token = tokens->refresh_token();
  while (now_ + 25 * kMinute < signed_in + 12 * kHour) {
    Advance(25 * kMinute);
    auto next = Refresh(token);
    ASSERT_TRUE(next.ok()) << (now_ - signed_in) / kMinute << ": " << next.status();
    token = next->refresh_token();
  }
  now_ = signed_in + 12 * kHour;
  auto last = Refresh(token);
  ASSERT_TRUE(last.ok()) << last.status();
  Advance(kMicro);
  ExpectRefused(Refresh(last->refresh_token()).status(), absl::StatusCode::kUnauthenticated,
                "REFRESH_TOKEN_INVALID");
}

TEST_P(MemberServiceTest, ReusedRefreshTokenRevokesTheSession) {
  const std::string name = NewAccount("qian.yu");
  auto stolen = Login("qian.yu", kPassword);
  auto other = Login("qian.yu", kPassword);  // the same person on another device
  ASSERT_TRUE(stolen.ok() && other.ok());
  Advance(kMinute);
  auto rotated = Refresh(stolen->refresh_token());
  ASSERT_TRUE(rotated.ok()) << rotated.status();

  Advance(kMinute);
  ExpectRefused(Refresh(stolen->refresh_token()).status(), absl::StatusCode::kUnauthenticated,
                "REFRESH_TOKEN_REUSED");
  // The whole session is revoked: the current token of it too, for whoever holds it.
  ExpectRefused(Refresh(rotated->refresh_token()).status(), absl::StatusCode::kUnauthenticated,
                "REFRESH_TOKEN_INVALID");
  EXPECT_EQ(Details("auth.refresh", "UNAUTHENTICATED"),
            std::vector<std::string>{"REFRESH_TOKEN_REUSED"});
  // Other sessions of the account go on.
  auto still = Refresh(other->refresh_token());
  ASSERT_TRUE(still.ok()) << still.status();

  // Logout ends a session; unknown and malformed tokens are refused alike.
  pb::LogoutRequest out;
  out.set_refresh_token(still->refresh_token());
  ASSERT_TRUE(service_->Logout(Client(), out).ok());
  ExpectRefused(Refresh(still->refresh_token()).status(), absl::StatusCode::kUnauthenticated,
                "REFRESH_TOKEN_INVALID");
  EXPECT_EQ(Audit("auth.logout").back().resource, name);
  for (const std::string& token :
       std::vector<std::string>{"rt1.AAAA", "not-a-token", std::string(200, 'x')}) {
    ExpectRefused(Refresh(token).status(), absl::StatusCode::kUnauthenticated,
                  "REFRESH_TOKEN_INVALID");
  }
  ExpectField(Refresh("").status(), "refresh_token");
}

// What the gateways poll: each revocation with what it refuses (a session, or an account's
// tokens below an epoch) and how long it is kept; only the gateway may ask.
TEST_P(MemberServiceTest, RevocationsAreListedForTheGatewayOnly) {
  const std::string name = NewAccount("lu.xin");
  auto first = Login("lu.xin", kPassword);
  ASSERT_TRUE(first.ok());
  auto claims = signer_->Verify(first->access_token(), now_ / kSecond, 0);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_FALSE(claims->session_id.empty());
  const int64_t epoch = claims->epoch;

  pb::ListRevocationsRequest all;
  auto none = service_->ListRevocations(auth::SystemPrincipal(), all);
  ASSERT_TRUE(none.ok()) << none.status();
  const int before = none->revocations_size();

  // A logout revokes that session.
  Advance(kSecond);
  pb::LogoutRequest out;
  out.set_refresh_token(first->refresh_token());
  ASSERT_TRUE(service_->Logout(Client(), out).ok());
  // A reset revokes every earlier token of the account.
  Advance(kSecond);
  ASSERT_TRUE(Reset(Admin(), name, kInitial).ok());

  auto listed = service_->ListRevocations(auth::SystemPrincipal(), all);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->revocations_size(), before + 2);
  const pb::Revocation& session = listed->revocations(before);
  EXPECT_EQ(session.session(), claims->session_id);
  EXPECT_EQ(session.account(), name);
  const pb::Revocation& account = listed->revocations(before + 1);
  EXPECT_EQ(account.session(), "");
  EXPECT_EQ(account.account(), name);
  EXPECT_EQ(account.min_epoch(), epoch + 1);
  // Kept until every token it refuses has expired (15 minutes), with a minute for clocks.
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(account.expire_time()), now_ + 16 * kMinute);
  // The next poll starts a minute back, so a write committed late is not missed.
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(listed->next_since()), now_ - kMinute);
  pb::ListRevocationsRequest later;
  *later.mutable_since() = TimeUtil::MicrosecondsToTimestamp(now_ + kSecond);
  EXPECT_EQ(service_->ListRevocations(auth::SystemPrincipal(), later)->revocations_size(), 0);
  // Expired ones are no longer listed.
  Advance(16 * kMinute);
  EXPECT_EQ(service_->ListRevocations(auth::SystemPrincipal(), all)->revocations_size(), 0);

  // Nobody else may ask: the list says who signed out when.
  const absl::Status refused = service_->ListRevocations(Admin(), all).status();
  ExpectRefused(refused, absl::StatusCode::kPermissionDenied, "GATEWAY_ONLY");
  EXPECT_EQ(Details("auth.revocations.list", "PERMISSION_DENIED").size(), 1u);
}

// An id collision (another process already used the id this one draws, as two processes with
// one node id would) is answered as a conflict to retry, never as USERNAME_TAKEN: only a
// duplicate on the username's own index says that (db::DuplicateKeyOn).
TEST_P(MemberServiceTest, AccountIdCollisionIsNotUsernameTaken) {
  constexpr int64_t kStoppedMs = ids::IdGenerator::kEpochMs + int64_t{86'400'000} * 900;
  ids_ = std::make_unique<ids::IdGenerator>(7, [] { return kStoppedMs; });
  Start(MemberServiceOptions{});
  const int64_t next = ids_->Next() + 1;  // a stopped clock: the service draws this one next
  {
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok());
    AccountRow other{.id = next, .username = "someone.else", .password_hash = "x"};
    ASSERT_TRUE(AccountStore::Insert(**lease, other).ok());
  }
  pb::CreateAccountRequest r;
  r.mutable_account()->set_username("zhang.san");
  r.mutable_account()->add_roles(pb::SECRETARY);
  r.mutable_account()->set_scope(kOrg);
  r.set_initial_password(kInitial);
  const absl::Status collided = service_->CreateAccount(Admin(), r).status();
  EXPECT_EQ(collided.code(), absl::StatusCode::kAborted) << collided;
  EXPECT_NE(rpc::Reason(collided), "USERNAME_TAKEN") << collided;
  EXPECT_EQ(rpc::ToGrpcStatus(collided, "member.dangjian").error_code(), grpc::StatusCode::ABORTED);
  auto retried = service_->CreateAccount(Admin(), r);  // a fresh id
  ASSERT_TRUE(retried.ok()) << retried.status();
  const absl::Status twin = service_->CreateAccount(Admin(), r).status();
  EXPECT_EQ(twin.code(), absl::StatusCode::kAlreadyExists) << twin;
  EXPECT_EQ(rpc::Reason(twin), "USERNAME_TAKEN") << twin;
}

// A create retried with the same request_id (a phone on a bad line) makes one account; the key
// is the caller's own, and it cannot be reused for another account.
TEST_P(MemberServiceTest, CreateAccountIsIdempotentByRequestId) {
  pb::CreateAccountRequest r;
  r.mutable_account()->set_username("li.si");
  r.mutable_account()->add_roles(pb::SECRETARY);
  r.mutable_account()->set_scope(kOrg);
  r.set_initial_password(kInitial);
  r.set_request_id("create-li-si-0001");
  auto first = service_->CreateAccount(Admin(), r);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = service_->CreateAccount(Admin(), r);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name(), first->name());
  EXPECT_EQ(again->etag(), first->etag());

  pb::CreateAccountRequest other = r;
  other.mutable_account()->set_username("wang.wu");
  const absl::Status reused = service_->CreateAccount(Admin(), other).status();
  EXPECT_EQ(reused.code(), absl::StatusCode::kAlreadyExists) << reused;
  EXPECT_EQ(rpc::Reason(reused), "REQUEST_ID_REUSED") << reused;
  EXPECT_FALSE(AccountStore(*pool_).GetByUsername("wang.wu")->has_value());

  // Another administrator's identical request is a request of their own: the name is taken.
  auth::Principal second = Admin();
  second.subject = "accounts/2";
  const absl::Status twin = service_->CreateAccount(second, r).status();
  EXPECT_EQ(rpc::Reason(twin), "USERNAME_TAKEN") << twin;

  r.set_request_id("x");
  const absl::Status bad = service_->CreateAccount(Admin(), r).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;
  EXPECT_NE(bad.message().find("request_id"), std::string_view::npos) << bad;
}

// Two moves of the tree delivered backwards (the first one failed and is pending): A (/1/5/) goes
// under 8, then its branch 23 goes under 9. Applied in that order every scope is right; applied
// backwards the second finds no /1/8/5/23/ yet and the first then carries 23 along under 8. The
// consumer must hold the second back until the first is in.
TEST_P(MemberServiceTest, MovesOfTheTreeAreAppliedInTheirOrderOnly) {
  InsertAccount(901, "secretary.a", 5, "/1/5/");
  InsertAccount(902, "secretary.b", 23, "/1/5/23/");
  const auto move = &MemberServiceTest::Moved;
  const events::Event first = move(7001, 1, "organizations/5", "/1/5/", "/1/8/5/");
  const events::Event second = move(7002, 2, "organizations/23", "/1/8/5/23/", "/1/9/23/");

  const absl::Status early = service_->OnOrganizationEvent(second);
  EXPECT_EQ(early.code(), absl::StatusCode::kUnavailable) << early;  // delivered again later
  EXPECT_EQ(Row("secretary.b").scope_path, "/1/5/23/");              // untouched

  ASSERT_TRUE(service_->OnOrganizationEvent(first).ok());
  ASSERT_TRUE(service_->OnOrganizationEvent(second).ok());
  ASSERT_TRUE(service_->OnOrganizationEvent(first).ok());  // redeliveries change nothing
  ASSERT_TRUE(service_->OnOrganizationEvent(second).ok());
  EXPECT_EQ(Row("secretary.a").scope_path, "/1/8/5/");
  EXPECT_EQ(Row("secretary.b").scope_path, "/1/9/23/");
}

// An account's scope_path is a copy that follows moves through the org events. Between a move
// and this service applying it, a caller whose subtree the account has left must not reach it
// through the stale copy; the org service's current path decides. Until the move is applied, the
// new subtree does not see it yet (refused, never wrongly granted).
TEST_P(MemberServiceTest, AStalePathNeverGrantsAnAccountThatMovedAway) {
  InsertAccount(903, "clerk.c", 23, "/1/8/23/");
  const auth::Principal of8{
      .subject = "accounts/81", .roles = {"secretary"}, .scope_org = 8, .username = "sec8"};
  const auth::Principal of9{
      .subject = "accounts/91", .roles = {"secretary"}, .scope_org = 9, .username = "sec9"};
  auto get = [&](const auth::Principal& who) {
    pb::GetAccountRequest r;
    r.set_name("accounts/903");
    return service_->GetAccount(who, r).status();
  };
  auto listed = [&](const auth::Principal& who) {
    pb::ListAccountsRequest r;
    auto out = service_->ListAccounts(who, r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() && std::any_of(out->accounts().begin(), out->accounts().end(),
                                   [](const pb::Account& a) { return a.name() == "accounts/903"; });
  };

  org_now_["organizations/23"] = "/1/8/23/";
  EXPECT_TRUE(get(of8).ok());
  EXPECT_TRUE(listed(of8));
  EXPECT_EQ(get(of9).code(), absl::StatusCode::kNotFound);

  // 23 moves under 9; the event has not reached this service.
  org_now_["organizations/23"] = "/1/9/23/";
  const absl::Status moved_away = get(of8);
  EXPECT_EQ(moved_away.code(), absl::StatusCode::kNotFound) << moved_away;
  EXPECT_EQ(moved_away.message(), get(of9).message());  // exactly like missing
  EXPECT_FALSE(listed(of8));
  EXPECT_EQ(get(of9).code(), absl::StatusCode::kNotFound);  // not yet: refused, not granted

  // The org service unreachable: a grant that rests on the copy is not given.
  org_down_ = true;
  EXPECT_EQ(get(of8).code(), absl::StatusCode::kUnavailable);
  // A whole-tree administrator needs no path, and asks nothing.
  const int before = org_lookups_;
  EXPECT_TRUE(get(Admin()).ok());
  EXPECT_EQ(org_lookups_, before);
  org_down_ = false;

  // Once the move is applied, the copy and the org service agree again.
  ASSERT_TRUE(
      service_->OnOrganizationEvent(Moved(7101, 1, "organizations/23", "/1/8/23/", "/1/9/23/"))
          .ok());
  EXPECT_EQ(Row("clerk.c").scope_path, "/1/9/23/");
  EXPECT_TRUE(get(of9).ok());
  EXPECT_TRUE(listed(of9));
  EXPECT_EQ(get(of8).code(), absl::StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Databases, MemberServiceTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::member
