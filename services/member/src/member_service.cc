// Accounts and sign-in.
#include "services/member/src/member_service.h"

#include <algorithm>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/time/clock.h"
#include "common/audit/caller.h"
#include "common/crypto/crypto.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"
#include "dangjian/org/v1/events.pb.h"
#include "dangjian/org/v1/org.grpc.pb.h"
#include "google/protobuf/util/time_util.h"

namespace dj::member {
namespace {

namespace pb = dangjian::member::v1;
using google::protobuf::util::TimeUtil;

constexpr std::string_view kAccounts = "accounts";

absl::Status LoginFailed() {
  // One answer for every failure, so it never tells whether the username exists.
  return rpc::Error(absl::StatusCode::kUnauthenticated, "LOGIN_FAILED",
                    "wrong username or password, or the account is locked after repeated "
                    "failures; try again later");
}

absl::Status AccountNotFound(std::string_view name) {
  return rpc::Error(absl::StatusCode::kNotFound, "ACCOUNT_NOT_FOUND",
                    absl::StrCat(AV(name), " does not exist"));
}

std::string RoleName(pb::Role role) { return absl::AsciiStrToLower(pb::Role_Name(role)); }

bool ValidUsername(std::string_view u) {
  static const std::regex kPattern("[a-z][a-z0-9._-]{2,63}");
  return std::regex_match(u.begin(), u.end(), kPattern);
}

std::string NewTokenId() { return crypto::Hex(crypto::RandomBytes(12)); }

auth::LoginState StateOf(const AccountRow& a) {
  return {a.failed_attempts, a.locked_until_us, a.password_changed_us, a.must_change};
}

void Apply(const auth::LoginState& s, AccountRow* a) {
  a->failed_attempts = s.failed_attempts;
  a->locked_until_us = s.locked_until_us;
}

}  // namespace

// --- gRPC adapters: who is calling, then the operation, then the reply ---

class MemberService::AuthGrpc final : public pb::AuthService::Service {
 public:
  explicit AuthGrpc(MemberService& s) : s_(s) {}
  grpc::Status Login(grpc::ServerContext* ctx, const pb::LoginRequest* req,
                     pb::TokenResponse* resp) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.Login(who, *req), resp);
    });
  }
  grpc::Status Refresh(grpc::ServerContext* ctx, const pb::RefreshRequest* req,
                       pb::TokenResponse* resp) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.Refresh(who, *req), resp);
    });
  }
  grpc::Status Logout(grpc::ServerContext* ctx, const pb::LogoutRequest* req,
                      google::protobuf::Empty*) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.Logout(who, *req));
    });
  }
  grpc::Status ChangePassword(grpc::ServerContext* ctx, const pb::ChangePasswordRequest* req,
                              google::protobuf::Empty*) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.ChangePassword(who, *req));
    });
  }
  grpc::Status RecordTokenRefusals(grpc::ServerContext* ctx,
                                   const pb::RecordTokenRefusalsRequest* req,
                                   google::protobuf::Empty*) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.RecordTokenRefusals(who, *req));
    });
  }

 private:
  template <typename Fn>
  grpc::Status Call(grpc::ServerContext* ctx, Fn&& fn) {
    return s_.WithCaller(*ctx, std::forward<Fn>(fn));
  }
  MemberService& s_;
};

class MemberService::AccountGrpc final : public pb::AccountService::Service {
 public:
  explicit AccountGrpc(MemberService& s) : s_(s) {}
  grpc::Status CreateAccount(grpc::ServerContext* ctx, const pb::CreateAccountRequest* req,
                             pb::Account* resp) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.CreateAccount(who, *req), resp);
    });
  }
  grpc::Status GetAccount(grpc::ServerContext* ctx, const pb::GetAccountRequest* req,
                          pb::Account* resp) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.GetAccount(who, *req), resp);
    });
  }
  grpc::Status ListAccounts(grpc::ServerContext* ctx, const pb::ListAccountsRequest* req,
                            pb::ListAccountsResponse* resp) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.ListAccounts(who, *req), resp);
    });
  }
  grpc::Status ResetPassword(grpc::ServerContext* ctx, const pb::ResetPasswordRequest* req,
                             google::protobuf::Empty*) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.ResetPassword(who, *req));
    });
  }
  grpc::Status ListAuditEntries(grpc::ServerContext* ctx,
                                const dangjian::audit::v1::ListAuditEntriesRequest* req,
                                dangjian::audit::v1::ListAuditEntriesResponse* resp) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.audit_.List(who, *req), resp);
    });
  }
  grpc::Status VerifyAuditLog(grpc::ServerContext* ctx,
                              const dangjian::audit::v1::VerifyAuditLogRequest* req,
                              dangjian::audit::v1::VerifyAuditLogResponse* resp) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.audit_.Verify(who, *req), resp);
    });
  }

 private:
  template <typename Fn>
  grpc::Status Call(grpc::ServerContext* ctx, Fn&& fn) {
    return s_.WithCaller(*ctx, std::forward<Fn>(fn));
  }
  MemberService& s_;
};

OrgPathLookup OrgPathsOver(std::shared_ptr<grpc::Channel> org, const auth::InternalAuth& auth) {
  auto stub = std::shared_ptr<dangjian::org::v1::OrganizationService::Stub>(
      dangjian::org::v1::OrganizationService::NewStub(std::move(org)));
  return [stub, &auth](const auth::Principal& who,
                       std::string_view name) -> absl::StatusOr<std::string> {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    auth.Attach(ctx, who);
    dangjian::org::v1::GetOrganizationRequest request;
    request.set_name(std::string(name));
    dangjian::org::v1::Organization out;
    grpc::Status s = stub->GetOrganization(&ctx, request, &out);
    if (!s.ok()) {
      return rpc::FromGrpcStatus(s);
    }
    return out.path();
  };
}

MemberService::MemberService(db::Pool& pool, cache::Cache& cache, ids::IdGenerator& ids,
                             const auth::InternalAuth& auth, auth::JwtSigner signer,
                             std::string audit_key, OrgPathLookup org_paths,
                             MemberServiceOptions options)
    : store_(pool),
      sessions_(cache, options.sessions),
      ids_(ids),
      auth_(auth),
      signer_(std::move(signer)),
      audit_(pool, std::move(audit_key), "auditLogs/member"),
      org_paths_(std::move(org_paths)),
      options_(std::move(options)),
      auth_grpc_(std::make_unique<AuthGrpc>(*this)),
      account_grpc_(std::make_unique<AccountGrpc>(*this)) {
  auto dummy = auth::HashPassword(options_.policy, crypto::Hex(crypto::RandomBytes(16)));
  dummy_hash_ = dummy.ok() ? *dummy : "";
}

MemberService::~MemberService() = default;

grpc::Service* MemberService::auth_service() { return auth_grpc_.get(); }
grpc::Service* MemberService::account_service() { return account_grpc_.get(); }

int64_t MemberService::NowUs() const {
  if (options_.now_us) {
    return options_.now_us();
  }
  return time::NowMicros();
}

absl::Status MemberService::Bootstrap(std::string_view password) {
  absl::StatusOr<int64_t> count = 0;
  {
    auto lease = store_.pool().Acquire();
    if (!lease.ok()) {
      return lease.status();
    }
    count = AccountStore::Count(**lease);
  }
  if (!count.ok()) {
    return count.status();
  }
  if (*count > 0) {
    return absl::OkStatus();
  }
  if (password.empty()) {
    return absl::FailedPreconditionError(
        "there are no accounts yet: give the first administrator's password with "
        "DJ_BOOTSTRAP_ADMIN_PASSWORD or --bootstrap-admin-password-file");
  }
  if (absl::Status s = auth::CheckPasswordStrength(options_.policy, password,
                                                   "bootstrap admin password");
      !s.ok()) {
    return absl::InvalidArgumentError(s.message());
  }
  auto hash = auth::HashPassword(options_.policy, password);
  if (!hash.ok()) {
    return hash.status();
  }
  AccountRow admin;
  admin.id = ids_.Next();
  admin.username = "admin";
  admin.password_hash = *hash;
  admin.roles = {"committee_admin"};
  admin.create_time_us = admin.update_time_us = admin.password_changed_us = NowUs();
  admin.must_change = true;
  audit::Entry entry = audit::Recorder::For(auth::SystemPrincipal(), "accounts.bootstrap",
                                            rpc::FormatName(kAccounts, admin.id), "/");
  return audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    auto again = AccountStore::Count(c);
    if (!again.ok()) {
      return again.status();
    }
    if (*again > 0) {
      return absl::OkStatus();  // another replica bootstrapped first
    }
    return AccountStore::Insert(c, admin);
  });
}

// --- sign-in ---

absl::StatusOr<AccountRow> MemberService::Authenticate(std::string_view username,
                                                       std::string_view password,
                                                       audit::Entry& entry) {
  if (username.size() > 64 || password.size() > 256) {
    // No account has such a name and no hash is worth that work: refused before any lookup,
    // still recorded (a probe, most likely) and answered like any other failure.
    entry.detail = "OVERSIZED_CREDENTIALS";
    (void)audit_.Record(entry, LoginFailed());
    return LoginFailed();
  }
  auto found = store_.GetByUsername(username);
  if (!found.ok()) {
    return found.status();
  }
  if (!found->has_value()) {
    (void)auth::VerifyPassword(dummy_hash_, password);  // same work as for a real account
    entry.detail = "UNKNOWN_USERNAME";  // the attempted name is not kept: it may be a password
    (void)audit_.Record(entry, LoginFailed());
    return LoginFailed();
  }
  const AccountRow& account = **found;
  entry.resource = rpc::FormatName(kAccounts, account.id);
  entry.org_path = account.scope_path;
  const int64_t now = NowUs();
  if (auth::IsLocked(StateOf(account), now)) {
    entry.detail = "LOCKED";
    (void)audit_.Record(entry, LoginFailed());
    return LoginFailed();
  }
  if (auth::VerifyPassword(account.password_hash, password)) {
    return account;
  }
  // Count the failure on the current row (another attempt may have counted one meanwhile).
  absl::Status counted = store_.pool().Transact([&](db::Connection& c) -> absl::Status {
    auto row = AccountStore::Find(c, account.id, /*for_update=*/true);
    if (!row.ok() || !row->has_value()) {
      return row.status();
    }
    AccountRow a = **row;
    const auth::LoginState after = auth::AfterFailure(options_.policy, StateOf(a), now);
    entry.detail = after.locked_until_us > now ? "WRONG_PASSWORD; LOCKED" : "WRONG_PASSWORD";
    Apply(after, &a);
    a.update_time_us = now;
    if (absl::Status s = AccountStore::UpdateCredentials(c, a); !s.ok()) {
      return s;
    }
    audit::Entry failed = entry;
    failed.outcome = audit::OutcomeOf(LoginFailed());
    return audit_.log().Append(c, failed).status();
  });
  if (!counted.ok()) {
    return counted;
  }
  return LoginFailed();
}

absl::StatusOr<pb::TokenResponse> MemberService::Tokens(const AccountRow& account,
                                                        std::string refresh_token) {
  const int64_t now_s = NowUs() / 1'000'000;
  auth::Claims claims{.subject = rpc::FormatName(kAccounts, account.id),
                      .username = account.username,
                      .roles = account.roles,
                      .scope = account.scope_org == 0
                                   ? ""
                                   : rpc::FormatName("organizations", account.scope_org),
                      .member = account.member,
                      .token_id = NewTokenId(),
                      .issued_at = now_s,
                      .expires_at = now_s + options_.access_token_ttl.count()};
  pb::TokenResponse out;
  out.set_access_token(signer_.Sign(claims));
  out.set_refresh_token(std::move(refresh_token));
  out.set_expires_in(static_cast<int32_t>(options_.access_token_ttl.count()));
  out.set_token_type("Bearer");
  out.set_account(claims.subject);
  return out;
}

absl::StatusOr<pb::TokenResponse> MemberService::Login(const auth::Principal& who,
                                                       const pb::LoginRequest& request) {
  if (request.username().empty()) {
    return rpc::InvalidArgument({{"username", "required"}});
  }
  if (request.password().empty()) {
    return rpc::InvalidArgument({{"password", "required"}});
  }
  audit::Entry entry = audit::Recorder::For(who, "auth.login", "", "/");
  auto account = Authenticate(request.username(), request.password(), entry);
  if (!account.ok()) {
    return account.status();
  }
  entry.actor = rpc::FormatName(kAccounts, account->id);
  const int64_t now = NowUs();
  auth::LoginState state = StateOf(*account);
  const auth::LoginCheck check = auth::AfterSuccess(options_.policy, &state, now);
  absl::Status outcome = absl::OkStatus();
  if (check != auth::LoginCheck::kOk) {
    outcome = rpc::Error(
        absl::StatusCode::kFailedPrecondition, "PASSWORD_CHANGE_REQUIRED",
        check == auth::LoginCheck::kExpired
            ? "the password has expired; change it with POST /v1/auth:changePassword"
            : "this password was set for you; change it with POST /v1/auth:changePassword "
              "before signing in");
  }
  absl::Status written = store_.pool().Transact([&](db::Connection& c) -> absl::Status {
    if (account->failed_attempts != 0 || account->locked_until_us != 0) {
      AccountRow a = *account;
      Apply(state, &a);
      a.update_time_us = now;
      if (absl::Status s = AccountStore::UpdateCredentials(c, a); !s.ok()) {
        return s;
      }
    }
    audit::Entry done = entry;
    done.outcome = audit::OutcomeOf(outcome);
    done.detail = outcome.ok() ? "" : rpc::Reason(outcome);
    return audit_.log().Append(c, done).status();
  });
  if (!written.ok()) {
    return written;
  }
  if (!outcome.ok()) {
    return outcome;
  }
  auto refresh = sessions_.Start(account->id, now);
  if (!refresh.ok()) {
    return refresh.status();
  }
  return Tokens(*account, *std::move(refresh));
}

absl::StatusOr<pb::TokenResponse> MemberService::Refresh(const auth::Principal& who,
                                                         const pb::RefreshRequest& request) {
  if (request.refresh_token().empty()) {
    return rpc::InvalidArgument({{"refresh_token", "required"}});
  }
  audit::Entry entry = audit::Recorder::For(who, "auth.refresh", "", "/");
  auto rotated = sessions_.Rotate(request.refresh_token(), NowUs());
  if (!rotated.ok()) {
    if (rpc::Reason(rotated.status()) == "REFRESH_TOKEN_REUSED") {
      (void)audit_.Record(entry, rotated.status());  // a stolen token, most likely
    }
    return rotated.status();
  }
  const auto& [session, next] = *rotated;
  auto account = store_.Get(session.account_id);
  if (!account.ok()) {
    return account.status();
  }
  // A password change or reset since sign-in, or a lock, ends the session.
  if (!account->has_value() || (*account)->password_changed_us > session.started_us ||
      auth::IsLocked(StateOf(**account), NowUs())) {
    (void)sessions_.End(next);
    entry.resource = rpc::FormatName(kAccounts, session.account_id);
    entry.detail = "SESSION_ENDED_BY_ACCOUNT_CHANGE";
    const absl::Status refused =
        rpc::Error(absl::StatusCode::kUnauthenticated, "REFRESH_TOKEN_INVALID",
                   "the session has ended; sign in again");
    (void)audit_.Record(entry, refused);
    return refused;
  }
  return Tokens(**account, next);
}

absl::Status MemberService::Logout(const auth::Principal& who, const pb::LogoutRequest& request) {
  if (request.refresh_token().empty()) {
    return rpc::InvalidArgument({{"refresh_token", "required"}});
  }
  auto ended = sessions_.End(request.refresh_token());
  if (!ended.ok()) {
    return ended.status();
  }
  if (ended->account_id != 0) {
    audit::Entry entry = audit::Recorder::For(who, "auth.logout",
                                              rpc::FormatName(kAccounts, ended->account_id), "/");
    entry.actor = entry.resource;
    (void)audit_.Record(entry, absl::OkStatus());
  }
  return absl::OkStatus();
}

absl::Status MemberService::OnOrganizationEvent(const events::Event& event) {
  if (event.type != dangjian::org::v1::OrganizationMoved::descriptor()->full_name()) {
    return absl::OkStatus();
  }
  dangjian::org::v1::OrganizationMoved moved;
  if (!moved.ParseFromString(event.payload) || moved.old_path().empty() ||
      moved.new_path().empty() || moved.old_path().back() != '/') {
    // Not retryable: a broken event would block the stream; log it and take it.
    log::Error("unreadable OrganizationMoved event", {{"event", absl::StrCat(event.id)}});
    return absl::OkStatus();
  }
  return events::ApplyOnce(
      store_.pool(), "member.accounts", event,
      [&](db::Connection& c) -> absl::Status {
        auto changed = AccountStore::RewriteScopePaths(c, moved.old_path(), moved.new_path());
        if (!changed.ok()) {
          return changed.status();
        }
        if (*changed > 0) {
          log::Info("account scopes follow a moved organization",
                    {{"organization", moved.organization()},
                     {"accounts", absl::StrCat(*changed)}});
        }
        return absl::OkStatus();
      },
      NowUs());
}

absl::Status MemberService::RecordTokenRefusals(const auth::Principal& who,
                                               const pb::RecordTokenRefusalsRequest& request) {
  constexpr int kMaxRefusals = 1000;
  if (who.subject != auth::SystemPrincipal().subject) {
    absl::Status refused = rpc::Error(absl::StatusCode::kPermissionDenied, "GATEWAY_ONLY",
                                      "only the gateway reports token refusals");
    (void)audit_.Record(audit::Recorder::For(who, "auth.token_refusals.record", "", "/"),
                        refused);
    return refused;
  }
  std::vector<rpc::FieldViolation> violations;
  if (request.refusals_size() > kMaxRefusals) {
    violations.push_back({"refusals", absl::StrCat("at most ", kMaxRefusals, " per call")});
  }
  for (int i = 0; i < request.refusals_size() && violations.empty(); ++i) {
    const pb::TokenRefusal& r = request.refusals(i);
    const std::string at = absl::StrCat("refusals[", i, "].");
    if (r.reason().empty() || r.reason().size() > 64) {
      violations.push_back({at + "reason", "required, at most 64 characters"});
    }
    if (r.client_ip().size() > 64 || r.path().size() > 512 || r.request_id().size() > 128) {
      violations.push_back({at + "client_ip", "client_ip, path or request_id is too long"});
    }
    if (r.count() < 1) {
      violations.push_back({at + "count", "must be at least 1"});
    }
  }
  if (!violations.empty()) {
    return rpc::InvalidArgument(std::move(violations));
  }
  for (const pb::TokenRefusal& r : request.refusals()) {
    // One row per (address, reason) and interval: an attacker's flood costs rows per interval,
    // not per request. Anonymous: a refused token names nobody we can trust.
    audit::Entry entry = audit::Recorder::For(auth::Principal{}, "auth.token_refused", r.path(), "/");
    entry.client_ip = r.client_ip();
    entry.request_id = r.request_id();
    entry.detail = absl::StrCat(
        r.reason(), " x", r.count(), " from ",
        google::protobuf::util::TimeUtil::ToString(r.first_time()), " to ",
        google::protobuf::util::TimeUtil::ToString(r.last_time()));
    if (absl::Status s = audit_.Record(entry, rpc::Error(absl::StatusCode::kUnauthenticated,
                                                         r.reason(), "token refused"));
        !s.ok()) {
      return s;  // the gateway keeps the rest and sends them again
    }
  }
  return absl::OkStatus();
}

absl::Status MemberService::ChangePassword(const auth::Principal& who,
                                           const pb::ChangePasswordRequest& request) {
  if (request.username().empty()) {
    return rpc::InvalidArgument({{"username", "required"}});
  }
  if (request.old_password().empty()) {
    return rpc::InvalidArgument({{"old_password", "required"}});
  }
  if (absl::Status s =
          auth::CheckPasswordStrength(options_.policy, request.new_password(), "new_password");
      !s.ok()) {
    return s;
  }
  if (request.new_password() == request.old_password()) {
    return rpc::InvalidArgument({{"new_password", "must differ from the old password"}});
  }
  audit::Entry entry = audit::Recorder::For(who, "auth.change_password", "", "/");
  auto account = Authenticate(request.username(), request.old_password(), entry);
  if (!account.ok()) {
    return account.status();
  }
  auto hash = auth::HashPassword(options_.policy, request.new_password());
  if (!hash.ok()) {
    return hash.status();
  }
  entry.actor = rpc::FormatName(kAccounts, account->id);
  return audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    auto row = AccountStore::Find(c, account->id, /*for_update=*/true);
    if (!row.ok()) {
      return row.status();
    }
    if (!row->has_value()) {
      return LoginFailed();
    }
    AccountRow a = **row;
    a.password_hash = *hash;
    a.password_changed_us = std::max(NowUs(), a.password_changed_us + 1);
    a.must_change = false;
    a.failed_attempts = 0;
    a.locked_until_us = 0;
    a.update_time_us = a.password_changed_us;
    return AccountStore::UpdateCredentials(c, a);
  });
}

// --- accounts ---

pb::Account MemberService::ToProto(const AccountRow& row) const {
  pb::Account a;
  a.set_name(rpc::FormatName(kAccounts, row.id));
  a.set_username(row.username);
  for (const std::string& r : row.roles) {
    pb::Role role;
    if (pb::Role_Parse(absl::AsciiStrToUpper(r), &role)) {
      a.add_roles(role);
    }
  }
  if (row.scope_org != 0) {
    a.set_scope(rpc::FormatName("organizations", row.scope_org));
  }
  a.set_member(row.member);
  a.set_state(auth::IsLocked(StateOf(row), NowUs()) ? pb::LOCKED : pb::ACTIVE);
  a.set_password_change_required(row.must_change);
  *a.mutable_password_change_time() = TimeUtil::MicrosecondsToTimestamp(row.password_changed_us);
  a.set_etag(absl::StrCat("v", row.version));
  *a.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.create_time_us);
  *a.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row.update_time_us);
  return a;
}

absl::Status MemberService::Authorized(const auth::Principal& who, std::string_view action,
                                       const AccountRow& row, audit::Entry* entry) const {
  return auth::AuthorizeOrHide(who, action, {std::string(kAccounts), row.scope_path, row.member},
                               AccountNotFound(rpc::FormatName(kAccounts, row.id)),
                               entry != nullptr ? &entry->detail : nullptr);
}

absl::StatusOr<pb::Account> MemberService::CreateAccount(const auth::Principal& who,
                                                         const pb::CreateAccountRequest& request) {
  if (!request.has_account()) {
    return rpc::InvalidArgument({{"account", "required"}});
  }
  const pb::Account& in = request.account();
  if (!in.name().empty()) {
    return rpc::InvalidArgument({{"account.name", "is assigned by the service; leave it empty"}});
  }
  if (!ValidUsername(in.username())) {
    return rpc::InvalidArgument(
        {{"account.username",
          "must be 3-64 of a-z, 0-9, '.', '_', '-', starting with a letter"}});
  }
  AccountRow row;
  row.username = in.username();
  if (in.roles().empty()) {
    return rpc::InvalidArgument({{"account.roles", "at least one role is required"}});
  }
  const bool caller_is_committee =
      std::find(who.roles.begin(), who.roles.end(), "committee_admin") != who.roles.end();
  for (int r : in.roles()) {
    const auto role = static_cast<pb::Role>(r);
    if (role == pb::ROLE_UNSPECIFIED || !pb::Role_IsValid(r)) {
      return rpc::InvalidArgument({{"account.roles", "must be known roles"}});
    }
    const std::string name = RoleName(role);
    if (!caller_is_committee &&
        std::find(who.roles.begin(), who.roles.end(), name) == who.roles.end()) {
      return rpc::WithViolation(
          rpc::Error(absl::StatusCode::kPermissionDenied, "ROLE_NOT_GRANTABLE",
                     absl::StrCat("you may grant only roles you hold; not ", name)),
          {"account.roles", absl::StrCat("'", name, "' is not yours to grant")});
    }
    if (std::find(row.roles.begin(), row.roles.end(), name) == row.roles.end()) {
      row.roles.push_back(name);
    }
  }
  // Never a default that widens access: the whole tree is named explicitly, by its work
  // committee's organization (only the bootstrap administrator holds the unnamed whole tree).
  if (in.scope().empty()) {
    return rpc::InvalidArgument(
        {{"account.scope",
          "required: the organization whose subtree the account covers (the work committee's "
          "for the whole city)"}});
  }
  auto scope = auth::ScopeOrgFromName(in.scope());
  if (!scope.ok()) {
    return rpc::InvalidArgument({{"account.scope", "must be organizations/{id}"}});
  }
  row.scope_org = *scope;
  if (!in.member().empty()) {
    if (auto m = rpc::ParseName(in.member(), "members", "account.member"); !m.ok()) {
      return m.status();
    }
    row.member = in.member();
  } else if (std::find(row.roles.begin(), row.roles.end(), "member") != row.roles.end()) {
    return rpc::InvalidArgument({{"account.member", "required for the member role"}});
  }
  if (absl::Status s = auth::CheckPasswordStrength(options_.policy, request.initial_password(),
                                                   "initial_password");
      !s.ok()) {
    return s;
  }
  if (row.scope_org != 0) {
    auto path = org_paths_(who, in.scope());
    if (!path.ok()) {
      return path.status().code() == absl::StatusCode::kNotFound
                 ? rpc::WithViolation(path.status(), {"account.scope", "no such organization"})
                 : path.status();
    }
    row.scope_path = *path;
  }
  auto hash = auth::HashPassword(options_.policy, request.initial_password());
  if (!hash.ok()) {
    return hash.status();
  }
  row.password_hash = *hash;
  row.id = ids_.Next();
  row.create_time_us = row.update_time_us = row.password_changed_us = NowUs();
  row.must_change = true;
  audit::Entry entry = audit::Recorder::For(who, "accounts.create",
                                            rpc::FormatName(kAccounts, row.id), row.scope_path);
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    if (absl::Status s = Authorized(who, "create", row, &entry); !s.ok()) {
      // Creating where one cannot see: the scope is what is missing.
      return s.code() == absl::StatusCode::kNotFound
                 ? rpc::WithViolation(
                       rpc::Error(absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND",
                                  absl::StrCat(in.scope().empty() ? "the whole tree" : in.scope(),
                                               " is outside your scope or does not exist")),
                       {"account.scope", "no such organization in your scope"})
                 : s;
    }
    return AccountStore::Insert(c, row);
  });
  if (status.code() == absl::StatusCode::kAlreadyExists && rpc::Reason(status).empty()) {
    return rpc::WithViolation(rpc::Error(absl::StatusCode::kAlreadyExists, "USERNAME_TAKEN",
                                         "account.username is already taken"),
                              {"account.username", "is already taken"});
  }
  if (!status.ok()) {
    return status;
  }
  return ToProto(row);
}

absl::StatusOr<pb::Account> MemberService::GetAccount(const auth::Principal& who,
                                                      const pb::GetAccountRequest& request) {
  auto id = rpc::ParseName(request.name(), kAccounts, "name");
  if (!id.ok()) {
    return id.status();
  }
  auto row = store_.Get(*id);
  if (!row.ok()) {
    return row.status();
  }
  if (!row->has_value()) {
    return AccountNotFound(request.name());
  }
  audit::Entry entry =
      audit::Recorder::For(who, "accounts.read", request.name(), (*row)->scope_path);
  absl::Status allowed = Authorized(who, "read", **row, &entry);
  // A read of personal data is recorded; if it cannot be, it is not served.
  if (absl::Status s = audit_.Record(entry, allowed); !s.ok()) {
    return s;
  }
  if (!allowed.ok()) {
    return allowed;
  }
  return ToProto(**row);
}

absl::StatusOr<pb::ListAccountsResponse> MemberService::ListAccounts(
    const auth::Principal& who, const pb::ListAccountsRequest& request) {
  auto size = rpc::PageSize(request.page_size());
  if (!size.ok()) {
    return size.status();
  }
  const std::string filter = absl::StrCat("accounts|", who.scope_org);
  auto cursor = rpc::DecodePageToken(request.page_token(), filter);
  if (!cursor.ok()) {
    return cursor.status();
  }
  int64_t after = 0;
  if (!cursor->empty() && !absl::SimpleAtoi(*cursor, &after)) {
    return rpc::InvalidArgument({{"page_token", "is not a token this service issued"}});
  }
  pb::ListAccountsResponse out;
  // Rows in the scope, then the matrix row by row (a member sees only their own account).
  int64_t last = after;  // the last row looked at
  bool more = false;
  for (int scans = 0; !more; ++scans) {
    auto rows = store_.List(who.scope_org, last, *size + 1);
    if (!rows.ok()) {
      return rows.status();
    }
    for (const AccountRow& r : *rows) {
      const bool visible = Authorized(who, "read", r, nullptr).ok();
      if (visible && out.accounts_size() == *size) {
        more = true;
        break;
      }
      last = r.id;
      if (visible) {
        *out.add_accounts() = ToProto(r);
      }
    }
    if (static_cast<int32_t>(rows->size()) <= *size) {
      break;  // the end of the table
    }
    if (scans == 20) {
      more = true;  // bound the work of one call; the token resumes after `last`
    }
  }
  if (more) {
    out.set_next_page_token(rpc::EncodePageToken(filter, absl::StrCat(last)));
  }
  audit::Entry entry = audit::Recorder::For(
      who, "accounts.list", "accounts",
      who.scope_org == 0 ? "/" : absl::StrCat("/", who.scope_org, "/"));
  entry.detail = absl::StrCat(out.accounts_size(), " accounts");
  if (absl::Status s = audit_.Record(entry, absl::OkStatus()); !s.ok()) {
    return s;
  }
  return out;
}

absl::Status MemberService::ResetPassword(const auth::Principal& who,
                                          const pb::ResetPasswordRequest& request) {
  auto id = rpc::ParseName(request.name(), kAccounts, "name");
  if (!id.ok()) {
    return id.status();
  }
  if (absl::Status s =
          auth::CheckPasswordStrength(options_.policy, request.new_password(), "new_password");
      !s.ok()) {
    return s;
  }
  auto hash = auth::HashPassword(options_.policy, request.new_password());
  if (!hash.ok()) {
    return hash.status();
  }
  audit::Entry entry = audit::Recorder::For(who, "accounts.reset_password", request.name(), "/");
  return audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    auto row = AccountStore::Find(c, *id, /*for_update=*/true);
    if (!row.ok()) {
      return row.status();
    }
    if (!row->has_value()) {
      return AccountNotFound(request.name());
    }
    AccountRow a = **row;
    entry.org_path = a.scope_path;
    if (absl::Status s = Authorized(who, "reset_password", a, &entry); !s.ok()) {
      return s;
    }
    a.password_hash = *hash;
    a.password_changed_us = std::max(NowUs(), a.password_changed_us + 1);
    a.must_change = true;
    a.failed_attempts = 0;
    a.locked_until_us = 0;
    a.update_time_us = a.password_changed_us;
    return AccountStore::UpdateCredentials(c, a);
  });
}

}  // namespace dj::member
