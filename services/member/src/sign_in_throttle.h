// Failed sign-ins per (username, client address), kept in the cache (Redis in the distributed
// topology, so every replica sees them; in-process when embedded): after policy.max_failures in
// a row, each further attempt from that address for that name must wait (auth::DelayAfter). The
// pair is counted whether or not the username exists, so the delays tell nothing about which
// names exist, and a stranger elsewhere never delays the owner. A success from the pair clears
// it; a day without failures forgets it. The cache being unreachable delays nobody (logged): the
// account lock in the database still limits guessing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/auth/password.h"
#include "common/cache/cache.h"

namespace dj::member {

class SignInThrottle final {
 public:
  // `key`: the secret the cache keys are an HMAC under (the same on every replica).
  SignInThrottle(cache::Cache& cache, const auth::PasswordPolicy& policy, std::string key)
      : cache_(cache), policy_(policy), key_(std::move(key)) {}

  // Microseconds until the pair may try again (0: now).
  int64_t WaitUs(std::string_view username, std::string_view address, int64_t now_us);
  // Counts a failure of the pair at `now_us`.
  void Failed(std::string_view username, std::string_view address, int64_t now_us);
  // The pair signed in: its count starts again.
  void Succeeded(std::string_view username, std::string_view address);

 private:
  std::string Key(std::string_view username, std::string_view address) const;

  cache::Cache& cache_;
  const auth::PasswordPolicy& policy_;
  std::string key_;
};

}  // namespace dj::member
