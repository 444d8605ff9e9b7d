// HS256 JWT signing and verification.
#include "common/auth/jwt.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/rpc/errors.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace dj::auth {
namespace {

absl::Status Refused(std::string_view reason, std::string_view message) {
  return rpc::Error(absl::StatusCode::kUnauthenticated, reason, message);
}

std::string Quote(std::string_view s) { return absl::StrCat("\"", log::JsonEscape(s), "\""); }

std::string ClaimsJson(const Claims& c, const std::string& issuer) {
  std::string roles;
  for (const auto& r : c.roles) {
    absl::StrAppend(&roles, roles.empty() ? "" : ",", Quote(r));
  }
  return absl::StrCat("{\"iss\":", Quote(issuer), ",\"sub\":", Quote(c.subject),
                      ",\"name\":", Quote(c.username), ",\"roles\":[", roles, "]",
                      ",\"scope\":", Quote(c.scope),
                      ",\"member\":", Quote(c.member), ",\"jti\":", Quote(c.token_id),
                      c.client_ip.empty() ? "" : absl::StrCat(",\"cip\":", Quote(c.client_ip)),
                      c.request_id.empty() ? "" : absl::StrCat(",\"rid\":", Quote(c.request_id)),
                      ",\"iat\":", c.issued_at, ",\"exp\":", c.expires_at, "}");
}

absl::StatusOr<google::protobuf::Struct> ParseJson(std::string_view segment) {
  std::string json;
  if (!crypto::Base64UrlDecode(segment, &json)) {
    return Refused("TOKEN_MALFORMED", "the token is not base64url");
  }
  google::protobuf::Struct s;
  if (!google::protobuf::util::JsonStringToMessage(json, &s).ok()) {
    return Refused("TOKEN_MALFORMED", "the token is not JSON");
  }
  return s;
}

std::string Str(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

bool Num(const google::protobuf::Struct& s, const std::string& key, int64_t* out) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || !it->second.has_number_value()) {
    return false;
  }
  *out = static_cast<int64_t>(it->second.number_value());
  return true;
}

}  // namespace

absl::StatusOr<std::vector<SigningKey>> ParseSigningKeys(std::string_view text) {
  std::vector<SigningKey> keys;
  for (absl::string_view item : absl::StrSplit(AV(text), ',', absl::SkipEmpty())) {
    const size_t eq = item.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError("expected id=secret[,id=secret...]");
    }
    SigningKey k{std::string(item.substr(0, eq)), std::string(item.substr(eq + 1))};
    if (k.secret.size() < 32) {
      return absl::InvalidArgumentError(
          absl::StrCat("the secret of key '", k.id, "' must be at least 32 characters"));
    }
    keys.push_back(std::move(k));
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError("expected id=secret[,id=secret...]");
  }
  return keys;
}

runtime::Setting JwtKeysSetting(bool required) {
  return {"jwt-keys", "", required,
          "access-token keys, id=secret[,id=secret...] (secrets of 32+ characters): the first "
          "signs, every one verifies, so keys can rotate",
          [](std::string_view v) { return ParseSigningKeys(v).status(); }};
}

absl::StatusOr<JwtSigner> JwtSigner::Create(std::vector<SigningKey> keys, std::string issuer) {
  if (keys.empty()) {
    return absl::InvalidArgumentError("at least one signing key is needed");
  }
  for (const SigningKey& k : keys) {
    if (k.id.empty() || k.secret.size() < 32) {
      return absl::InvalidArgumentError(
          absl::StrCat("signing key '", k.id, "' needs an id and a secret of at least 32 bytes"));
    }
  }
  return JwtSigner(std::move(keys), std::move(issuer));
}

std::string JwtSigner::Sign(const Claims& claims) const {
  const SigningKey& key = keys_.front();
  const std::string header =
      crypto::Base64UrlEncode(absl::StrCat("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":",
                                           Quote(key.id), "}"));
  const std::string payload = crypto::Base64UrlEncode(ClaimsJson(claims, issuer_));
  const std::string input = absl::StrCat(header, ".", payload);
  return absl::StrCat(input, ".",
                      crypto::Base64UrlEncode(crypto::Hmac(crypto::Digest::kSha256, key.secret,
                                                           input)));
}

absl::StatusOr<Claims> JwtSigner::Verify(std::string_view token, int64_t now_seconds,
                                         int64_t leeway_seconds) const {
  std::vector<absl::string_view> parts = absl::StrSplit(AV(token), '.');
  if (parts.size() != 3 || token.size() > 8192) {
    return Refused("TOKEN_MALFORMED", "the token is not a JWT");
  }
  auto header = ParseJson(SV(parts[0]));
  if (!header.ok()) {
    return header.status();
  }
  if (Str(*header, "alg") != "HS256") {
    return Refused("TOKEN_ALGORITHM", "the token's algorithm is not accepted");
  }
  const std::string kid = Str(*header, "kid");
  const SigningKey* key = nullptr;
  for (const SigningKey& k : keys_) {
    if (k.id == kid) {
      key = &k;
    }
  }
  if (key == nullptr) {
    return Refused("TOKEN_KEY_UNKNOWN", "the token was signed with a key this service does not "
                                        "hold");
  }
  std::string signature;
  if (!crypto::Base64UrlDecode(SV(parts[2]), &signature)) {
    return Refused("TOKEN_MALFORMED", "the token's signature is not base64url");
  }
  const std::string input = absl::StrCat(parts[0], ".", parts[1]);
  if (!crypto::ConstantTimeEquals(signature,
                                  crypto::Hmac(crypto::Digest::kSha256, key->secret, input))) {
    return Refused("TOKEN_SIGNATURE", "the token's signature does not match");
  }
  auto payload = ParseJson(SV(parts[1]));
  if (!payload.ok()) {
    return payload.status();
  }
  if (Str(*payload, "iss") != issuer_) {
    return Refused("TOKEN_ISSUER", "the token was issued by someone else");
  }
  Claims c;
  if (!Num(*payload, "exp", &c.expires_at) || !Num(*payload, "iat", &c.issued_at)) {
    return Refused("TOKEN_MALFORMED", "the token has no exp or iat");
  }
  if (now_seconds > c.expires_at + leeway_seconds) {
    return Refused("TOKEN_EXPIRED", "the token has expired; refresh it");
  }
  if (c.issued_at > now_seconds + leeway_seconds) {
    return Refused("TOKEN_NOT_YET_VALID", "the token is not valid yet");
  }
  c.subject = Str(*payload, "sub");
  c.username = Str(*payload, "name");
  c.scope = Str(*payload, "scope");
  c.client_ip = Str(*payload, "cip");
  c.request_id = Str(*payload, "rid");
  c.member = Str(*payload, "member");
  c.token_id = Str(*payload, "jti");
  if (auto it = payload->fields().find("roles"); it != payload->fields().end()) {
    for (const auto& v : it->second.list_value().values()) {
      c.roles.push_back(v.string_value());
    }
  }
  if (c.subject.empty()) {
    return Refused("TOKEN_MALFORMED", "the token names no subject");
  }
  return c;
}

}  // namespace dj::auth
