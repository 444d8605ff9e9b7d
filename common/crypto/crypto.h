// The few cryptographic primitives the suite uses, through OpenSSL 3, in one place: HMAC with
// SHA-256 (JWT) or SM3 (GB/T 39786: the audit chain, blind indexes), secure random bytes,
// constant-time comparison and base64url.
#pragma once

#include <string>
#include <string_view>

namespace dj::crypto {

enum class Digest { kSha256, kSm3 };

// The raw MAC (32 bytes for both digests).
std::string Hmac(Digest digest, std::string_view key, std::string_view data);
std::string HmacHex(Digest digest, std::string_view key, std::string_view data);

// `n` bytes from the operating system's CSPRNG.
std::string RandomBytes(size_t n);

// Equal contents, in time that does not depend on where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

std::string Base64UrlEncode(std::string_view data);  // no padding (RFC 7515)
bool Base64UrlDecode(std::string_view text, std::string* out);

std::string Hex(std::string_view bytes);

}  // namespace dj::crypto
