// Passwords: the complexity policy (a rule set a work committee may change: length, character
// classes, sign-in delays and lockout, expiry) and argon2id hashing. 等保 2.0 level 3 asks for
// complexity, a limit on failed sign-ins (lock or delay), and periodic change. Repeated failures
// for one username from one address make each further attempt from there wait, doubling; a
// stranger elsewhere cannot lock the owner out that way. Only many failures from anywhere, which
// take many addresses or many hours, lock the account itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace dj::auth {

struct PasswordPolicy {
  int min_length = 8;
  int min_classes = 3;  // of: lower case, upper case, digits, other characters
  // Failed sign-ins for one username from one client address before each further attempt from
  // there must wait: `first_delay`, doubling with each failure, at most `lockout`.
  int max_failures = 5;
  std::chrono::seconds first_delay{30};
  // Failed sign-ins for one account from any addresses, each within a day of the one before,
  // (and end its sessions).
  int lock_failures = 50;
  std::chrono::minutes lockout{30};
  std::chrono::days max_age{90};
  // argon2id cost (OWASP's minimum: 19 MiB, 2 passes, 1 lane).
  uint32_t memory_kib = 19 * 1024;
  uint32_t passes = 2;
  uint32_t lanes = 1;
};

// OK, or INVALID_ARGUMENT naming `field` and saying what is missing. Never echoes the password.
absl::Status CheckPasswordStrength(const PasswordPolicy& policy, std::string_view password,
                                   std::string_view field = "password");

// "$argon2id$v=19$m=...,t=...,p=...$salt$hash" with a fresh random salt.
absl::StatusOr<std::string> HashPassword(const PasswordPolicy& policy, std::string_view password);

// Whether `password` matches `encoded` (constant time in the hash comparison).
bool VerifyPassword(std::string_view encoded, std::string_view password);

// Lockout and expiry, as plain functions of the account's counters and an injected clock.
struct LoginState {
  int failed_attempts = 0;
  int64_t locked_until_us = 0;
  int64_t password_changed_us = 0;
  bool must_change = false;  // an initial or reset password
  int64_t last_failure_us = 0;
};

enum class LoginCheck { kOk, kExpired, kMustChange };

// Before checking the password: is the account locked right now?
bool IsLocked(const LoginState& state, int64_t now_us);
// After a wrong password: the new state (locked for policy.lockout after lock_failures; after a
// day without failures the count starts again).
LoginState AfterFailure(const PasswordPolicy& policy, LoginState state, int64_t now_us);
// How long one (username, address) must wait after its `failures`-th failure in a row: zero
// below policy.max_failures, then first_delay doubling, at most policy.lockout.
std::chrono::microseconds DelayAfter(const PasswordPolicy& policy, int64_t failures);

// After a right password: counters reset, and whether the password must be changed first.
LoginCheck AfterSuccess(const PasswordPolicy& policy, LoginState* state, int64_t now_us);

}  // namespace dj::auth
