// Sign-in delays per (username, address) in the cache.
#include "services/member/src/sign_in_throttle.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"

namespace dj::member {
namespace {

constexpr std::chrono::hours kMemory{24};

// "failures|last failure (us)".
bool Decode(std::string_view v, int64_t* failures, int64_t* last_us) {
  std::vector<absl::string_view> parts = absl::StrSplit(AV(v), '|');
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], failures) &&
         absl::SimpleAtoi(parts[1], last_us);
}

void Warn(const absl::Status& s) {
  log::Warn("sign-in delays unavailable (cache unreachable)",
            {{"error", std::string(SV(s.message()))}});
}

}  // namespace

// The pair's key: an HMAC under the deployment's secret, so neither the attempted name (often a
// mistyped password) nor the address is readable in the cache, nor can be guessed and checked.
std::string SignInThrottle::Key(std::string_view username, std::string_view address) const {
  return absl::StrCat("auth:v1:signin:",
                      crypto::HmacHex(crypto::Digest::kSha256, key_,
                                      absl::StrCat(AV(username), "\n", AV(address))));
}

int64_t SignInThrottle::WaitUs(std::string_view username, std::string_view address,
                               int64_t now_us) {
  auto value = cache_.Get(Key(username, address));
  if (!value.ok()) {
    Warn(value.status());
    return 0;
  }
  int64_t failures = 0;
  int64_t last_us = 0;
  if (!value->has_value() || !Decode(**value, &failures, &last_us)) {
    return 0;
  }
  const int64_t allowed_at = last_us + auth::DelayAfter(policy_, failures).count();
  return allowed_at > now_us ? allowed_at - now_us : 0;
}

void SignInThrottle::Failed(std::string_view username, std::string_view address, int64_t now_us) {
  const std::string key = Key(username, address);
  auto value = cache_.Get(key);
  if (!value.ok()) {
    Warn(value.status());
    return;
  }
  int64_t failures = 0;
  int64_t last_us = 0;
  if (value->has_value()) {
    (void)Decode(**value, &failures, &last_us);
  }
  // Two failures racing may count once: the next one counts again, and the account's own count
  // (in the database, under a row lock) is exact.
  if (absl::Status s = cache_.Set(key, absl::StrCat(failures + 1, "|", now_us),
                                  std::chrono::duration_cast<std::chrono::milliseconds>(kMemory));
      !s.ok()) {
    Warn(s);
  }
}

void SignInThrottle::Succeeded(std::string_view username, std::string_view address) {
  if (absl::Status s = cache_.Delete(Key(username, address)); !s.ok()) {
    Warn(s);
  }
}

}  // namespace dj::member
