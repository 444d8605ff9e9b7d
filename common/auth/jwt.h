// Access tokens: JWT (RFC 7519) signed with HMAC-SHA256 under a key id, so keys can rotate (the
// first key signs, every listed key verifies). Verification is strict: only HS256, a known key,
// the right issuer, an exact signature, and exp/nbf against an injected clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/runtime/config.h"

namespace dj::auth {

struct Claims {
  std::string subject;  // "accounts/123"
  std::string username;
  std::vector<std::string> roles;  // "committee_admin", "secretary", ...
  std::string scope;               // "organizations/5": the subtree the roles apply to
  std::string member;              // "members/9", when the account is a member's
  std::string token_id;            // jti: unique per token
  // Access tokens: the sign-in session (sid) and the account's session epoch (sep) when it was
  // issued, so a logout revokes the session and a lock or password change every earlier token.
  std::string session_id;
  int64_t epoch = 0;
  // Set only in the gateway's internal tokens (principal.h).
  std::string client_ip;
  std::string request_id;
  int64_t issued_at = 0;  // seconds since the epoch
  int64_t expires_at = 0;
};

struct SigningKey {
  std::string id;      // "kid"
  std::string secret;  // at least 32 bytes
};

// "k2=secret2,k1=secret1" -> keys (the first signs). Errors never echo a secret.
absl::StatusOr<std::vector<SigningKey>> ParseSigningKeys(std::string_view text);

// jwt-keys (DJ_JWT_KEYS): the member service signs with the first, the gateway verifies with all.
runtime::Setting JwtKeysSetting(bool required);

class JwtSigner final {
 public:
  // `keys` must not be empty; keys[0] signs.
  static absl::StatusOr<JwtSigner> Create(std::vector<SigningKey> keys, std::string issuer);

  std::string Sign(const Claims& claims) const;
  // UNAUTHENTICATED with reason TOKEN_MALFORMED, TOKEN_ALGORITHM, TOKEN_KEY_UNKNOWN,
  // TOKEN_SIGNATURE, TOKEN_ISSUER, TOKEN_EXPIRED or TOKEN_NOT_YET_VALID. `leeway_seconds`
  // allows for clocks apart on iat, and on exp unless `expiry_leeway_seconds` is given (>= 0).
  absl::StatusOr<Claims> Verify(std::string_view token, int64_t now_seconds,
                                int64_t leeway_seconds = 30,
                                int64_t expiry_leeway_seconds = -1) const;

 private:
  JwtSigner(std::vector<SigningKey> keys, std::string issuer)
      : keys_(std::move(keys)), issuer_(std::move(issuer)) {}
  std::vector<SigningKey> keys_;
  std::string issuer_;
};

}  // namespace dj::auth
