// SM4-CBC + HMAC-SM3 sealing of personal data and its blind index, through OpenSSL 3 EVP.
#include "common/crypto/pii.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"

namespace dj::crypto {
namespace {

constexpr size_t kBlock = 16;  // SM4 block and IV
constexpr size_t kMacSize = 32;
constexpr size_t kMinSecret = 32;
constexpr size_t kMaxKeyId = 16;
// iv, at least one block (PKCS#7 always pads), mac.
constexpr size_t kMinPayload = kBlock + kBlock + kMacSize;

constexpr std::string_view kCipherKeyLabel = "dangjian/pii/v1/sm4-key";
constexpr std::string_view kMacKeyLabel = "dangjian/pii/v1/mac-key";
constexpr std::string_view kSealLabel = "dangjian/pii/v1/seal";
constexpr std::string_view kIndexKeyLabel = "dangjian/pii/v1/index-key";
constexpr std::string_view kIndexLabel = "dangjian/pii/v1/index";

constexpr std::string_view kReasonInvalid = "PII_SEALED_INVALID";
constexpr std::string_view kReasonKeyUnknown = "PII_KEY_UNKNOWN";

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// Fetched once: an explicit fetch per call costs a provider lookup each time.
const EVP_CIPHER* Sm4Cbc() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "SM4-CBC", nullptr);
  return cipher;
}

bool ValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > kMaxKeyId) {
    return false;
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

void AppendLengthPrefixed(std::string* out, std::string_view field) {
  const uint64_t n = field.size();
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((n >> shift) & 0xff));
  }
  out->append(field);
}

std::string MacInput(std::string_view key_id, std::string_view context, std::string_view iv,
                     std::string_view ciphertext) {
  std::string in(kSealLabel);
  in.reserve(in.size() + 4 * 8 + key_id.size() + context.size() + iv.size() + ciphertext.size());
  AppendLengthPrefixed(&in, key_id);
  AppendLengthPrefixed(&in, context);
  AppendLengthPrefixed(&in, iv);
  AppendLengthPrefixed(&in, ciphertext);
  return in;
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

absl::Status Invalid() {
  // Says nothing about which check failed: a caller probing tampered values learns nothing more.
  return rpc::Error(absl::StatusCode::kDataLoss, kReasonInvalid,
                    "sealed personal data is malformed, tampered with, or not for this field");
}

absl::Status CheckContext(std::string_view context) {
  if (context.empty()) {
    return absl::InvalidArgumentError("a sealing context (row and column) is required");
  }
  return absl::OkStatus();
}

// Splits "<keyid>.<base64url>" and decodes the payload; false when it is not that shape.
bool Split(std::string_view sealed, std::string_view* key_id, std::string* payload) {
  const size_t dot = sealed.find('.');
  if (dot == std::string_view::npos) {
    return false;
  }
  *key_id = sealed.substr(0, dot);
  const std::string_view encoded = sealed.substr(dot + 1);
  // Bounds the decode before it allocates (base64 is 4 characters per 3 bytes).
  constexpr size_t kMaxPayload = kBlock + PiiVault::kMaxPlaintext + kBlock + kMacSize;
  if (!ValidKeyId(*key_id) || encoded.size() > (kMaxPayload + 2) / 3 * 4 ||
      !Base64UrlDecode(encoded, payload)) {
    return false;
  }
  // Only the canonical encoding: the decoder ignores the unused low bits of the last character,
  // and one stored value should have one spelling (no silent variants that still open).
  return payload->size() >= kMinPayload && (payload->size() - kBlock - kMacSize) % kBlock == 0 &&
         Base64UrlEncode(*payload) == encoded;
}

}  // namespace

absl::StatusOr<std::vector<PiiKey>> ParsePiiKeys(std::string_view setting) {
  if (absl::StripAsciiWhitespace(AV(setting)).empty()) {
    return absl::InvalidArgumentError("no PII keys: expected id=secret[,id=secret...]");
  }
  std::vector<PiiKey> keys;
  int n = 0;
  for (absl::string_view raw : absl::StrSplit(AV(setting), ',')) {
    ++n;
    const absl::string_view entry = absl::StripAsciiWhitespace(raw);
    if (entry.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("PII key entry ", n, " is empty"));
    }
    const size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("PII key entry ", n, " is not of the form id=secret"));
    }
    PiiKey key{std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1))};
    if (!ValidKeyId(key.id)) {
      // The id is not echoed: a malformed entry may be a secret pasted in the wrong place.
      return absl::InvalidArgumentError(absl::StrCat("PII key entry ", n, ": the key id must be 1-",
                                                     kMaxKeyId, " of A-Z a-z 0-9 _ -"));
    }
    if (key.secret.size() < kMinSecret) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PII key '", key.id, "': the secret must be at least ", kMinSecret, " bytes"));
    }
    if (std::any_of(keys.begin(), keys.end(), [&](const PiiKey& k) { return k.id == key.id; })) {
      return absl::InvalidArgumentError(
          absl::StrCat("PII key id '", key.id, "' appears more than once"));
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

absl::StatusOr<PiiVault> PiiVault::Create(std::vector<PiiKey> keys, std::string index_secret) {
  if (keys.empty()) {
    return absl::InvalidArgumentError("at least one PII key is needed");
  }
  if (index_secret.size() < kMinSecret) {
    return absl::InvalidArgumentError(
        absl::StrCat("the blind-index secret must be at least ", kMinSecret, " bytes"));
  }
  if (Sm4Cbc() == nullptr) {
    return absl::InternalError("this OpenSSL has no SM4-CBC (needs OpenSSL 3 with SM4 enabled)");
  }
  std::vector<DerivedKey> derived;
  for (const PiiKey& k : keys) {
    if (!ValidKeyId(k.id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("a PII key id must be 1-", kMaxKeyId, " of A-Z a-z 0-9 _ -"));
    }
    if (k.secret.size() < kMinSecret) {
      return absl::InvalidArgumentError(
          absl::StrCat("PII key '", k.id, "': the secret must be at least ", kMinSecret, " bytes"));
    }
    if (std::any_of(derived.begin(), derived.end(),
                    [&](const DerivedKey& d) { return d.id == k.id; })) {
      return absl::InvalidArgumentError(
          absl::StrCat("PII key id '", k.id, "' appears more than once"));
    }
    if (ConstantTimeEquals(k.secret, index_secret)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the blind-index secret must differ from the secret of PII key '", k.id, "'"));
    }
    derived.push_back(DerivedKey{k.id,
                                 Hmac(Digest::kSm3, k.secret, kCipherKeyLabel).substr(0, kBlock),
                                 Hmac(Digest::kSm3, k.secret, kMacKeyLabel)});
  }
  return PiiVault(std::move(derived), Hmac(Digest::kSm3, index_secret, kIndexKeyLabel));
}

const PiiVault::DerivedKey* PiiVault::Find(std::string_view id) const {
  for (const DerivedKey& k : keys_) {
    if (k.id == id) {
      return &k;
    }
  }
  return nullptr;
}

absl::StatusOr<std::string> PiiVault::Seal(std::string_view plaintext,
                                           std::string_view context) const {
  if (absl::Status s = CheckContext(context); !s.ok()) {
    return s;
  }
  if (plaintext.size() > kMaxPlaintext) {
    return absl::InvalidArgumentError(
        absl::StrCat("personal data to seal is longer than ", kMaxPlaintext, " bytes"));
  }
  const DerivedKey& key = keys_.front();
  const std::string iv = RandomBytes(kBlock);
  std::string ciphertext(plaintext.size() + kBlock, '\0');  // PKCS#7 adds 1 to 16 bytes
  auto* out = reinterpret_cast<unsigned char*>(ciphertext.data());
  int len = 0;
  int final_len = 0;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), Sm4Cbc(), Bytes(key.cipher_key), Bytes(iv), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out + len, &final_len) != 1) {
    return absl::InternalError("SM4 encryption failed");
  }
  ciphertext.resize(static_cast<size_t>(len) + static_cast<size_t>(final_len));
  const std::string mac =
      Hmac(Digest::kSm3, key.mac_key, MacInput(key.id, context, iv, ciphertext));
  return absl::StrCat(key.id, ".", Base64UrlEncode(absl::StrCat(iv, ciphertext, mac)));
}

absl::StatusOr<std::string> PiiVault::Open(std::string_view sealed,
                                           std::string_view context) const {
  if (absl::Status s = CheckContext(context); !s.ok()) {
    return s;
  }
  std::string_view key_id;
  std::string payload;
  if (!Split(sealed, &key_id, &payload)) {
    return Invalid();
  }
  const DerivedKey* key = Find(key_id);
  if (key == nullptr) {
    return rpc::Error(absl::StatusCode::kInternal, kReasonKeyUnknown,
                      absl::StrCat("personal data sealed under key '", AV(key_id),
                                   "', which is not among the configured PII keys"));
  }
  const std::string_view all(payload);
  const std::string_view iv = all.substr(0, kBlock);
  const std::string_view ciphertext = all.substr(kBlock, all.size() - kBlock - kMacSize);
  const std::string_view mac = all.substr(all.size() - kMacSize);
  if (!ConstantTimeEquals(
          mac, Hmac(Digest::kSm3, key->mac_key, MacInput(key->id, context, iv, ciphertext)))) {
    return Invalid();
  }
  std::string plaintext(ciphertext.size() + kBlock, '\0');  // EVP's documented bound
  auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
  int len = 0;
  int final_len = 0;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) {
    return absl::InternalError("SM4 decryption failed");
  }
  if (EVP_DecryptInit_ex2(ctx.get(), Sm4Cbc(), Bytes(key->cipher_key), Bytes(iv), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out, &len, Bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out + len, &final_len) != 1) {
    // Bad padding behind a good MAC: sealed by something else holding the key.
    return Invalid();
  }
  plaintext.resize(static_cast<size_t>(len) + static_cast<size_t>(final_len));
  return plaintext;
}

std::string PiiVault::KeyIdOf(std::string_view sealed) {
  std::string_view key_id;
  std::string payload;
  if (!Split(sealed, &key_id, &payload)) {
    return "";
  }
  return std::string(key_id);
}

std::string PiiVault::BlindIndex(std::string_view purpose, std::string_view normalized) const {
  std::string in(kIndexLabel);
  AppendLengthPrefixed(&in, purpose);
  AppendLengthPrefixed(&in, normalized);
  return Hex(Hmac(Digest::kSm3, index_key_, in));
}

}  // namespace dj::crypto
