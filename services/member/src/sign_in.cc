// Sign-in: passwords, delays and locks, sessions, and the revocations the gateways poll.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "common/runtime/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "services/member/src/member_service.h"

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

// The same for every username, existing or not: the pair (name, address) failed too often.
absl::Status Delayed(int64_t wait_us) {
  const int64_t seconds = (wait_us + 999'999) / 1'000'000;
  return rpc::WithRetryDelay(
      rpc::Error(absl::StatusCode::kResourceExhausted, "SIGN_IN_DELAYED",
                 absl::StrCat("too many failed sign-ins for this username from this address; "
                              "try again in ",
                              seconds, " s")),
      std::chrono::microseconds(seconds * 1'000'000));
}

std::string NewTokenId() { return crypto::Hex(crypto::RandomBytes(12)); }

}  // namespace

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
  const std::string& address = entry.client_ip;
  const int64_t now = NowUs();
  if (const int64_t wait = throttle_.WaitUs(username, address, now); wait > 0) {
    // Before any lookup, so it is alike for every name; no hash either: waiting is free.
    entry.detail = "DELAYED";
    const absl::Status delayed = Delayed(wait);
    (void)audit_.Record(entry, delayed);
    return delayed;
  }
  auto found = store_.pool().Run([&](db::Connection& c) {
    return AccountStore::FindByUsername(c, username, /*for_update=*/false);
  });
  if (!found.ok()) {
    return found.status();
  }
  // Unknown and locked names cost the same hash as a real attempt, and count towards the pair's
  // delay like one, so neither time nor answers tell them apart.
  if (!found->has_value()) {
    (void)auth::VerifyPassword(dummy_hash_, password);
    throttle_.Failed(username, address, now);
    entry.detail = "UNKNOWN_USERNAME";  // the attempted name is not kept: it may be a password
    (void)audit_.Record(entry, LoginFailed());
    return LoginFailed();
  }
  const AccountRow& account = **found;
  entry.resource = rpc::FormatName(kAccounts, account.id);
  entry.org_path = account.scope_path;
  if (auth::IsLocked(LoginStateOf(account), now)) {
    (void)auth::VerifyPassword(dummy_hash_, password);
    throttle_.Failed(username, address, now);
    entry.detail = "LOCKED";
    (void)audit_.Record(entry, LoginFailed());
    return LoginFailed();
  }
  if (auth::VerifyPassword(account.password_hash, password)) {
    throttle_.Succeeded(username, address);
    return account;
  }
  throttle_.Failed(username, address, now);
  RETURN_IF_ERROR(CountFailure(account, entry, now));
  return LoginFailed();
}

absl::Status MemberService::CountFailure(const AccountRow& account, audit::Entry& entry,
                                         int64_t now) {
  // On the current row: another attempt may have counted one meanwhile.
  return store_.pool().Transact([&](db::Connection& c) -> absl::Status {
    auto row = AccountStore::Find(c, account.id, /*for_update=*/true);
    if (!row.ok() || !row->has_value()) {
      return row.status();
    }
    AccountRow a = **row;
    const bool was_locked = auth::IsLocked(LoginStateOf(a), now);
    const auth::LoginState after = auth::AfterFailure(options_.policy, LoginStateOf(a), now);
    ApplyLoginState(after, &a);
    a.update_time_us = now;
    entry.detail = "WRONG_PASSWORD";
    if (!was_locked && after.locked_until_us > now) {
      entry.detail = "WRONG_PASSWORD; LOCKED";
      RETURN_IF_ERROR(RevokeTokens(c, a, "LOCKED", now));
    }
    RETURN_IF_ERROR(AccountStore::UpdateCredentials(c, a));
    audit::Entry failed = entry;
    failed.outcome = audit::OutcomeOf(LoginFailed());
    return audit_.log().Append(c, failed).status();
  });
}

absl::Status MemberService::RevokeTokens(db::Connection& c, AccountRow& account,
                                         std::string_view reason, int64_t now) {
  account.session_epoch += 1;
  return AccountStore::InsertRevocation(c, {.id = ids_.Next(),
                                            .account_id = account.id,
                                            .min_epoch = account.session_epoch,
                                            .reason = std::string(reason),
                                            .create_time_us = now,
                                            .expire_time_us = now + RevocationLifetimeUs()});
}

absl::Status MemberService::RevokeSession(db::Connection& c, const std::string& session_id,
                                          int64_t account_id, std::string_view reason,
                                          int64_t now) {
  return AccountStore::InsertRevocation(c, {.id = ids_.Next(),
                                            .session_id = session_id,
                                            .account_id = account_id,
                                            .reason = std::string(reason),
                                            .create_time_us = now,
                                            .expire_time_us = now + RevocationLifetimeUs()});
}

int64_t MemberService::RevocationLifetimeUs() const {
  // Until every access token issued before it has expired, with a minute for clocks apart.
  return (options_.access_token_ttl.count() + 60) * 1'000'000;
}

absl::StatusOr<pb::TokenResponse> MemberService::Tokens(const AccountRow& account,
                                                        const Session& session,
                                                        std::string refresh_token) {
  const int64_t now_s = NowUs() / 1'000'000;
  auth::Claims claims{
      .subject = rpc::FormatName(kAccounts, account.id),
      .username = account.username,
      .roles = account.roles,
      .scope = account.scope_org == 0 ? "" : rpc::FormatName("organizations", account.scope_org),
      .member = account.member,
      .token_id = NewTokenId(),
      .session_id = session.id,
      .epoch = account.session_epoch,
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
  auth::LoginState state = LoginStateOf(*account);
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
    if (account->failed_attempts != 0 || account->locked_until_us != 0 ||
        account->last_failure_us != 0) {
      AccountRow a = *account;
      ApplyLoginState(state, &a);
      a.update_time_us = now;
      RETURN_IF_ERROR(AccountStore::UpdateCredentials(c, a));
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
  auto started = sessions_.Start(account->id, account->session_epoch, now);
  if (!started.ok()) {
    return started.status();
  }
  return Tokens(*account, started->first, std::move(started->second));
}

absl::StatusOr<pb::TokenResponse> MemberService::Refresh(const auth::Principal& who,
                                                         const pb::RefreshRequest& request) {
  if (request.refresh_token().empty()) {
    return rpc::InvalidArgument({{"refresh_token", "required"}});
  }
  audit::Entry entry = audit::Recorder::For(who, "auth.refresh", "", "/");
  const int64_t now = NowUs();
  std::string reused;
  auto rotated = sessions_.Rotate(request.refresh_token(), now, &reused);
  if (!rotated.ok()) {
    if (rpc::Reason(rotated.status()) == "REFRESH_TOKEN_REUSED") {
      // A stolen token, most likely: the session's access tokens stop working too.
      entry.detail = "REFRESH_TOKEN_REUSED";
      entry.outcome = audit::OutcomeOf(rotated.status());
      absl::Status revoked = store_.pool().Transact([&](db::Connection& c) -> absl::Status {
        if (!reused.empty()) {
          RETURN_IF_ERROR(RevokeSession(c, reused, 0, "REFRESH_TOKEN_REUSED", now));
        }
        return audit_.log().Append(c, entry).status();
      });
      if (!revoked.ok()) {
        return revoked;
      }
    }
    return rotated.status();
  }
  const auto& [session, next] = *rotated;
  auto account = store_.pool().Run([&](db::Connection& c) {
    return AccountStore::Find(c, session.account_id, /*for_update=*/false);
  });
  if (!account.ok()) {
    return account.status();
  }
  // A password change or reset since sign-in, or a lock, ends the session.
  if (!account->has_value() || (*account)->password_changed_us > session.started_us ||
      (*account)->session_epoch > session.epoch || auth::IsLocked(LoginStateOf(**account), now)) {
    (void)sessions_.End(next);
    entry.resource = rpc::FormatName(kAccounts, session.account_id);
    entry.detail = "SESSION_ENDED_BY_ACCOUNT_CHANGE";
    const absl::Status refused =
        rpc::Error(absl::StatusCode::kUnauthenticated, "REFRESH_TOKEN_INVALID",
                   "the session has ended; sign in again");
    (void)audit_.Record(entry, refused);
    return refused;
  }
  return Tokens(**account, session, next);
}

absl::Status MemberService::Logout(const auth::Principal& who, const pb::LogoutRequest& request) {
  if (request.refresh_token().empty()) {
    return rpc::InvalidArgument({{"refresh_token", "required"}});
  }
  auto ended = sessions_.End(request.refresh_token());
  if (!ended.ok()) {
    return ended.status();
  }
  if (ended->account_id == 0) {
    return absl::OkStatus();  // an unknown or ended session: nothing to revoke
  }
  audit::Entry entry =
      audit::Recorder::For(who, "auth.logout", rpc::FormatName(kAccounts, ended->account_id), "/");
  entry.actor = entry.resource;
  // The session's access tokens stop working at the gateways within seconds.
  return audit_.Transact(entry, [&](db::Connection& c) {
    return RevokeSession(c, ended->id, ended->account_id, "LOGOUT", NowUs());
  });
}

absl::Status MemberService::RecordTokenRefusals(const auth::Principal& who,
                                                const pb::RecordTokenRefusalsRequest& request) {
  constexpr int kMaxRefusals = 1000;
  if (who.subject != auth::SystemPrincipal().subject) {
    absl::Status refused = rpc::Error(absl::StatusCode::kPermissionDenied, "GATEWAY_ONLY",
                                      "only the gateway reports token refusals");
    (void)audit_.Record(audit::Recorder::For(who, "auth.token_refusals.record", "", "/"), refused);
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
    if (r.code() < 0 || r.code() > 16) {
      violations.push_back({at + "code", "must be a gRPC status code"});
    }
  }
  if (!violations.empty()) {
    return rpc::InvalidArgument(std::move(violations));
  }
  for (const pb::TokenRefusal& r : request.refusals()) {
    // One row per (address, reason) and interval: an attacker's flood costs rows per interval,
    // not per request. Anonymous: a refused token names nobody we can trust.
    const auto code = r.code() == 0 ? absl::StatusCode::kUnauthenticated
                                    : static_cast<absl::StatusCode>(r.code());
    audit::Entry entry =
        audit::Recorder::For(auth::Principal{},
                             code == absl::StatusCode::kUnauthenticated ? "auth.token_refused"
                                                                        : "gateway.request_refused",
                             r.path(), "/");
    entry.client_ip = r.client_ip();
    entry.request_id = r.request_id();
    entry.detail =
        absl::StrCat(r.reason(), " x", r.count(), " from ", TimeUtil::ToString(r.first_time()),
                     " to ", TimeUtil::ToString(r.last_time()));
    if (absl::Status s =
            audit_.Record(entry, rpc::Error(code, r.reason(), "refused at the gateway"));
        !s.ok()) {
      return s;  // the gateway keeps the rest and sends them again
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<pb::ListRevocationsResponse> MemberService::ListRevocations(
    const auth::Principal& who, const pb::ListRevocationsRequest& request) {
  constexpr int kLimit = 5000;
  if (who.subject != auth::SystemPrincipal().subject) {
    absl::Status refused = rpc::Error(absl::StatusCode::kPermissionDenied, "GATEWAY_ONLY",
                                      "only the gateway lists revocations");
    (void)audit_.Record(audit::Recorder::For(who, "auth.revocations.list", "", "/"), refused);
    return refused;
  }
  const int64_t now = NowUs();
  const int64_t since =
      request.has_since() ? TimeUtil::TimestampToMicroseconds(request.since()) : 0;
  auto rows = store_.pool().Run(
      [&](db::Connection& c) { return AccountStore::ListRevocations(c, since, now, kLimit); });
  if (!rows.ok()) {
    return rows.status();
  }
  pb::ListRevocationsResponse out;
  for (const RevocationRow& r : *rows) {
    pb::Revocation* v = out.add_revocations();
    v->set_session(r.session_id);
    if (r.account_id != 0) {
      v->set_account(rpc::FormatName(kAccounts, r.account_id));
    }
    v->set_min_epoch(r.min_epoch);
    *v->mutable_expire_time() = TimeUtil::MicrosecondsToTimestamp(r.expire_time_us);
  }
  // A write that began before now may commit after this read with an earlier time: the next
  // list starts a minute back (the gateway ignores repeats). A full page continues after it.
  const int64_t next =
      static_cast<int>(rows->size()) == kLimit ? rows->back().create_time_us : now - 60'000'000;
  *out.mutable_next_since() = TimeUtil::MicrosecondsToTimestamp(std::max(next, since));
  return out;
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
    const int64_t now = NowUs();
    a.password_hash = *hash;
    a.password_changed_us = std::max(now, a.password_changed_us + 1);
    a.must_change = false;
    a.failed_attempts = 0;
    a.locked_until_us = 0;
    a.last_failure_us = 0;
    a.update_time_us = a.password_changed_us;
    // Whoever knew the old password may hold tokens: they all stop working.
    RETURN_IF_ERROR(RevokeTokens(c, a, "PASSWORD_CHANGED", now));
    return AccountStore::UpdateCredentials(c, a);
  });
}

}  // namespace dj::member
