// OpenSSL 3 behind the crypto helpers.
#include "common/crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "absl/strings/escaping.h"
#include "common/runtime/strings.h"

namespace dj::crypto {

std::string Hmac(Digest digest, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* md = digest == Digest::kSha256 ? EVP_sha256() : EVP_sm3();
  if (HMAC(md, key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len) ==
      nullptr) {
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
