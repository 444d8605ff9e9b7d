// Passwords (policy, argon2id, lockout and expiry on an injected clock) and JWT (signature, key
// rotation, algorithm, expiry, tampering).
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/auth/jwt.h"
#include "common/auth/password.h"
#include "common/crypto/crypto.h"
#include "common/rpc/errors.h"
#include "gtest/gtest.h"

namespace dj::auth {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kDay = 24 * 60 * kMinute;

TEST(PasswordPolicyTest, LengthAndClasses) {
  const PasswordPolicy p;
  struct Case {
    std::string password;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"Abcdef1!", true},          {"abcdefg1A", true}, {"Abc1234", false},  // 7 characters
      {"abcdefgh", false},         {"abcdefg1", false}, {"ABCDEFG1!", true},
      {"党建工作很重要Ab1", true},  // Chinese counts as "other"; 10 characters
      {"党建工作", false},         {"", false},
  };
  for (const Case& c : cases) {
    absl::Status s = CheckPasswordStrength(p, c.password);
    EXPECT_EQ(s.ok(), c.ok) << c.password;
    if (!s.ok()) {
      EXPECT_EQ(rpc::Violations(s)[0].field, "password");
      EXPECT_EQ(std::string(s.message()).find(c.password.empty() ? "\x01" : c.password),
                std::string::npos)
          << "the message must not echo the password";
    }
  }
  PasswordPolicy strict;
  strict.min_length = 12;
  strict.min_classes = 4;
  EXPECT_FALSE(CheckPasswordStrength(strict, "Abcdef1!").ok());
  EXPECT_TRUE(CheckPasswordStrength(strict, "Abcdefghij1!").ok());
}

TEST(PasswordHashTest, Argon2idRoundTripWithFreshSalts) {
  PasswordPolicy fast;  // small costs keep the test quick; the format is the same
  fast.memory_kib = 1024;
  fast.passes = 1;
  auto a = HashPassword(fast, "Correct horse 1");
  auto b = HashPassword(fast, "Correct horse 1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->starts_with("$argon2id$v=19$m=1024,t=1,p=1$")) << *a;
  EXPECT_NE(*a, *b);  // salted
  EXPECT_TRUE(VerifyPassword(*a, "Correct horse 1"));
  EXPECT_FALSE(VerifyPassword(*a, "Correct horse 2"));
  EXPECT_FALSE(VerifyPassword("not a hash", "x"));
  EXPECT_FALSE(VerifyPassword("", ""));
}

// The account lock (Step 5: from any addresses, so at a threshold one stranger cannot reach
// quickly; one address is slowed by DelayAfter long before).
TEST(LockoutTest, FiftyFailuresLockForThirtyMinutes) {
  const PasswordPolicy p;
  LoginState s;
  const int64_t t0 = 1'800'000'000 * kSecond;
  for (int i = 1; i <= 49; ++i) {
    s = AfterFailure(p, s, t0 + i * kSecond);
    EXPECT_FALSE(IsLocked(s, t0 + i * kSecond)) << i;
  }
  s = AfterFailure(p, s, t0 + 50 * kSecond);
  EXPECT_TRUE(IsLocked(s, t0 + 50 * kSecond));
  EXPECT_TRUE(IsLocked(s, t0 + 50 * kSecond + 30 * kMinute - 1));
  EXPECT_FALSE(IsLocked(s, t0 + 50 * kSecond + 30 * kMinute));
  EXPECT_EQ(s.failed_attempts, 0);  // a fresh count once the lock ends
}

TEST(LockoutTest, FailuresADayOldStopCounting) {
  const PasswordPolicy p{.lock_failures = 3};
  const int64_t t0 = 1'800'000'000 * kSecond;
  LoginState s = AfterFailure(p, LoginState{}, t0);
  s = AfterFailure(p, s, t0 + kDay - 1);  // within the day: 2
  EXPECT_EQ(s.failed_attempts, 2);
  s = AfterFailure(p, s, t0 + kDay - 1 + kDay);  // a whole day after the last one: starts again
  EXPECT_EQ(s.failed_attempts, 1);
  EXPECT_FALSE(IsLocked(s, t0 + 2 * kDay));
  s = AfterFailure(p, s, t0 + 2 * kDay);
  s = AfterFailure(p, s, t0 + 2 * kDay + 1);
  EXPECT_TRUE(IsLocked(s, t0 + 2 * kDay + 1));
}

// Per (username, address): five free attempts, then 30 s doubling up to the 30-minute cap.
TEST(LockoutTest, DelaysDoubleFromThirtySecondsToThirtyMinutes) {
  const PasswordPolicy p;
  const std::vector<std::pair<int64_t, int64_t>> cases = {
      {0, 0},   {4, 0},    {5, 30},    {6, 60},    {7, 120},     {8, 240},
      {9, 480}, {10, 960}, {11, 1800}, {12, 1800}, {1000, 1800}, {int64_t{1} << 40, 1800}};
  for (const auto& [failures, seconds] : cases) {
    EXPECT_EQ(DelayAfter(p, failures), std::chrono::seconds(seconds)) << failures;
  }
  const PasswordPolicy strict{.max_failures = 1,
                              .first_delay = std::chrono::seconds(1),
                              .lockout = std::chrono::minutes(1)};
  EXPECT_EQ(DelayAfter(strict, 0), std::chrono::seconds(0));
  EXPECT_EQ(DelayAfter(strict, 1), std::chrono::seconds(1));
  EXPECT_EQ(DelayAfter(strict, 7), std::chrono::seconds(60));  // 64 s, capped
}

TEST(LockoutTest, ExpiryAndFirstLoginChange) {
  const PasswordPolicy p;
  const int64_t changed = 1'800'000'000 * kSecond;
  LoginState s{.failed_attempts = 3, .password_changed_us = changed};
  EXPECT_EQ(AfterSuccess(p, &s, changed + 89 * kDay), LoginCheck::kOk);
  EXPECT_EQ(s.failed_attempts, 0);
  EXPECT_EQ(AfterSuccess(p, &s, changed + 90 * kDay), LoginCheck::kExpired);
  LoginState initial{.password_changed_us = changed, .must_change = true};
  EXPECT_EQ(AfterSuccess(p, &initial, changed + kSecond), LoginCheck::kMustChange);
}

class JwtTest : public ::testing::Test {
 protected:
  const std::string secret_a_ = std::string(32, 'a');
  const std::string secret_b_ = std::string(32, 'b');
  const int64_t now_ = 1'800'000'000;

  Claims Sample() {
    return {.subject = "accounts/1",
            .username = "admin",
            .roles = {"committee_admin"},
            .scope = "organizations/1",
            .token_id = "t-1",
            .issued_at = now_,
            .expires_at = now_ + 900};
  }
};

TEST_F(JwtTest, SignVerifyAndRotate) {
  auto signer = JwtSigner::Create({{"k1", secret_a_}}, "dangjian");
  ASSERT_TRUE(signer.ok());
  const std::string token = signer->Sign(Sample());
  auto claims = signer->Verify(token, now_ + 10);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "accounts/1");
  EXPECT_EQ(claims->roles, std::vector<std::string>{"committee_admin"});
  EXPECT_EQ(claims->scope, "organizations/1");

  // After rotation k2 signs, and tokens signed with k1 still verify until k1 is dropped.
  auto rotated = JwtSigner::Create({{"k2", secret_b_}, {"k1", secret_a_}}, "dangjian");
  EXPECT_TRUE(rotated->Verify(token, now_ + 10).ok());
  auto dropped = JwtSigner::Create({{"k2", secret_b_}}, "dangjian");
  EXPECT_EQ(rpc::Reason(dropped->Verify(token, now_ + 10).status()), "TOKEN_KEY_UNKNOWN");
}

TEST_F(JwtTest, RefusesEveryBadToken) {
  auto signer = *JwtSigner::Create({{"k1", secret_a_}}, "dangjian");
  const std::string good = signer.Sign(Sample());
  const size_t dot1 = good.find('.');
  const size_t dot2 = good.rfind('.');
  std::string flipped = good;
  flipped[dot2 + 3] = flipped[dot2 + 3] == 'A' ? 'B' : 'A';
  std::string payload;
  ASSERT_TRUE(crypto::Base64UrlDecode(good.substr(dot1 + 1, dot2 - dot1 - 1), &payload));
  std::string escalated = payload;
  escalated.replace(escalated.find("committee_admin"), 15, "committee_ADMIN");
  const std::string forged =
      good.substr(0, dot1 + 1) + crypto::Base64UrlEncode(escalated) + good.substr(dot2);
  const std::string none_alg = crypto::Base64UrlEncode(R"({"alg":"none","typ":"JWT","kid":"k1"})") +
                               good.substr(dot1, dot2 - dot1) + ".";
  auto other_issuer = *JwtSigner::Create({{"k1", secret_a_}}, "someone-else");
  auto other_key = *JwtSigner::Create({{"k1", secret_b_}}, "dangjian");

  struct Case {
    std::string token;
    int64_t now;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"", now_, "TOKEN_MALFORMED"},
      {"a.b", now_, "TOKEN_MALFORMED"},
      {"!!.??.**", now_, "TOKEN_MALFORMED"},
      {flipped, now_, "TOKEN_SIGNATURE"},
      {forged, now_, "TOKEN_SIGNATURE"},
      {none_alg, now_, "TOKEN_ALGORITHM"},
      {other_key.Sign(Sample()), now_, "TOKEN_SIGNATURE"},
      {other_issuer.Sign(Sample()), now_, "TOKEN_ISSUER"},
      {good, now_ + 900 + 31, "TOKEN_EXPIRED"},
      {good, now_ - 31, "TOKEN_NOT_YET_VALID"},
  };
  for (const Case& c : cases) {
    auto v = signer.Verify(c.token, c.now);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated) << c.reason;
    EXPECT_EQ(rpc::Reason(v.status()), c.reason) << c.token;
  }
  EXPECT_TRUE(signer.Verify(good, now_ + 900 + 30).ok());  // within the leeway
  EXPECT_FALSE(JwtSigner::Create({{"k1", "short"}}, "dangjian").ok());
  EXPECT_FALSE(JwtSigner::Create({}, "dangjian").ok());
}

// Tokens whose signature is right but whose JSON is not what we sign: the claims parser is strict.
TEST_F(JwtTest, ReadsOnlyFlatJsonOfTheExpectedShape) {
  auto signer = *JwtSigner::Create({{"k1", secret_a_}}, "dangjian");
  const std::string header = crypto::Base64UrlEncode(R"({"alg":"HS256","typ":"JWT","kid":"k1"})");
  auto sign = [&](const std::string& payload_json) {
    const std::string input = header + "." + crypto::Base64UrlEncode(payload_json);
    return input + "." +
           crypto::Base64UrlEncode(crypto::Hmac(crypto::Digest::kSha256, secret_a_, input));
  };
  const std::string times = absl::StrCat(R"("iat":)", now_, R"(,"exp":)", now_ + 900);

  // Escapes, \u sequences (a surrogate pair too), whitespace and ignored literals are read.
  auto ok = signer.Verify(
      sign(absl::StrCat(
          R"( { "iss" : "dangjian", "sub":"accounts/7", "name":"\u674e\u96f7 \"x\"\\",)",
          R"( "roles":[ "secretary" , "auditor" ], "typ":null, "x":true, "e":"\ud83d\ude00",)",
          times, "}\n")),
      now_);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->username, "李雷 \"x\"\\");
  EXPECT_EQ(ok->roles, (std::vector<std::string>{"secretary", "auditor"}));

  // A round trip of what Sign writes, with characters that need escaping.
  Claims odd = Sample();
  odd.username = "王\t\"五\"\n";
  auto round = signer.Verify(signer.Sign(odd), now_);
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(round->username, odd.username);

  for (const std::string& bad : {
           absl::StrCat(R"({"iss":"dangjian","sub":"accounts/7",)", times,
                        R"(,"sub":"accounts/1"})"),
           absl::StrCat(R"({"iss":"dangjian","sub":{"id":7},)", times, "}"),
           absl::StrCat(R"({"iss":"dangjian","sub":"accounts/7",)", times, "} x"),
           absl::StrCat(R"({"iss":"dangjian","sub":"accounts/7","roles":[1],)", times, "}"),
           absl::StrCat(R"({"iss":"dangjian","sub":"accounts/7","iat":1.5,"exp":)", now_, "}"),
           absl::StrCat(R"({"iss":"dangjian","sub":"accounts/7","n":01,)", times, "}"),
           absl::StrCat(R"({"iss":"dangjian","sub":"\ud800",)", times, "}"),
           absl::StrCat(R"({"iss":"dangjian","sub":"a)", "\x01", R"(",)", times, "}"),
           absl::StrCat(R"({"iss":"dangjian","sub":"accounts/7",)", times),
           std::string("[]"),
       }) {
    EXPECT_EQ(rpc::Reason(signer.Verify(sign(bad), now_).status()), "TOKEN_MALFORMED") << bad;
  }
}

// Known answers (RFC 4231 case 2; HMAC-SM3 from `openssl dgst -sm3 -hmac key`), asked again
// after other keys and after more keys than a thread keeps keyed, so the contexts reused per
// key give the one-shot answer every time.
TEST(CryptoTest, HmacKnownAnswersHoldAcrossManyKeys) {
  const std::string sha = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  const std::string sm3 = "28e63256e7c5a087b1f073265dc53092163f7b82729735d06f28f10af9d52393";
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(crypto::HmacHex(crypto::Digest::kSha256, "Jefe", "what do ya want for nothing?"),
              sha);
    EXPECT_EQ(crypto::HmacHex(crypto::Digest::kSm3, "key", "abc"), sm3);
    for (int k = 0; k < 12; ++k) {
      EXPECT_NE(crypto::HmacHex(crypto::Digest::kSha256, absl::StrCat("other-", k), "abc"), sha);
    }
  }
  std::string from_thread;
  std::thread([&] {
    from_thread = crypto::HmacHex(crypto::Digest::kSha256, "Jefe", "what do ya want for nothing?");
  }).join();
  EXPECT_EQ(from_thread, sha);
}

TEST(CryptoTest, HmacSm3KnownAnswerAndHelpers) {
  // HMAC-SM3 over "abc" with an empty-ish key must differ from SHA-256 and be stable.
  const std::string a = crypto::HmacHex(crypto::Digest::kSm3, "key", "abc");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a, crypto::HmacHex(crypto::Digest::kSm3, "key", "abc"));
  EXPECT_NE(a, crypto::HmacHex(crypto::Digest::kSha256, "key", "abc"));
  EXPECT_NE(a, crypto::HmacHex(crypto::Digest::kSm3, "key2", "abc"));
  EXPECT_TRUE(crypto::ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(crypto::ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(crypto::ConstantTimeEquals("abc", "abcd"));
  EXPECT_EQ(crypto::RandomBytes(16).size(), 16u);
  EXPECT_NE(crypto::RandomBytes(16), crypto::RandomBytes(16));
  std::string out;
  EXPECT_TRUE(crypto::Base64UrlDecode(crypto::Base64UrlEncode("\xff\xfe?"), &out));
  EXPECT_EQ(out, "\xff\xfe?");
  EXPECT_FALSE(crypto::Base64UrlDecode("ab+/", &out));
}

}  // namespace
}  // namespace dj::auth
