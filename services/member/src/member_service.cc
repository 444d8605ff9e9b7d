// Accounts and sign-in.
#include "services/member/src/member_service.h"

#include <algorithm>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/audit/caller.h"
#include "common/crypto/crypto.h"
#include "common/db/errors.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/rpc/requests.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "dangjian/org/v1/events.pb.h"
#include "dangjian/org/v1/org.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "services/member/src/member_store.h"
#include "services/member/src/transfer_store.h"

namespace dj::member {
namespace {

namespace pb = dangjian::member::v1;
using google::protobuf::util::TimeUtil;

constexpr std::string_view kAccounts = "accounts";

absl::Status AccountNotFound(std::string_view name) {
  return rpc::Error(absl::StatusCode::kNotFound, "ACCOUNT_NOT_FOUND",
                    absl::StrCat(AV(name), " does not exist"));
}

std::string RoleName(pb::Role role) { return absl::AsciiStrToLower(pb::Role_Name(role)); }

bool ValidUsername(std::string_view u) {
  static const std::regex kPattern("[a-z][a-z0-9._-]{2,63}");
  return std::regex_match(u.begin(), u.end(), kPattern);
}

// The roles an account is created with, distinct: known ones, and only roles the caller holds
// unless the caller is the committee's administrator.
absl::StatusOr<std::vector<std::string>> GrantableRoles(
    const auth::Principal& who, const google::protobuf::RepeatedField<int>& roles) {
  if (roles.empty()) {
    return rpc::InvalidArgument({{"account.roles", "at least one role is required"}});
  }
  const bool caller_is_committee =
      std::find(who.roles.begin(), who.roles.end(), "committee_admin") != who.roles.end();
  std::vector<std::string> out;
  for (int r : roles) {
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
    if (std::find(out.begin(), out.end(), name) == out.end()) {
      out.push_back(name);
    }
  }
  return out;
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
  grpc::Status ListRevocations(grpc::ServerContext* ctx, const pb::ListRevocationsRequest* req,
                               pb::ListRevocationsResponse* resp) override {
    return Call(ctx, [&](const auth::Principal& who) {
      return rpc::Reply(*ctx, kErrorDomain, s_.ListRevocations(who, *req), resp);
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

OrgPathLookup OrgPathsVia(const rpc::ServiceClient& org) {
  return [&org](const auth::Principal& who, std::string_view name) -> absl::StatusOr<std::string> {
    dangjian::org::v1::GetOrganizationRequest request;
    request.set_name(std::string(name));
    auto out =
        org.Call(who, &dangjian::org::v1::OrganizationService::Stub::GetOrganization, request);
    if (!out.ok()) {
      return out.status();
    }
    return out->path();
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
      audit_(pool, audit_key, "auditLogs/member"),
      org_paths_(std::move(org_paths)),
      options_(std::move(options)),
      // Keyed by a secret of the deployment's, so the cache's keys cannot be tested against
      // guessed usernames.
      throttle_(cache, options_.policy,
                crypto::HmacHex(crypto::Digest::kSha256, audit_key, "dangjian sign-in throttle")),
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
  ASSIGN_OR_RETURN(const int64_t count, store_.pool().Run(AccountStore::Count));
  if (count > 0) {
    return absl::OkStatus();
  }
  if (password.empty()) {
    return absl::FailedPreconditionError(
        "there are no accounts yet: give the first administrator's password with "
        "DJ_BOOTSTRAP_ADMIN_PASSWORD or --bootstrap-admin-password-file");
  }
  if (absl::Status s =
          auth::CheckPasswordStrength(options_.policy, password, "bootstrap admin password");
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
  return events::ApplyInOrder(
      store_.pool(), "member.accounts", event,
      [&](db::Connection& c) -> absl::Status {
        auto changed = AccountStore::RewriteScopePaths(c, moved.old_path(), moved.new_path());
        if (!changed.ok()) {
          return changed.status();
        }
        // Member records keep their organization's path too: the same move, same transaction.
        auto members = MemberStore::RewritePaths(c, moved.old_path(), moved.new_path());
        if (!members.ok()) {
          return members.status();
        }
        // And transfers keep both sides' paths.
        auto transfers = TransferStore::RewritePaths(c, moved.old_path(), moved.new_path());
        if (!transfers.ok()) {
          return transfers.status();
        }
        if (*changed > 0) {
          log::Info("account scopes follow a moved organization",
                    {{"organization", moved.organization()}, {"accounts", absl::StrCat(*changed)}});
        }
        return absl::OkStatus();
      },
      NowUs());
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
  a.set_state(auth::IsLocked(LoginStateOf(row), NowUs()) ? pb::LOCKED : pb::ACTIVE);
  a.set_password_change_required(row.must_change);
  *a.mutable_password_change_time() = TimeUtil::MicrosecondsToTimestamp(row.password_changed_us);
  a.set_etag(absl::StrCat("v", row.version));
  *a.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.create_time_us);
  *a.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row.update_time_us);
  return a;
}

absl::Status MemberService::Authorized(const auth::Principal& who, std::string_view action,
                                       const AccountRow& row, audit::Entry* entry,
                                       CurrentPaths* current) const {
  return auth::AuthorizeCopiedPath(
      who, action, {std::string(kAccounts), row.scope_path, row.member}, row.scope_org,
      AccountNotFound(rpc::FormatName(kAccounts, row.id)),
      entry != nullptr ? &entry->detail : nullptr, current);
}

absl::StatusOr<pb::Account> MemberService::CreateAccount(const auth::Principal& who,
                                                         const pb::CreateAccountRequest& request) {
  if (!request.has_account()) {
    return rpc::InvalidArgument({{"account", "required"}});
  }
  const pb::Account& in = request.account();
  RETURN_IF_ERROR(rpc::ValidateRequestId(request.request_id()));
  if (!in.name().empty()) {
    return rpc::InvalidArgument({{"account.name", "is assigned by the service; leave it empty"}});
  }
  if (!ValidUsername(in.username())) {
    return rpc::InvalidArgument(
        {{"account.username", "must be 3-64 of a-z, 0-9, '.', '_', '-', starting with a letter"}});
  }
  AccountRow row;
  row.username = in.username();
  ASSIGN_OR_RETURN(row.roles, GrantableRoles(who, in.roles()));
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
  // Scoped to the caller: another principal's request_id is a new request, never theirs.
  const std::string request_id = auth::IdempotencyKey(who, request.request_id());
  // Creating where one cannot see: the scope is what is missing.
  auto out_of_scope = [&](absl::Status s) {
    return s.code() == absl::StatusCode::kNotFound
               ? rpc::WithViolation(
                     rpc::Error(
                         absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND",
                         absl::StrCat(in.scope(), " is outside your scope or does not exist")),
                     {"account.scope", "no such organization in your scope"})
               : s;
  };
  audit::Entry entry = audit::Recorder::For(who, "accounts.create",
                                            rpc::FormatName(kAccounts, row.id), row.scope_path);
  ASSIGN_OR_RETURN(const std::optional<AccountRow> replay,
                   rpc::CreateOnce<AccountRow>(
                       audit_, store_.pool(), entry,
                       {.request_id = request_id,
                        .what = "account",
                        .request_id_index = kRequestIdIndex,
                        .find = AccountStore::FindByRequestId,
                        .replay = [&](db::Connection&, const AccountRow& earlier,
                                      audit::Entry& e) -> absl::Status {
                          e.resource = rpc::FormatName(kAccounts, earlier.id);
                          e.org_path = earlier.scope_path;
                          return out_of_scope(Authorized(who, "create", earlier, &e));
                        },
                        .write = [&](db::Connection& c, audit::Entry& e) -> absl::Status {
                          RETURN_IF_ERROR(out_of_scope(Authorized(who, "create", row, &e)));
                          return AccountStore::Insert(c, row, request_id);
                        },
                        .same =
                            [&](const AccountRow& earlier) {
                              return earlier.username == row.username &&
                                     earlier.roles == row.roles &&
                                     earlier.scope_org == row.scope_org &&
                                     earlier.member == row.member;
                            },
                        .explain = [](absl::Status status) -> absl::Status {
                          if (db::DuplicateKeyOn(status, kUsernameIndex)) {
                            return rpc::WithViolation(
                                rpc::Error(absl::StatusCode::kAlreadyExists, "USERNAME_TAKEN",
                                           "account.username is already taken"),
                                {"account.username", "is already taken"});
                          }
                          return status;  // e.g. an id collision: never USERNAME_TAKEN
                        }}));
  return ToProto(replay.has_value() ? *replay : row);
}

absl::StatusOr<pb::Account> MemberService::GetAccount(const auth::Principal& who,
                                                      const pb::GetAccountRequest& request) {
  auto id = rpc::ParseName(request.name(), kAccounts, "name");
  if (!id.ok()) {
    return id.status();
  }
  auto row = store_.pool().Run(
      [&](db::Connection& c) { return AccountStore::Find(c, *id, /*for_update=*/false); });
  if (!row.ok()) {
    return row.status();
  }
  if (!row->has_value()) {
    return AccountNotFound(request.name());
  }
  audit::Entry entry =
      audit::Recorder::For(who, "accounts.read", request.name(), (*row)->scope_path);
  CurrentPaths current(org_paths_);
  absl::Status allowed = Authorized(who, "read", **row, &entry, &current);
  if (!allowed.ok()) {
    // Off the request path, so out of scope takes as long as missing.
    audit_.Refuse(std::move(entry), allowed);
    return allowed;
  }
  // A read of personal data is recorded; if it cannot be, it is not served.
  RETURN_IF_ERROR(audit_.Record(entry, allowed));
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
  CurrentPaths current(org_paths_);
  for (int scans = 0; !more; ++scans) {
    auto rows = store_.pool().Run(
        [&](db::Connection& c) { return AccountStore::List(c, who.scope_org, last, *size + 1); });
    if (!rows.ok()) {
      return rows.status();
    }
    for (const AccountRow& r : *rows) {
      absl::Status seen = Authorized(who, "read", r, nullptr, &current);
      if (!seen.ok() && seen.code() != absl::StatusCode::kNotFound &&
          seen.code() != absl::StatusCode::kPermissionDenied) {
        return seen;  // the org service could not say: no partial page
      }
      const bool visible = seen.ok();
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
  audit::Entry entry =
      audit::Recorder::For(who, "accounts.list", "accounts",
                           who.scope_org == 0 ? "/" : absl::StrCat("/", who.scope_org, "/"));
  entry.detail = absl::StrCat(out.accounts_size(), " accounts");
  RETURN_IF_ERROR(audit_.Record(entry, absl::OkStatus()));
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
  // Whatever the org service must say is asked before the transaction, so no call waits while
  // the row is locked (an account's organization never changes, only where it stands); the
  // check inside then finds the answer kept. Only a path-dependent grant asks at all.
  CurrentPaths current(org_paths_);
  auto before = store_.pool().Run(
      [&](db::Connection& c) { return AccountStore::Find(c, *id, /*for_update=*/false); });
  if (before.ok() && before->has_value()) {
    (void)Authorized(who, "reset_password", **before, nullptr, &current);
  }
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
    RETURN_IF_ERROR(Authorized(who, "reset_password", a, &entry, &current));
    const int64_t now = NowUs();
    a.password_hash = *hash;
    a.password_changed_us = std::max(now, a.password_changed_us + 1);
    a.must_change = true;
    a.failed_attempts = 0;
    a.locked_until_us = 0;
    a.last_failure_us = 0;
    a.update_time_us = a.password_changed_us;
    // The account's sessions and access tokens end with the old password.
    RETURN_IF_ERROR(RevokeTokens(c, a, "PASSWORD_RESET", now));
    return AccountStore::UpdateCredentials(c, a);
  });
}

}  // namespace dj::member
