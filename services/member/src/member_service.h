// The member service, first part (Step 3): accounts and sign-in. Handlers validate the request,
// authorize it with common/auth, write through the store in a transaction that carries its
// audit row, and answer through rpc::Reply. Members themselves arrive in Step 5.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/audit/caller.h"
#include "common/audit/recorder.h"
#include "common/auth/current_path.h"
#include "common/auth/jwt.h"
#include "common/auth/password.h"
#include "common/auth/principal.h"
#include "common/cache/cache.h"
#include "common/db/pool.h"
#include "common/events/events.h"
#include "common/ids/id_generator.h"
#include "common/rpc/client.h"
#include "dangjian/member/v1/account.grpc.pb.h"
#include "dangjian/member/v1/auth.grpc.pb.h"
#include "services/member/src/account_store.h"
#include "services/member/src/member_access.h"
#include "services/member/src/sessions.h"
#include "services/member/src/sign_in_throttle.h"

namespace dj::member {

struct MemberServiceOptions {
  auth::PasswordPolicy policy;
  std::chrono::seconds access_token_ttl{900};
  SessionOptions sessions;
  std::function<int64_t()> now_us;  // microseconds since the epoch; the system clock if unset
};

using OrgPathLookup = auth::OrgPathLookup;

// The lookup through the org service's client (in-process or over the network), as the caller.
OrgPathLookup OrgPathsVia(const rpc::ServiceClient& org);

class MemberService final {
 public:
  MemberService(db::Pool& pool, cache::Cache& cache, ids::IdGenerator& ids,
                const auth::InternalAuth& auth, auth::JwtSigner signer, std::string audit_key,
                OrgPathLookup org_paths, MemberServiceOptions options = {});
  ~MemberService();

  // The two gRPC services to register.
  grpc::Service* auth_service();
  grpc::Service* account_service();

  // First start: with no account at all, creates `admin` (committee_admin over the whole tree)
  // with `password`, which must be changed at first sign-in. FAILED_PRECONDITION when there are
  // no accounts and no password was given. Does nothing when accounts exist.
  absl::Status Bootstrap(std::string_view password);

  // --- the operations, without gRPC (tests, in-process callers) ---
  absl::StatusOr<dangjian::member::v1::TokenResponse> Login(
      const auth::Principal& who, const dangjian::member::v1::LoginRequest& request);
  absl::StatusOr<dangjian::member::v1::TokenResponse> Refresh(
      const auth::Principal& who, const dangjian::member::v1::RefreshRequest& request);
  absl::Status Logout(const auth::Principal& who,
                      const dangjian::member::v1::LogoutRequest& request);
  absl::Status ChangePassword(const auth::Principal& who,
                              const dangjian::member::v1::ChangePasswordRequest& request);
  // The gateway's token refusals, one audit row per (client address, reason) and interval.
  absl::Status RecordTokenRefusals(const auth::Principal& who,
                                   const dangjian::member::v1::RecordTokenRefusalsRequest& request);
  // For the gateway: access tokens revoked before their expiry, recorded since request.since.
  absl::StatusOr<dangjian::member::v1::ListRevocationsResponse> ListRevocations(
      const auth::Principal& who, const dangjian::member::v1::ListRevocationsRequest& request);

  absl::StatusOr<dangjian::member::v1::Account> CreateAccount(
      const auth::Principal& who, const dangjian::member::v1::CreateAccountRequest& request);
  absl::StatusOr<dangjian::member::v1::Account> GetAccount(
      const auth::Principal& who, const dangjian::member::v1::GetAccountRequest& request);
  absl::StatusOr<dangjian::member::v1::ListAccountsResponse> ListAccounts(
      const auth::Principal& who, const dangjian::member::v1::ListAccountsRequest& request);
  absl::Status ResetPassword(const auth::Principal& who,
                             const dangjian::member::v1::ResetPasswordRequest& request);

  audit::Recorder& audit() { return audit_; }

  // Consumes the org service's events (stream org.organizations, group "member"): an
  // OrganizationMoved rewrites the scope paths of the accounts in the moved subtree, once per
  // event and in the tree's order (events::ApplyInOrder: a move is not applied while an
  // earlier one is pending or failed, since prefix rewrites applied backwards corrupt scopes).
  // Other events are taken and ignored.
  static constexpr char kOrgEventsGroup[] = "member";
  absl::Status OnOrganizationEvent(const events::Event& event);

 private:
  class AuthGrpc;
  class AccountGrpc;

  int64_t NowUs() const;
  // Both gRPC adapters start here: the caller the gateway vouched for, or UNAUTHENTICATED.
  template <typename Fn>
  grpc::Status WithCaller(const grpc::ServerContextBase& context, Fn&& fn) {
    return audit::WithCaller(context, auth_, audit_, kErrorDomain, std::forward<Fn>(fn));
  }
  // Checks a username and password from the entry's client address: a pair that failed too
  // often waits (SIGN_IN_DELAYED), every other failure answers the same LOGIN_FAILED and counts
  // towards the pair's delay and the account's lock. Every refusal costs one password hash and
  // is recorded in the audit log.
  absl::StatusOr<AccountRow> Authenticate(std::string_view username, std::string_view password,
                                          audit::Entry& entry);
  // A failed password for `account`, counted on its row under a lock (locking it, and revoking
  // its tokens, at the threshold), with the audit row, in one transaction.
  absl::Status CountFailure(const AccountRow& account, audit::Entry& entry, int64_t now);
  absl::StatusOr<dangjian::member::v1::TokenResponse> Tokens(const AccountRow& account,
                                                             const Session& session,
                                                             std::string refresh_token);
  // In the caller's transaction: every access token `account` holds stops working (its session
  // epoch moves on, and the gateways learn it), for `reason` ("LOCKED", "PASSWORD_RESET", ...).
  absl::Status RevokeTokens(db::Connection& c, AccountRow& account, std::string_view reason,
                            int64_t now);
  // In the caller's transaction: the access tokens of session `session_id` stop working.
  absl::Status RevokeSession(db::Connection& c, const std::string& session_id, int64_t account_id,
                             std::string_view reason, int64_t now);
  // How long a revocation is kept: until every token it refuses has expired.
  int64_t RevocationLifetimeUs() const;
  dangjian::member::v1::Account ToProto(const AccountRow& row) const;
  using CurrentPaths = auth::CurrentPaths;
  // Authorize `action` on `row`; out of scope looks exactly like a missing account.
  // An account's scope_path is a copy that follows moves through the org events, so between a
  // move and this service applying it the copy may be stale. With `current`, a decision that
  // depends on the path and that the copy would grant is taken again on the org service's current
  // path (a move out of the caller's subtree is refused at once). Without it (a path resolved in
  // this request, or inside a transaction where no call may wait), the copy decides.
  absl::Status Authorized(const auth::Principal& who, std::string_view action,
                          const AccountRow& row, audit::Entry* entry,
                          CurrentPaths* current = nullptr) const;

  AccountStore store_;
  Sessions sessions_;
  ids::IdGenerator& ids_;
  const auth::InternalAuth& auth_;
  auth::JwtSigner signer_;
  audit::Recorder audit_;
  OrgPathLookup org_paths_;
  MemberServiceOptions options_;
  SignInThrottle throttle_;  // reads options_.policy
  std::string dummy_hash_;   // verified against for unknown usernames, so timing tells nothing
  std::unique_ptr<AuthGrpc> auth_grpc_;
  std::unique_ptr<AccountGrpc> account_grpc_;
};

}  // namespace dj::member
