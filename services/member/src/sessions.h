// Sign-in sessions behind refresh tokens, kept in the cache (Redis in the distributed topology,
// in-process when embedded) so any replica can refresh or revoke them.
//
// A refresh token is 32 random bytes; only its HMAC is stored. Each use rotates it: the old one
// stops working and is remembered as used, so presenting it again (a stolen copy racing the
// real client) revokes the whole session. A session expires after `idle` without a refresh and
// in any case `absolute` after sign-in, both measured on the caller's clock (`now_us`, injected
// in tests); the cache's TTL only clears what nobody presents again.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/cache/cache.h"

namespace dj::member {

struct SessionOptions {
  std::chrono::milliseconds idle = std::chrono::minutes(30);
  std::chrono::milliseconds absolute = std::chrono::hours(12);
};

struct Session {
  int64_t account_id = 0;
  std::string id;          // the session ("family" of rotated tokens)
  int64_t started_us = 0;  // sign-in time
  int64_t issued_us = 0;   // when the current token was issued (0: unknown, an older token)
  int64_t epoch = 0;       // the account's session epoch at sign-in (a lock or password change
                           // since then ends the session)
};

class Sessions final {
 public:
  Sessions(cache::Cache& cache, SessionOptions options) : cache_(cache), options_(options) {}

  // A new session for `account_id` at the account's `epoch`; returns it and its first refresh
  // token.
  absl::StatusOr<std::pair<Session, std::string>> Start(int64_t account_id, int64_t epoch,
                                                        int64_t now_us);

  // Rotates `token`: returns the session and the next token. UNAUTHENTICATED with reason
  // REFRESH_TOKEN_INVALID (unknown, revoked, unused for `idle` or more, or more than `absolute`
  // after sign-in) or REFRESH_TOKEN_REUSED (a rotated token presented again: the session is
  // revoked, and its id is put in `*reused_session` so its access tokens can be revoked too).
  absl::StatusOr<std::pair<Session, std::string>> Rotate(std::string_view token, int64_t now_us,
                                                         std::string* reused_session = nullptr);

  // Revokes the session `token` belongs to (logout). Unknown tokens are not an error.
  absl::StatusOr<Session> End(std::string_view token);

 private:
  absl::StatusOr<std::string> Issue(const Session& session);

  cache::Cache& cache_;
  const SessionOptions options_;
};

}  // namespace dj::member
