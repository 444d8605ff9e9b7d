// Personal data at rest (GB/T 39786, PIPL): ID and phone numbers sealed with SM4-CBC and HMAC-SM3
// (encrypt-then-MAC) under rotating keys, plus an HMAC-SM3 blind index for exact-match lookup.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace dj::crypto {

struct PiiKey {
  std::string id;      // 1-16 of [A-Za-z0-9_-]
  std::string secret;  // at least 32 bytes
};

// Parses a setting "id=secret,id=secret" (the first is current: it seals; all of them open).
// Whitespace around an entry is ignored; an empty entry is an error. INVALID_ARGUMENT naming the
// problem (entry number, and the id when it is valid), never echoing a secret.
absl::StatusOr<std::vector<PiiKey>> ParsePiiKeys(std::string_view setting);

// Seals and opens values; holds only keys derived from the secrets. Copyable; thread-safe (const).
//
// Sealed format (a contract: values already in the database must open after an upgrade):
//   "<keyid>.<base64url(iv[16] || SM4-CBC-PKCS#7 ciphertext || HMAC-SM3 mac[32])>"
// SM4 key = HMAC-SM3(secret, "dangjian/pii/v1/sm4-key")[0..16),
// MAC key = HMAC-SM3(secret, "dangjian/pii/v1/mac-key"),
// mac = HMAC-SM3(MAC key, "dangjian/pii/v1/seal" || lp(key id) || lp(context) || lp(iv) ||
// lp(ciphertext)), where lp(x) is x's length as 8 bytes big-endian followed by x.
// Blind index (stored too, so also a contract) = hex HMAC-SM3(index key, "dangjian/pii/v1/index"
// || lp(purpose) || lp(normalized)), index key = HMAC-SM3(index secret,
// "dangjian/pii/v1/index-key").
class PiiVault final {
 public:
  // The longest plaintext Seal accepts (personal fields are short; this keeps lengths in int).
  static constexpr size_t kMaxPlaintext = 64 * 1024;

  // `keys`: first is current; ids unique. `index_secret` (>= 32 bytes): the blind-index key,
  // separate from the encryption keys (it must differ from all of them) and not rotated with
  // them, since rotating it would orphan every stored index. INVALID_ARGUMENT otherwise;
  // INTERNAL when this OpenSSL has no SM4-CBC.
  static absl::StatusOr<PiiVault> Create(std::vector<PiiKey> keys, std::string index_secret);

  const std::string& current_key_id() const { return keys_.front().id; }

  // Seals `plaintext` for `context`, the row and column it is stored in (e.g.
  // "members/123/id_number"), so a value copied to another row or column does not open. The
  // context is not secret but must not be personal data. INVALID_ARGUMENT for an empty context
  // or a plaintext over kMaxPlaintext. Two seals of the same text differ (fresh random IV).
  absl::StatusOr<std::string> Seal(std::string_view plaintext, std::string_view context) const;

  // Verifies the MAC (constant time) before decrypting. Errors (rpc::Reason gives the reason):
  //   DATA_LOSS, PII_SEALED_INVALID: malformed, tampered, or sealed for another context;
  //   INTERNAL, PII_KEY_UNKNOWN: sealed under a key id this vault does not hold (a retired key
  //     still in use: configuration, not the caller's fault, so INTERNAL rather than NOT_FOUND,
  //     which a client would read as "no such member"; the message names the key id);
  //   INVALID_ARGUMENT: empty context.
  absl::StatusOr<std::string> Open(std::string_view sealed, std::string_view context) const;

  // The key id a sealed value was made with, "" when it is not a well-formed sealed value (for
  // finding values still under an old key). Does not verify the MAC.
  static std::string KeyIdOf(std::string_view sealed);

  // 64 lowercase hex digits: HMAC-SM3 with the index key over `purpose` and `normalized`, domain
  // separated ("id_number" and "phone" give different indexes for the same text).
  // Deterministic; the caller normalises (e.g. upper-case X in an ID number, no spaces).
  std::string BlindIndex(std::string_view purpose, std::string_view normalized) const;

 private:
  struct DerivedKey {
    std::string id;
    std::string cipher_key;  // 16 bytes
    std::string mac_key;     // 32 bytes
  };

  PiiVault(std::vector<DerivedKey> keys, std::string index_key)
      : keys_(std::move(keys)), index_key_(std::move(index_key)) {}

  const DerivedKey* Find(std::string_view id) const;

  std::vector<DerivedKey> keys_;  // never empty; front() seals
  std::string index_key_;
};

}  // namespace dj::crypto
