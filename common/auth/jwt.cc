// HS256 JWT signing and verification.
#include "common/auth/jwt.h"

#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/rpc/errors.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"

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
                      ",\"scope\":", Quote(c.scope), ",\"member\":", Quote(c.member),
                      ",\"jti\":", Quote(c.token_id),
                      c.client_ip.empty() ? "" : absl::StrCat(",\"cip\":", Quote(c.client_ip)),
                      c.request_id.empty() ? "" : absl::StrCat(",\"rid\":", Quote(c.request_id)),
                      c.session_id.empty() ? "" : absl::StrCat(",\"sid\":", Quote(c.session_id)),
                      c.epoch == 0 ? "" : absl::StrCat(",\"sep\":", c.epoch),
                      ",\"iat\":", c.issued_at, ",\"exp\":", c.expires_at, "}");
}

// A JWT segment's JSON: one flat object whose values are strings, integers or arrays of strings
// (what our tokens carry). Strict and bounded, because the header is read before the signature
// is checked: anything else (nesting, fractions, duplicate names, trailing bytes) is malformed.
// Written here rather than through protobuf's JSON parser, which costs more than the HMAC and
// runs on every request at the gateway and again in the service.
struct JsonValue {
  std::string text;                // a string
  std::optional<int64_t> number;   // an integer
  std::vector<std::string> items;  // an array of strings
};
using JsonObject = std::map<std::string, JsonValue, std::less<>>;

class FlatJsonParser {
 public:
  explicit FlatJsonParser(std::string_view in) : in_(in) {}

  bool Parse(JsonObject* out) {
    Space();
    if (!Eat('{')) {
      return false;
    }
    Space();
    if (Eat('}')) {
      return End();
    }
    do {
      Space();
      std::string name;
      if (!String(&name)) {
        return false;
      }
      Space();
      if (!Eat(':')) {
        return false;
      }
      Space();
      JsonValue v;
      if (!Value(&v) || !out->emplace(std::move(name), std::move(v)).second) {
        return false;
      }
      Space();
    } while (Eat(','));
    return Eat('}') && End();
  }

 private:
  bool End() {
    Space();
    return pos_ == in_.size();
  }
  void Space() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Value(JsonValue* v) {
    if (pos_ >= in_.size()) {
      return false;
    }
    const char c = in_[pos_];
    if (c == '"') {
      return String(&v->text);
    }
    if (c == '[') {
      ++pos_;
      Space();
      if (Eat(']')) {
        return true;
      }
      do {
        Space();
        std::string item;
        if (!String(&item) || v->items.size() >= 64) {
          return false;
        }
        v->items.push_back(std::move(item));
        Space();
      } while (Eat(','));
      return Eat(']');
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      return Integer(v);
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (in_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return true;  // accepted and ignored (e.g. a foreign header's flags)
      }
    }
    return false;
  }
  bool Integer(JsonValue* v) {
    const bool negative = Eat('-');
    const size_t start = pos_;
    int64_t n = 0;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') {
      if (pos_ - start >= 18) {
        return false;  // larger than any time we will meet
      }
      n = n * 10 + (in_[pos_++] - '0');
    }
    if (pos_ == start || (in_[start] == '0' && pos_ - start > 1)) {
      return false;
    }
    v->number = negative ? -n : n;
    return true;
  }
  static void Utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  bool Hex4(uint32_t* cp) {
    if (pos_ + 4 > in_.size()) {
      return false;
    }
    *cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = in_[pos_++];
      *cp <<= 4;
      if (h >= '0' && h <= '9') {
        *cp |= static_cast<uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        *cp |= static_cast<uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        *cp |= static_cast<uint32_t>(h - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  bool String(std::string* out) {
    if (!Eat('"')) {
      return false;
    }
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '"') {
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return false;
      }
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) {
        return false;
      }
      switch (const char e = in_[pos_++]) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) {
            return false;
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair
            uint32_t low = 0;
            if (!Eat('\\') || !Eat('u') || !Hex4(&low) || low < 0xDC00 || low > 0xDFFF) {
              return false;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          Utf8(cp, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  std::string_view in_;
  size_t pos_ = 0;
};

absl::StatusOr<JsonObject> ParseJson(std::string_view segment) {
  std::string json;
  if (!crypto::Base64UrlDecode(segment, &json)) {
    return Refused("TOKEN_MALFORMED", "the token is not base64url");
  }
  JsonObject object;
  if (!FlatJsonParser(json).Parse(&object)) {
    return Refused("TOKEN_MALFORMED", "the token is not JSON of the expected shape");
  }
  return object;
}

std::string Str(const JsonObject& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? "" : it->second.text;
}

bool Num(const JsonObject& o, std::string_view key, int64_t* out) {
  auto it = o.find(key);
  if (it == o.end() || !it->second.number.has_value()) {
    return false;
  }
  *out = *it->second.number;
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
  const std::string header = crypto::Base64UrlEncode(
      absl::StrCat("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":", Quote(key.id), "}"));
  const std::string payload = crypto::Base64UrlEncode(ClaimsJson(claims, issuer_));
  const std::string input = absl::StrCat(header, ".", payload);
  return absl::StrCat(
      input, ".",
      crypto::Base64UrlEncode(crypto::Hmac(crypto::Digest::kSha256, key.secret, input)));
}

absl::StatusOr<Claims> JwtSigner::Verify(std::string_view token, int64_t now_seconds,
                                         int64_t leeway_seconds,
                                         int64_t expiry_leeway_seconds) const {
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
    return Refused("TOKEN_KEY_UNKNOWN",
                   "the token was signed with a key this service does not "
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
  if (now_seconds >=
      c.expires_at + (expiry_leeway_seconds >= 0 ? expiry_leeway_seconds : leeway_seconds + 1)) {
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
  c.session_id = Str(*payload, "sid");
  if (payload->contains("sep") && (!Num(*payload, "sep", &c.epoch) || c.epoch < 0)) {
    return Refused("TOKEN_MALFORMED", "the token's epoch is not a number");
  }
  if (auto it = payload->find("roles"); it != payload->end()) {
    c.roles = it->second.items;
  }
  if (c.subject.empty()) {
    return Refused("TOKEN_MALFORMED", "the token names no subject");
  }
  return c;
}

}  // namespace dj::auth
