// Personal data at rest: SM4 really is the cipher, the sealed format is what pii.h documents,
// round trips, context binding, tampering, malformed input, key rotation, blind indexes and key
// settings.
#include "common/crypto/pii.h"

#include <openssl/evp.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/rpc/errors.h"
#include "gtest/gtest.h"

namespace dj::crypto {
namespace {

const std::string kSecret1 = "k1-secret-0123456789abcdefghijklmnopqrstuv";
const std::string kSecret2 = "k2-secret-0123456789abcdefghijklmnopqrstuv";
const std::string kSecret3 = "k3-secret-0123456789abcdefghijklmnopqrstuv";
const std::string kIndexSecret = "index-secret-0123456789abcdefghijklmnopqr";
const std::string kContext = "members/123/id_number";
const std::string kIdNumber = "11010519491231002X";

PiiVault MakeVault(std::vector<PiiKey> keys, std::string index_secret = kIndexSecret) {
  absl::StatusOr<PiiVault> v = PiiVault::Create(std::move(keys), std::move(index_secret));
  if (!v.ok()) {
    ADD_FAILURE() << v.status();
    std::abort();
  }
  return *std::move(v);
}

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// One-shot EVP through a named cipher, padding off: the test's own view of SM4.
std::string EvpCrypt(const char* name, bool encrypt, std::string_view key, std::string_view iv,
                     std::string_view in, bool padding) {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, name, nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string out(in.size() + 16, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  int fin = 0;
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  const auto* i = iv.empty() ? nullptr : reinterpret_cast<const unsigned char*>(iv.data());
  bool ok = cipher != nullptr && ctx != nullptr &&
            EVP_CipherInit_ex2(ctx, cipher, k, i, encrypt ? 1 : 0, nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx, padding ? 1 : 0) == 1 &&
            EVP_CipherUpdate(ctx, o, &len, reinterpret_cast<const unsigned char*>(in.data()),
                             static_cast<int>(in.size())) == 1 &&
            EVP_CipherFinal_ex(ctx, o + len, &fin) == 1;
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(cipher);
  EXPECT_TRUE(ok) << name;
  out.resize(ok ? static_cast<size_t>(len + fin) : 0);
  return out;
}

std::string LengthPrefixed(std::string_view s) {
  std::string out;
  const uint64_t n = s.size();
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  out.append(s);
  return out;
}

// Splits a sealed value into key id and decoded payload (the test's own parser).
std::pair<std::string, std::string> Parts(const std::string& sealed) {
  const size_t dot = sealed.find('.');
  std::string payload;
  EXPECT_NE(dot, std::string::npos);
  EXPECT_TRUE(Base64UrlDecode(std::string_view(sealed).substr(dot + 1), &payload));
  return {sealed.substr(0, dot), payload};
}

std::string Reassemble(const std::string& key_id, const std::string& payload) {
  return absl::StrCat(key_id, ".", Base64UrlEncode(payload));
}

void ExpectInvalid(const absl::StatusOr<std::string>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << what << ": " << r.status();
  EXPECT_EQ(rpc::Reason(r.status()), "PII_SEALED_INVALID") << what;
}

// No secret and no plaintext in an error message.
void ExpectNothingSecretIn(const absl::Status& s) {
  const std::string m(s.message());
  for (const std::string& secret : {kSecret1, kSecret2, kSecret3, kIndexSecret, kIdNumber}) {
    EXPECT_EQ(m.find(secret), std::string::npos) << m;
  }
}

// GB/T 32907-2016 appendix A, example 1.
TEST(Sm4Test, KnownAnswerFromTheStandard) {
  const std::string key = FromHex("0123456789abcdeffedcba9876543210");
  const std::string expected = "681edf34d206965e86b3e94f536e4246";
  EXPECT_EQ(Hex(EvpCrypt("SM4-ECB", true, key, "", key, false)), expected);
  // CBC with a zero IV is ECB on the first block: the vault's cipher is that SM4.
  EXPECT_EQ(Hex(EvpCrypt("SM4-CBC", true, key, std::string(16, '\0'), key, false)), expected);
}

// Opens a vault's output with nothing but the format documented in pii.h and raw SM4-CBC and
// HMAC-SM3: pins the cipher, the key derivation and the MAC input, so values already stored keep
// opening after a change to pii.cc.
TEST(PiiVaultTest, SealedValueFollowsTheDocumentedFormat) {
  const PiiVault vault = MakeVault({{"k1", kSecret1}});
  const std::string plaintext = "13800138000";
  const absl::StatusOr<std::string> sealed = vault.Seal(plaintext, kContext);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  const auto [key_id, payload] = Parts(*sealed);
  EXPECT_EQ(key_id, "k1");
  ASSERT_EQ(payload.size(), 16u + 16u + 32u);  // iv, one padded block, mac

  const std::string cipher_key =
      Hmac(Digest::kSm3, kSecret1, "dangjian/pii/v1/sm4-key").substr(0, 16);
  const std::string mac_key = Hmac(Digest::kSm3, kSecret1, "dangjian/pii/v1/mac-key");
  const std::string iv = payload.substr(0, 16);
  const std::string ciphertext = payload.substr(16, payload.size() - 48);
  const std::string mac = payload.substr(payload.size() - 32);
  EXPECT_EQ(
      mac, Hmac(Digest::kSm3, mac_key,
                absl::StrCat("dangjian/pii/v1/seal", LengthPrefixed("k1"), LengthPrefixed(kContext),
                             LengthPrefixed(iv), LengthPrefixed(ciphertext))));
  EXPECT_EQ(EvpCrypt("SM4-CBC", false, cipher_key, iv, ciphertext, true), plaintext);

  const std::string index_key = Hmac(Digest::kSm3, kIndexSecret, "dangjian/pii/v1/index-key");
  EXPECT_EQ(vault.BlindIndex("phone", plaintext),
            HmacHex(Digest::kSm3, index_key,
                    absl::StrCat("dangjian/pii/v1/index", LengthPrefixed("phone"),
                                 LengthPrefixed(plaintext))));
}

TEST(PiiVaultTest, RoundTrips) {
  const PiiVault vault = MakeVault({{"k1", kSecret1}});
  const std::vector<std::string> cases = {
      "",  // a whole block of padding
      "a",
      std::string(15, 'x'),  // one byte of padding
      std::string(16, 'x'),  // a full block: a second block of padding
      kIdNumber,
      "13800138000",
      "张三丰，北京市朝阳区建国路88号",  // UTF-8
      std::string("nul\0inside", 10),
      std::string(1024, 'k'),
      std::string(PiiVault::kMaxPlaintext, '\xff'),
  };
  for (const std::string& plaintext : cases) {
    const absl::StatusOr<std::string> sealed = vault.Seal(plaintext, kContext);
    ASSERT_TRUE(sealed.ok()) << plaintext.size() << ": " << sealed.status();
    for (char c : *sealed) {  // safe for a VARCHAR
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')
          << static_cast<int>(c);
    }
    EXPECT_TRUE(sealed->starts_with("k1."));
    EXPECT_EQ(Parts(*sealed).second.size(), 16 + (plaintext.size() / 16 + 1) * 16 + 32);
    const absl::StatusOr<std::string> opened = vault.Open(*sealed, kContext);
    ASSERT_TRUE(opened.ok()) << plaintext.size() << ": " << opened.status();
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(PiiVaultTest, SealRejectsOversizeTextAndEmptyContext) {
  const PiiVault vault = MakeVault({{"k1", kSecret1}});
  const auto too_long = vault.Seal(std::string(PiiVault::kMaxPlaintext + 1, 'a'), kContext);
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  const auto no_context = vault.Seal(kIdNumber, "");
  EXPECT_EQ(no_context.status().code(), absl::StatusCode::kInvalidArgument);
  ExpectNothingSecretIn(no_context.status());
  const auto sealed = vault.Seal(kIdNumber, kContext);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(vault.Open(*sealed, "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PiiVaultTest, TwoSealsOfTheSameTextDiffer) {
  const PiiVault vault = MakeVault({{"k1", kSecret1}});
  const auto a = vault.Seal(kIdNumber, kContext);
  const auto b = vault.Seal(kIdNumber, kContext);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_NE(Parts(*a).second.substr(0, 16), Parts(*b).second.substr(0, 16));  // the IVs
  EXPECT_EQ(*vault.Open(*a, kContext), *vault.Open(*b, kContext));
}

TEST(PiiVaultTest, AnotherRowOrColumnDoesNotOpen) {
  const PiiVault vault = MakeVault({{"k1", kSecret1}});
  const auto sealed = vault.Seal(kIdNumber, kContext);
  ASSERT_TRUE(sealed.ok());
  for (const char* context : {"members/124/id_number", "members/123/phone", "members/12/id_number",
                              "members/123/id_number ", "Members/123/id_number"}) {
    const auto r = vault.Open(*sealed, context);
    ExpectInvalid(r, context);
    if (!r.ok()) {
      ExpectNothingSecretIn(r.status());
    }
  }
}

TEST(PiiVaultTest, AnyFlippedBitFails) {
  // k3 is held too: flipping '1' (0x31) to '3' (0x33) names another known key, which the MAC
  // (over the key id) must catch.
  const PiiVault vault = MakeVault({{"k1", kSecret1}, {"k3", kSecret3}});
  const auto sealed = vault.Seal(kIdNumber, kContext);
  ASSERT_TRUE(sealed.ok());
  const auto [key_id, payload] = Parts(*sealed);
  // Every bit of iv, ciphertext and mac.
  for (size_t i = 0; i < payload.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string p = payload;
      p[i] = static_cast<char>(p[i] ^ (1 << bit));
      ExpectInvalid(vault.Open(Reassemble(key_id, p), kContext),
                    absl::StrCat("payload byte ", i, " bit ", bit));
    }
  }
  ExpectInvalid(vault.Open(Reassemble("k3", payload), kContext), "key id k1 -> k3");
  // Every bit of the text itself, key id and separator included: never opens, never crashes.
  for (size_t i = 0; i < sealed->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string s = *sealed;
      s[i] = static_cast<char>(s[i] ^ (1 << bit));
      EXPECT_FALSE(vault.Open(s, kContext).ok()) << "text byte " << i << " bit " << bit;
    }
  }
}

TEST(PiiVaultTest, MalformedInputFailsCleanly) {
  const PiiVault vault = MakeVault({{"k1", kSecret1}});
  const auto sealed = vault.Seal(kIdNumber, kContext);
  ASSERT_TRUE(sealed.ok());
  const auto [key_id, payload] = Parts(*sealed);
  std::vector<std::string> cases = {
      "",
      ".",
      "k1",
      "k1.",
      ".AAAA",
      "k1..",
      "k1.!!!!",
      "k1.AAAA",
      absl::StrCat("k1.", std::string(200, '.')),
      absl::StrCat(*sealed, "A"),
      absl::StrCat(*sealed, "="),
      absl::StrCat(*sealed, ".", *sealed),
      absl::StrCat("k1.", Base64UrlEncode(std::string(48, 'a'))),   // no ciphertext block
      absl::StrCat("k1.", Base64UrlEncode(std::string(63, 'a'))),   // not whole blocks
      absl::StrCat("k1.", Base64UrlEncode(std::string(64, '\0'))),  // right size, all zero
      Reassemble(key_id, payload.substr(0, payload.size() - 16)),   // a block short
      Reassemble(key_id, payload.substr(16)),                       // no iv
      Reassemble("k1!", payload),
      Reassemble("k1234567890123456", payload),  // a 17-character id
      absl::StrCat("k1.", std::string(2 * PiiVault::kMaxPlaintext, 'A')),
      std::string("k1.\0AAAA", 8),
      "\xe5\xbc\xa0\xe4\xb8\x89.AAAA",
  };
  for (size_t n = 0; n < sealed->size(); ++n) {
    cases.push_back(sealed->substr(0, n));  // every truncation
  }
  for (const std::string& c : cases) {
    const auto r = vault.Open(c, kContext);
    EXPECT_FALSE(r.ok()) << c;
    EXPECT_TRUE(r.status().code() == absl::StatusCode::kDataLoss ||
                r.status().code() == absl::StatusCode::kInternal)
        << c << ": " << r.status();
  }
}

TEST(PiiVaultTest, KeyIdOf) {
  const PiiVault vault = MakeVault({{"k-2_B", kSecret2}});
  const auto sealed = vault.Seal(kIdNumber, kContext);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(PiiVault::KeyIdOf(*sealed), "k-2_B");
  for (const char* bad : {"", "k1", "k1.", "k1.AAAA", ".AAAA", "k 1.AAAA"}) {
    EXPECT_EQ(PiiVault::KeyIdOf(bad), "") << bad;
  }
}

TEST(PiiVaultTest, RotationOpensOldValuesAndSealsWithTheNewKey) {
  const PiiVault old_vault = MakeVault({{"k1", kSecret1}});
  const PiiVault rotated = MakeVault({{"k2", kSecret2}, {"k1", kSecret1}});
  EXPECT_EQ(old_vault.current_key_id(), "k1");
  EXPECT_EQ(rotated.current_key_id(), "k2");

  const auto old_value = old_vault.Seal(kIdNumber, kContext);
  ASSERT_TRUE(old_value.ok());
  EXPECT_EQ(PiiVault::KeyIdOf(*old_value), "k1");
  const auto opened = rotated.Open(*old_value, kContext);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kIdNumber);

  const auto new_value = rotated.Seal(*opened, kContext);  // re-sealing under the current key
  ASSERT_TRUE(new_value.ok());
  EXPECT_EQ(PiiVault::KeyIdOf(*new_value), "k2");
  EXPECT_EQ(*rotated.Open(*new_value, kContext), kIdNumber);

  // The old deployment does not know k2.
  const auto r = old_vault.Open(*new_value, kContext);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(rpc::Reason(r.status()), "PII_KEY_UNKNOWN");
}

TEST(PiiVaultTest, RetiredKeyIsRefusedWithAClearError) {
  const PiiVault old_vault = MakeVault({{"k1", kSecret1}});
  const PiiVault retired = MakeVault({{"k2", kSecret2}});
  const auto old_value = old_vault.Seal(kIdNumber, kContext);
  ASSERT_TRUE(old_value.ok());
  const auto r = retired.Open(*old_value, kContext);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(rpc::Reason(r.status()), "PII_KEY_UNKNOWN");
  EXPECT_NE(std::string(r.status().message()).find("'k1'"), std::string::npos)
      << r.status().message();
  ExpectNothingSecretIn(r.status());
  // Same id, different secret (a key id reused by mistake): the MAC tells.
  const PiiVault impostor = MakeVault({{"k1", kSecret3}});
  ExpectInvalid(impostor.Open(*old_value, kContext), "k1 with another secret");
}

TEST(PiiVaultTest, CopiesWork) {
  const PiiVault vault = MakeVault({{"k1", kSecret1}});
  const PiiVault copy = vault;  // NOLINT(performance-unnecessary-copy-initialization)
  PiiVault moved = MakeVault({{"k9", kSecret3}});
  moved = PiiVault(vault);
  const auto sealed = vault.Seal(kIdNumber, kContext);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(*copy.Open(*sealed, kContext), kIdNumber);
  EXPECT_EQ(*moved.Open(*sealed, kContext), kIdNumber);
}

TEST(BlindIndexTest, DeterministicAndDomainSeparated) {
  const PiiVault vault = MakeVault({{"k1", kSecret1}});
  const std::string a = vault.BlindIndex("id_number", kIdNumber);
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_EQ(a, vault.BlindIndex("id_number", kIdNumber));
  // Independent of the encryption keys: rotating them keeps every stored index valid.
  EXPECT_EQ(a, MakeVault({{"k2", kSecret2}, {"k1", kSecret1}}).BlindIndex("id_number", kIdNumber));

  EXPECT_NE(a, vault.BlindIndex("phone", kIdNumber));
  EXPECT_NE(a, vault.BlindIndex("id_number", "11010519491231002x"));
  EXPECT_NE(a, MakeVault({{"k1", kSecret1}}, kSecret2).BlindIndex("id_number", kIdNumber));
  // The boundary between purpose and value is unambiguous.
  EXPECT_NE(vault.BlindIndex("ab", "c"), vault.BlindIndex("a", "bc"));
  EXPECT_NE(vault.BlindIndex("", ""), vault.BlindIndex("phone", ""));
  EXPECT_EQ(vault.BlindIndex("", "").size(), 64u);
}

TEST(ParsePiiKeysTest, Accepts) {
  const std::string s32(32, 's');
  struct Case {
    std::string setting;
    std::vector<std::string> ids;
  };
  const std::vector<Case> cases = {
      {"k1=" + s32, {"k1"}},
      {"k2=" + kSecret2 + ",k1=" + kSecret1, {"k2", "k1"}},  // order kept: first seals
      {" k2=" + s32 + " ,\tk1=" + s32 + "\n", {"k2", "k1"}},
      {"0123456789abcdef=" + s32, {"0123456789abcdef"}},  // 16 characters
      {"A-z_9=" + s32, {"A-z_9"}},
  };
  for (const Case& c : cases) {
    const auto keys = ParsePiiKeys(c.setting);
    ASSERT_TRUE(keys.ok()) << c.setting << ": " << keys.status();
    std::vector<std::string> ids;
    EXPECT_EQ((*keys)[0].secret, c.setting.starts_with("k2=k2") ? kSecret2 : s32);
    for (const PiiKey& k : *keys) {
      ids.push_back(k.id);
      EXPECT_GE(k.secret.size(), 32u);
    }
    EXPECT_EQ(ids, c.ids) << c.setting;
  }
  // Everything after the first '=' is the secret (base64 padding included).
  const auto padded = ParsePiiKeys("k1=" + s32 + "==");
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ((*padded)[0].secret, s32 + "==");
}

TEST(ParsePiiKeysTest, Rejects) {
  const std::string s31 = "short-secret-0123456789abcdefgh";  // 31 bytes
  ASSERT_EQ(s31.size(), 31u);
  struct Case {
    std::string setting;
    std::string message_has;
  };
  const std::vector<Case> cases = {
      {"", "no PII keys"},
      {"  \n", "no PII keys"},
      {"k1=" + s31, "k1"},
      {"k1=", "at least 32"},
      {kSecret1, "entry 1 is not of the form"},  // no '=': not echoed
      {"=" + kSecret1, "entry 1: the key id"},
      {"k 1=" + kSecret1, "entry 1: the key id"},
      {"k1=" + kSecret1 + ",k.2=" + kSecret2, "entry 2: the key id"},
      {"0123456789abcdefg=" + kSecret1, "entry 1: the key id"},  // 17 characters
      {"\xe5\xaf\x86=" + kSecret1, "entry 1: the key id"},
      {"k1=" + kSecret1 + ",k1=" + kSecret2, "'k1' appears more than once"},
      {"k1=" + kSecret1 + ",,k2=" + kSecret2, "entry 2 is empty"},
      {"k1=" + kSecret1 + ",", "entry 2 is empty"},
  };
  for (const Case& c : cases) {
    const auto keys = ParsePiiKeys(c.setting);
    ASSERT_FALSE(keys.ok()) << c.setting;
    EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(keys.status().message()).find(c.message_has), std::string::npos)
        << keys.status().message();
    ExpectNothingSecretIn(keys.status());
    EXPECT_EQ(std::string(keys.status().message()).find(s31), std::string::npos);
  }
}

TEST(PiiVaultCreateTest, Rejects) {
  struct Case {
    std::vector<PiiKey> keys;
    std::string index_secret;
  };
  const std::vector<Case> cases = {
      {{}, kIndexSecret},
      {{{"k1", kSecret1}}, std::string(31, 'i')},
      {{{"k1", kSecret1}}, kSecret1},  // the index key must be separate
      {{{"k1", kSecret1}, {"k2", kIndexSecret}}, kIndexSecret},
      {{{"k1", std::string(31, 's')}}, kIndexSecret},
      {{{"", kSecret1}}, kIndexSecret},
      {{{"k/1", kSecret1}}, kIndexSecret},
      {{{"k1", kSecret1}, {"k1", kSecret2}}, kIndexSecret},
  };
  for (const Case& c : cases) {
    const auto v = PiiVault::Create(c.keys, c.index_secret);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << v.status();
    ExpectNothingSecretIn(v.status());
  }
}

}  // namespace
}  // namespace dj::crypto
