// Member service settings.
#include "services/member/src/settings.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/auth/jwt.h"
#include "common/crypto/crypto.h"
#include "common/runtime/strings.h"

namespace dj::member {

std::vector<runtime::Setting> MemberSettings() {
  using runtime::ValidatePositiveInt;
  return {
      {"password-min-length", "8", false, "shortest password accepted", ValidatePositiveInt},
      {"password-min-classes", "3", false,
       "character classes a password needs, of lower, upper, digit, other", ValidatePositiveInt},
      {"login-max-failures", "5", false,
       "failed sign-ins for one username from one address before further attempts from there "
       "must wait",
       ValidatePositiveInt},
      {"login-delay-seconds", "30", false,
       "the first such wait; it doubles with each further failure, up to lockout-minutes",
       ValidatePositiveInt},
      {"account-lock-failures", "50", false,
       "failed sign-ins for one account within a day, from any addresses, that lock it",
       ValidatePositiveInt},
      {"lockout-minutes", "30", false,
       "how long a locked account stays locked, and the longest sign-in wait", ValidatePositiveInt},
      {"password-max-age-days", "90", false, "days before a password must be changed",
       ValidatePositiveInt},
      {"access-token-ttl-seconds", "900", false, "lifetime of an access token",
       ValidatePositiveInt},
      {"session-idle-minutes", "30", false, "a refresh token unused this long expires",
       ValidatePositiveInt},
      {"bootstrap-admin-password", "", false,
       "password of the first administrator `admin`, created when there are no accounts"},
      {"bootstrap-admin-password-file", "", false,
       "file whose first line is that password (instead of the setting)"},
      {"pii-keys", "", false,
       "keys sealing ID and phone numbers (SM4 + HMAC-SM3): id=secret[,id=secret], secrets of "
       "32+ characters; the first seals, all open (rotate by putting a new one first, then "
       "dj-member --reseal-pii); unset: derived from the audit key"},
      {"pii-index-key", "", false,
       "key of the blind indexes that find members by ID or phone number (32+ characters, not "
       "rotated); unset: derived from the audit key"},
  };
}

MemberServiceOptions MemberOptionsFrom(const runtime::Config& config) {
  MemberServiceOptions o;
  o.policy.min_length = static_cast<int>(config.GetInt("password-min-length"));
  o.policy.min_classes = static_cast<int>(config.GetInt("password-min-classes"));
  o.policy.max_failures = static_cast<int>(config.GetInt("login-max-failures"));
  o.policy.first_delay = std::chrono::seconds(config.GetInt("login-delay-seconds"));
  o.policy.lock_failures = static_cast<int>(config.GetInt("account-lock-failures"));
  o.policy.lockout = std::chrono::minutes(config.GetInt("lockout-minutes"));
  o.policy.max_age = std::chrono::days(config.GetInt("password-max-age-days"));
  o.access_token_ttl = std::chrono::seconds(config.GetInt("access-token-ttl-seconds"));
  o.sessions.idle = std::chrono::minutes(config.GetInt("session-idle-minutes"));
  return o;
}

absl::StatusOr<crypto::PiiVault> PiiVaultFrom(const runtime::Config& config,
                                              std::string_view audit_key) {
  std::vector<crypto::PiiKey> keys;
  if (config.Has("pii-keys") && !config.Get("pii-keys").empty()) {
    auto parsed = crypto::ParsePiiKeys(config.Get("pii-keys"));
    if (!parsed.ok()) {
      return parsed.status();
    }
    keys = *std::move(parsed);
  } else {
    keys.push_back({"a0", crypto::Hex(crypto::Hmac(crypto::Digest::kSm3, audit_key,
                                                   "dangjian pii seal key a0"))});
  }
  std::string index_key = config.Has("pii-index-key") ? config.Get("pii-index-key") : "";
  if (index_key.empty()) {
    index_key =
        crypto::Hex(crypto::Hmac(crypto::Digest::kSm3, audit_key, "dangjian pii index key"));
  }
  return crypto::PiiVault::Create(std::move(keys), std::move(index_key));
}

absl::StatusOr<std::string> BootstrapPasswordFrom(const runtime::Config& config) {
  if (config.Has("bootstrap-admin-password")) {
    return config.Get("bootstrap-admin-password");
  }
  if (!config.Has("bootstrap-admin-password-file")) {
    return std::string();
  }
  const std::string path = config.Get("bootstrap-admin-password-file");
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  }
  return std::string(absl::StripTrailingAsciiWhitespace(line));
}

}  // namespace dj::member
