// Password policy checks, argon2id, lockout and expiry.
#include "common/auth/password.h"

#include <argon2.h>

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/rpc/errors.h"

namespace dj::auth {

absl::Status CheckPasswordStrength(const PasswordPolicy& policy, std::string_view password,
                                   std::string_view field) {
  const std::string f(field);
  // Length in characters (UTF-8 code points), so a Chinese pass phrase counts fairly.
  int chars = 0;
  for (unsigned char c : password) {
    chars += (c & 0xc0) != 0x80 ? 1 : 0;
  }
  if (chars < policy.min_length) {
    return rpc::InvalidArgument(
        {{f, absl::StrCat("must be at least ", policy.min_length, " characters")}},
        "WEAK_PASSWORD");
  }
  if (password.size() > 1024) {
    return rpc::InvalidArgument({{f, "must be at most 1024 bytes"}}, "WEAK_PASSWORD");
  }
  bool lower = false;
  bool upper = false;
  bool digit = false;
  bool other = false;
  for (unsigned char c : password) {
    if (c >= 'a' && c <= 'z') {
      lower = true;
    } else if (c >= 'A' && c <= 'Z') {
      upper = true;
    } else if (c >= '0' && c <= '9') {
      digit = true;
    } else {
      other = true;
    }
  }
  const int classes = lower + upper + digit + other;
  if (classes < policy.min_classes) {
    return rpc::InvalidArgument(
        {{f,
          absl::StrCat("must mix at least ", policy.min_classes,
                       " of: lower-case letters, upper-case letters, digits, other characters")}},
        "WEAK_PASSWORD");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> HashPassword(const PasswordPolicy& policy, std::string_view password) {
  const std::string salt = crypto::RandomBytes(16);
  constexpr uint32_t kHashLength = 32;
  const size_t encoded_length =
      argon2_encodedlen(policy.passes, policy.memory_kib, policy.lanes,
                        static_cast<uint32_t>(salt.size()), kHashLength, Argon2_id);
  std::string encoded(encoded_length, '\0');
  const int rc = argon2id_hash_encoded(policy.passes, policy.memory_kib, policy.lanes,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       kHashLength, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return absl::InternalError(absl::StrCat("argon2id: ", argon2_error_message(rc)));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool VerifyPassword(std::string_view encoded, std::string_view password) {
  const std::string e(encoded);  // argon2 wants a NUL-terminated string
  return argon2id_verify(e.c_str(), password.data(), password.size()) == ARGON2_OK;
}

bool IsLocked(const LoginState& state, int64_t now_us) { return now_us < state.locked_until_us; }

LoginState AfterFailure(const PasswordPolicy& policy, LoginState state, int64_t now_us) {
  constexpr int64_t kDayUs = 86'400'000'000;
  if (state.last_failure_us != 0 && now_us - state.last_failure_us >= kDayUs) {
    state.failed_attempts = 0;  // a day without failures: the count starts again
  }
  ++state.failed_attempts;
  state.last_failure_us = now_us;
  if (state.failed_attempts >= policy.lock_failures) {
    state.locked_until_us =
        now_us + std::chrono::duration_cast<std::chrono::microseconds>(policy.lockout).count();
    state.failed_attempts = 0;  // a fresh count once the lock ends
  }
  return state;
}

std::chrono::microseconds DelayAfter(const PasswordPolicy& policy, int64_t failures) {
  using std::chrono::microseconds;
  if (failures < policy.max_failures) {
    return microseconds(0);
  }
  const auto cap = std::chrono::duration_cast<microseconds>(policy.lockout);
  microseconds delay = std::chrono::duration_cast<microseconds>(policy.first_delay);
  for (int64_t n = policy.max_failures; n < failures && delay < cap; ++n) {
    delay *= 2;
  }
  return std::min(delay, cap);
}

LoginCheck AfterSuccess(const PasswordPolicy& policy, LoginState* state, int64_t now_us) {
  state->failed_attempts = 0;
  state->locked_until_us = 0;
  if (state->must_change) {
    return LoginCheck::kMustChange;
  }
  const int64_t max_age_us =
      std::chrono::duration_cast<std::chrono::microseconds>(policy.max_age).count();
  if (now_us - state->password_changed_us >= max_age_us) {
    return LoginCheck::kExpired;
  }
  return LoginCheck::kOk;
}

}  // namespace dj::auth
