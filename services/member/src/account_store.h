// Repository for accounts: the only place in the member service with SQL. Writes take the
// caller's transaction connection; reads take their own connection from the pool.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/password.h"
#include "common/db/pool.h"

namespace dj::member {

struct AccountRow {
  int64_t id = 0;
  std::string username;
  std::string password_hash;
  std::vector<std::string> roles;  // "committee_admin", ... (docs/permissions.md)
  int64_t scope_org = 0;           // 0: the whole tree
  std::string scope_path = "/";    // the scope organization's path; "/" for the whole tree
  std::string member;              // "members/9" or ""
  int failed_attempts = 0;
  int64_t locked_until_us = 0;
  int64_t password_changed_us = 0;
  bool must_change = false;
  int64_t version = 1;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;
  // Bumped by a lock, a password change or reset: access tokens of an earlier epoch are revoked.
  int64_t session_epoch = 0;
  int64_t last_failure_us = 0;  // the last failed sign-in (failures a day old stop counting)
};

// An access-token revocation: a session (`session_id`) or an account's tokens below `min_epoch`.
struct RevocationRow {
  int64_t id = 0;
  std::string session_id;
  int64_t account_id = 0;
  int64_t min_epoch = 0;
  std::string reason;  // "LOGOUT", "REFRESH_TOKEN_REUSED", "LOCKED", "PASSWORD_CHANGED", ...
  int64_t create_time_us = 0;
  int64_t expire_time_us = 0;
};

// The sign-in counters of a row, as the lockout rules (auth/password.h) take them, and back.
inline auth::LoginState LoginStateOf(const AccountRow& a) {
  return {a.failed_attempts, a.locked_until_us, a.password_changed_us, a.must_change,
          a.last_failure_us};
}
inline void ApplyLoginState(const auth::LoginState& s, AccountRow* a) {
  a->failed_attempts = s.failed_attempts;
  a->locked_until_us = s.locked_until_us;
  a->last_failure_us = s.last_failure_us;
}

// The unique index the handlers answer with USERNAME_TAKEN (db::DuplicateKeyOn); a duplicate
// on the primary key (an id collision) is answered generically (db::Generic).
inline constexpr std::string_view kUsernameIndex = "uk_accounts_username";
inline constexpr std::string_view kRequestIdIndex = "uk_accounts_request_id";

class AccountStore final {
 public:
  explicit AccountStore(db::Pool& pool) : pool_(pool) {}

  db::Pool& pool() { return pool_; }

  // --- inside a transaction ---
  static absl::StatusOr<std::optional<AccountRow>> Find(db::Connection& c, int64_t id,
                                                        bool for_update);
  static absl::StatusOr<std::optional<AccountRow>> FindByUsername(db::Connection& c,
                                                                  std::string_view username,
                                                                  bool for_update);
  // The account a create with this (caller-scoped) request_id made, if any.
  static absl::StatusOr<std::optional<AccountRow>> FindByRequestId(db::Connection& c,
                                                                   std::string_view request_id);
  // ALREADY_EXISTS when the username (kUsernameIndex) or the request_id (kRequestIdIndex) is
  // taken. `request_id` empty: none.
  static absl::Status Insert(db::Connection& c, const AccountRow& row,
                             std::string_view request_id = "");
  // Writes the password and sign-in columns and bumps the version.
  static absl::Status UpdateCredentials(db::Connection& c, const AccountRow& row);
  static absl::StatusOr<int64_t> Count(db::Connection& c);
  // An organization subtree moved: scope paths under `old_path` now start with `new_path`.
  // Returns how many accounts changed.
  static absl::StatusOr<int64_t> RewriteScopePaths(db::Connection& c, const std::string& old_path,
                                                   const std::string& new_path);

  // Records a revocation (in the transaction of the change that causes it) and forgets those
  // expired an hour ago or more.
  static absl::Status InsertRevocation(db::Connection& c, const RevocationRow& row);
  // Revocations recorded at or after `since_us` that have not expired at `now_us`, oldest first.
  static absl::StatusOr<std::vector<RevocationRow>> ListRevocations(db::Connection& c,
                                                                    int64_t since_us,
                                                                    int64_t now_us, int limit);
  // Accounts with id > after_id whose scope lies in organization `scope_org`'s subtree
  // (0: all), by id.
  static absl::StatusOr<std::vector<AccountRow>> List(db::Connection& c, int64_t scope_org,
                                                      int64_t after_id, int limit);

  // --- reads on a connection of the pool's own (tools and tests; handlers choose theirs) ---
  absl::StatusOr<std::optional<AccountRow>> Get(int64_t id) {
    return pool_.Run([&](db::Connection& c) { return Find(c, id, /*for_update=*/false); });
  }
  absl::StatusOr<std::optional<AccountRow>> GetByUsername(std::string_view username) {
    return pool_.Run(
        [&](db::Connection& c) { return FindByUsername(c, username, /*for_update=*/false); });
  }

 private:
  db::Pool& pool_;
};

}  // namespace dj::member
