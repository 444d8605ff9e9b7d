// OpenSSL 3 behind the crypto helpers.
#include "common/crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/runtime/strings.h"

namespace dj::crypto {

namespace {

struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// A context keyed once per (thread, digest, key) and re-initialised with that key for each MAC:
// the one-shot HMAC() fetched the digest and hashed the key's pads on every call, which the
// gateway's profile showed as most of signing and checking the internal token (bench/README.md).
EVP_MAC_CTX* KeyedContext(Digest digest, std::string_view key) {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) {
    throw std::runtime_error("HMAC unavailable");  // only on a broken OpenSSL install
  }
  struct Entry {
    Digest digest;
    std::string key;
    std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx;
  };
  constexpr size_t kMaxKeys = 8;  // a process holds a handful of keys
  thread_local std::vector<Entry> keyed;
  for (Entry& e : keyed) {
    if (e.digest == digest && e.key == key) {
      if (EVP_MAC_init(e.ctx.get(), nullptr, 0, nullptr) != 1) {
        throw std::runtime_error("HMAC failed");
      }
      return e.ctx.get();
    }
  }
  std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(mac));
  char* name = const_cast<char*>(digest == Digest::kSha256 ? "SHA256" : "SM3");
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, name, 0),
                               OSSL_PARAM_construct_end()};
  if (ctx == nullptr ||
      EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   params) != 1) {
    throw std::runtime_error("HMAC failed");
  }
  if (keyed.size() >= kMaxKeys) {
    keyed.erase(keyed.begin());
  }
  keyed.push_back(Entry{digest, std::string(key), std::move(ctx)});
  return keyed.back().ctx.get();
}

}  // namespace

std::string Hmac(Digest digest, std::string_view key, std::string_view data) {
  EVP_MAC_CTX* ctx = KeyedContext(digest, key);
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx, out, &len, sizeof out) != 1) {
    throw std::runtime_error("HMAC failed");  // only on a broken OpenSSL install
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string HmacHex(Digest digest, std::string_view key, std::string_view data) {
  return Hex(Hmac(digest, key, data));
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Base64UrlEncode(std::string_view data) {
  return absl::WebSafeBase64Escape(AV(data));  // absl omits the padding
}

bool Base64UrlDecode(std::string_view text, std::string* out) {
  if (text.find_first_of("+/=") != std::string_view::npos) {
    return false;  // only the unpadded URL alphabet is accepted
  }
  return absl::WebSafeBase64Unescape(AV(text), out);
}

std::string Hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

}  // namespace dj::crypto
