// The gateway's rate limiter on the in-process cache and on a Redis nobody listens to, with an
// injected clock: local decisions, sharing between replicas through the store, window ends,
// and limiting going on when the store is down.
#include "gateway/src/rate_limiter.h"

#include "common/testing/test_env.h"
#include "gtest/gtest.h"

namespace dj::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class RateLimiterTest : public ::testing::Test {
 protected:
  RateLimiterOptions Options() {
    return {.window = seconds(60), .now = [this] { return now_; }};
  }
  int Admitted(RateLimiter& limiter, const std::string& key, int limit, int tries) {
    int n = 0;
    for (int i = 0; i < tries; ++i) {
      n += limiter.Admit(key, limit).admitted ? 1 : 0;
    }
    return n;
  }

  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::now();
  std::unique_ptr<cache::Cache> store_ = cache::NewMemoryCache();
};

TEST_F(RateLimiterTest, RefusesOverTheLimitUntilTheWindowEnds) {
  RateLimiter limiter(store_.get(), Options());
  EXPECT_EQ(Admitted(limiter, "ip:a", 5, 8), 5);
  now_ += seconds(20);
  auto refused = limiter.Admit("ip:a", 5);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after, seconds(40));
  EXPECT_TRUE(limiter.Admit("ip:b", 5).admitted) << "keys are counted apart";
  now_ += seconds(40);
  EXPECT_EQ(Admitted(limiter, "ip:a", 5, 8), 5) << "a new window starts from zero";
}

TEST_F(RateLimiterTest, ReplicasShareOneCountThroughTheStore) {
  RateLimiter a(store_.get(), Options());
  RateLimiter b(store_.get(), Options());
  EXPECT_EQ(Admitted(a, "sub:1", 10, 6), 6);
  EXPECT_EQ(a.Flush(), 0);
  EXPECT_EQ(Admitted(b, "sub:1", 10, 3), 3);
  EXPECT_EQ(b.Flush(), 0);  // b learns the store's 9
  EXPECT_EQ(Admitted(b, "sub:1", 10, 5), 1);
  EXPECT_EQ(a.Flush(), 0);  // a has nothing pending: it keeps its view until it sends again
  EXPECT_EQ(Admitted(a, "sub:1", 10, 1), 1);
  EXPECT_EQ(a.Flush(), 0);  // the store says 10 (a's 7, b's 3): at the limit
  EXPECT_FALSE(a.Admit("sub:1", 10).admitted);
  EXPECT_EQ(b.Flush(), 0);
  auto total = store_->Increment("sub:1", 1, seconds(60));
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(total->value, 12) << "every admitted request reached the store";
}

TEST_F(RateLimiterTest, KeepsLimitingWhenTheStoreIsDown) {
  auto down = cache::NewRedisCache({.url = {"", "127.0.0.1", testing::FreePort(), 0},
                                    .connect_timeout = milliseconds(50)});
  RateLimiter limiter(down.get(), Options());
  EXPECT_EQ(Admitted(limiter, "ip:c", 4, 3), 3);
  EXPECT_EQ(limiter.Flush(), 1);  // could not tell the store
  EXPECT_EQ(Admitted(limiter, "ip:c", 4, 3), 1) << "its own count still applies";
}

TEST_F(RateLimiterTest, NoStoreOrNoLimitAdmitsAll) {
  RateLimiter none(nullptr, Options());
  EXPECT_EQ(Admitted(none, "ip:d", 1, 5), 5);
  RateLimiter limiter(store_.get(), Options());
  EXPECT_EQ(Admitted(limiter, "ip:d", 0, 5), 5);
}

TEST_F(RateLimiterTest, BoundedKeysAdmitStrangersRatherThanGrow) {
  auto options = Options();
  options.max_keys = 3;
  RateLimiter limiter(store_.get(), options);
  for (const char* key : {"k1", "k2", "k3"}) {
    EXPECT_EQ(Admitted(limiter, key, 1, 2), 1);
  }
  limiter.Flush();
  EXPECT_EQ(Admitted(limiter, "k4", 1, 3), 3) << "no slot: admitted, not counted";
  now_ += seconds(61);
  limiter.Flush();  // idle keys whose window is over are dropped
  EXPECT_EQ(Admitted(limiter, "k4", 1, 3), 1) << "slots free again once windows end";
}

}  // namespace
}  // namespace dj::gateway
