// The caches on the hot path: the internal token the gateway reuses for a principal, the
// services' cache of tokens already verified, and metric series found by their label values.
// Whatever is cached, a refusal stays a refusal: forged, tampered and expired tokens are refused
// on the first call and on every later one.
#include <string>
#include <thread>
#include <vector>

#include "common/auth/principal.h"
#include "common/auth/token_cache.h"
#include "common/metrics/metrics.h"
#include "common/rpc/channel.h"
#include "common/rpc/errors.h"
#include "grpcpp/test/server_context_test_spouse.h"
#include "gtest/gtest.h"

namespace dj::auth {
namespace {

constexpr int64_t kNow = 1'800'000'000;

// A server context carrying `token` (when not empty) and `request_id`, as a call would arrive.
struct Incoming {
  grpc::ServerContext context;
  grpc::testing::ServerContextTestSpouse spouse{&context};  // holds the metadata's bytes
  Incoming(const std::string& token, const std::string& request_id) {
    if (!token.empty()) {
      spouse.AddClientMetadata(kPrincipalMetadata, token);
    }
    if (!request_id.empty()) {
      spouse.AddClientMetadata(std::string(rpc::kRequestIdKey), request_id);
    }
  }
};

Principal Admin() {
  return Principal{.subject = "accounts/7",
                   .roles = {"committee_admin"},
                   .scope_org = 5,
                   .member = "members/9",
                   .username = "wang",
                   .client_ip = "10.0.0.8"};
}

class InternalTokenTest : public ::testing::Test {
 protected:
  InternalAuth auth_ = *InternalAuth::Create(std::string(32, 's'));
};

TEST_F(InternalTokenTest, OneTokenServesAPrincipalForTenSecondsThenANewOneIsSigned) {
  const std::string first = auth_.Vouch(Admin(), kNow);
  EXPECT_EQ(auth_.Vouch(Admin(), kNow + 9), first);
  // A request id is not part of it: two requests of one principal share the token.
  Principal with_request = Admin();
  with_request.request_id = "r-9";
  EXPECT_EQ(auth_.Vouch(with_request, kNow + 2), first);
  const std::string second = auth_.Vouch(Admin(), kNow + 10);
  EXPECT_NE(second, first);
  // A clock gone back before the cached token's iat signs anew rather than hand out a token
  // from the future.
  EXPECT_NE(auth_.Vouch(Admin(), kNow + 3), second);

  // Anything the token says is part of what it is reused for.
  Principal other_ip = Admin();
  other_ip.client_ip = "10.0.0.9";
  Principal other_roles = Admin();
  other_roles.roles.push_back("auditor");
  Principal other_scope = Admin();
  other_scope.scope_org = 6;
  Principal other_member = Admin();
  other_member.member = "";
  for (const Principal& p : {other_ip, other_roles, other_scope, other_member}) {
    const std::string token = auth_.Vouch(p, kNow + 1);
    EXPECT_NE(token, first);
    Incoming call(token, "r-1");
    auto got = auth_.Caller(call.context, kNow + 1);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->client_ip, p.client_ip);
    EXPECT_EQ(got->roles, p.roles);
    EXPECT_EQ(got->scope_org, p.scope_org);
    EXPECT_EQ(got->member, p.member);
  }
}

TEST_F(InternalTokenTest, TheCallerIsTheSameVerifiedOrCachedAndCarriesEachCallsRequestId) {
  const std::string token = auth_.Vouch(Admin(), kNow);
  for (const std::string request_id : {"r-1", "r-2", ""}) {
    Incoming call(token, request_id);
    auto got = auth_.Caller(call.context, kNow + 1);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->subject, "accounts/7");
    EXPECT_EQ(got->username, "wang");
    EXPECT_EQ(got->roles, std::vector<std::string>{"committee_admin"});
    EXPECT_EQ(got->scope_org, 5);
    EXPECT_EQ(got->member, "members/9");
    EXPECT_EQ(got->client_ip, "10.0.0.8");
    EXPECT_EQ(got->request_id, request_id);  // the call's, never an earlier call's
  }
  // An overlong request id is cut, not kept whole.
  Incoming call(token, std::string(500, 'x'));
  EXPECT_EQ(auth_.Caller(call.context, kNow + 1)->request_id.size(), 128u);

  const std::string anonymous = auth_.Vouch(Principal{}, kNow);
  for (int i = 0; i < 2; ++i) {
    Incoming anon(anonymous, "r-3");
    auto got = auth_.Caller(anon.context, kNow + 1);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(got->subject.empty()) << "call " << i;
    EXPECT_TRUE(got->anonymous());
  }
}

TEST_F(InternalTokenTest, RefusalsStayRefusalsWhateverWasCached) {
  const std::string token = auth_.Vouch(Admin(), kNow);
  {
    Incoming call(token, "r-1");
    ASSERT_TRUE(auth_.Caller(call.context, kNow + 1).ok());
  }
  // Expired (a minute's lifetime, 5 s of leeway): refused although it was cached.
  for (int i = 0; i < 2; ++i) {
    Incoming call(token, "r-1");
    auto got = auth_.Caller(call.context, kNow + 66);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(rpc::Reason(got.status()), "PRINCIPAL_FORGED");
  }
  // Signed with another secret, or altered by a byte: refused every time.
  auto forger = *InternalAuth::Create(std::string(32, 'x'));
  std::string tampered = token;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {forger.Vouch(Admin(), kNow), tampered, std::string("x.y.z")}) {
    for (int i = 0; i < 2; ++i) {
      Incoming call(bad, "r-1");
      auto got = auth_.Caller(call.context, kNow + 1);
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated);
      EXPECT_EQ(rpc::Reason(got.status()), "PRINCIPAL_FORGED");
    }
  }
  Incoming none("", "r-1");
  EXPECT_EQ(rpc::Reason(auth_.Caller(none.context, kNow).status()), "PRINCIPAL_MISSING");
}

TEST_F(InternalTokenTest, CopiesShareTheirCachesAcrossThreads) {
  const InternalAuth copy = auth_;
  std::vector<std::thread> threads;
  std::vector<std::string> tokens(8);
  std::vector<bool> verified(8, false);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const InternalAuth& a = t % 2 == 0 ? auth_ : copy;
      for (int i = 0; i < 200; ++i) {
        tokens[t] = a.Vouch(Admin(), kNow);
        Incoming call(tokens[t], "r");
        verified[t] = a.Caller(call.context, kNow).ok();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (int t = 0; t < 8; ++t) {
    EXPECT_EQ(tokens[t], tokens[0]);
    EXPECT_TRUE(verified[t]);
  }
}

TEST(TokenCacheTest, HonoursEntriesUntilTheirExpiryAndStaysBounded) {
  TokenCache<int> cache(3);
  cache.Put("a", 1, kNow + 10);
  EXPECT_EQ(cache.Find("a", kNow + 9), 1);
  EXPECT_FALSE(cache.Find("a", kNow + 10).has_value());  // at its expiry: gone
  EXPECT_FALSE(cache.Find("a", kNow).has_value());       // and stays gone
  EXPECT_FALSE(cache.Find("b", kNow).has_value());
  for (int i = 0; i < 10; ++i) {
    cache.Put(std::to_string(i), i, kNow + 10);
    EXPECT_LE(cache.size(), 3u);
    EXPECT_EQ(cache.Find(std::to_string(i), kNow), i);
  }
}

}  // namespace
}  // namespace dj::auth

namespace dj::metrics {
namespace {

TEST(SeriesTest, OneSeriesPerLabelValuesWithTheFamilysLabels) {
  auto& family = prometheus::BuildCounter()
                     .Name("dj_test_series_total")
                     .Help("A test family.")
                     .Register(Registry());
  Series<prometheus::Counter> series(family, {"method", "code"});
  prometheus::Counter& ok = series.With({"GET", "200"});
  EXPECT_EQ(&series.With({"GET", "200"}), &ok);
  EXPECT_NE(&series.With({"GET", "404"}), &ok);
  // The values joined are not confused with other splits of the same characters.
  EXPECT_NE(&series.With({"GE", "T200"}), &ok);
  ok.Increment();
  series.With({"GET", "200"}).Increment();
  EXPECT_EQ(&family.Add({{"method", "GET"}, {"code", "200"}}), &ok);
  EXPECT_EQ(ok.Value(), 2);

  auto& seconds = prometheus::BuildHistogram()
                      .Name("dj_test_series_seconds")
                      .Help("A test histogram.")
                      .Register(Registry());
  Series<prometheus::Histogram> timed(seconds, {"route"}, LatencyBuckets());
  timed.With({"/v1/x"}).Observe(0.002);
  const std::string text = Serialize();
  EXPECT_NE(text.find("dj_test_series_total{code=\"200\",method=\"GET\"} 2"), std::string::npos)
      << text;
  EXPECT_NE(text.find("dj_test_series_seconds_count{route=\"/v1/x\"} 1"), std::string::npos);
  EXPECT_NE(text.find("dj_test_series_seconds_bucket{route=\"/v1/x\",le=\"0.0025\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace dj::metrics
