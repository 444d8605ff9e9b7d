// The Redis cache and cache-aside against a real Redis (DJ_TEST_REDIS_URL).
#include <atomic>
#include <condition_variable>
#include <future>
#include <thread>

#include "common/cache/cache_aside.h"
#include "common/metrics/metrics.h"
#include "common/testing/test_env.h"
#include "gtest/gtest.h"

namespace dj::cache {
namespace {

std::string UniqueKey(std::string_view base) {
  return std::string("test:") + std::to_string(getpid()) + ":" + std::string(base) + ":" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

std::unique_ptr<Cache> TestRedis() {
  auto url = db::ParseRedisUrl(testing::RequireEnv("DJ_TEST_REDIS_URL"));
  EXPECT_TRUE(url.ok());
  return NewRedisCache({.url = *url});
}

TEST(RedisCacheTest, SetGetDeleteBinarySafe) {
  auto cache = TestRedis();
  const std::string key = UniqueKey("bin");
  const std::string value("a\0b\xff\n", 5);
  ASSERT_TRUE(cache->Set(key, value, std::chrono::seconds(30)).ok());
  auto got = cache->Get(key);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, value);
  ASSERT_TRUE(cache->Delete(key).ok());
  EXPECT_FALSE(cache->Get(key)->has_value());
}

// A moved subtree's keys go in batches (more keys than one DEL carries), on Redis and in-process,
// through cache-aside; keys not named stay.
TEST(RedisCacheTest, DeleteManyRemovesEveryKeyInBatches) {
  for (auto& cache : {TestRedis(), NewMemoryCache()}) {
    std::vector<std::string> keys;
    for (int i = 0; i < 1201; ++i) {
      keys.push_back(UniqueKey("many"));
      ASSERT_TRUE(cache->Set(keys.back(), "v", std::chrono::seconds(30)).ok());
    }
    const std::string kept = UniqueKey("kept");
    ASSERT_TRUE(cache->Set(kept, "v", std::chrono::seconds(30)).ok());
    CacheAside aside(cache.get(), {.name = "many"});
    aside.Invalidate(std::span<const std::string>(keys));
    for (const std::string& key : keys) {
      ASSERT_FALSE(cache->Get(key)->has_value()) << key;
    }
    EXPECT_TRUE(cache->Get(kept)->has_value());
  }
}

// Counters (rate limits): Redis and the in-process cache agree on INCRBY within one window whose
// lifetime is set by the first increment and not extended by later ones.
TEST(CacheCounterTest, IncrementByWithinOneWindow) {
  std::unique_ptr<Cache> caches[] = {TestRedis(), NewMemoryCache()};
  for (auto& cache : caches) {
    const std::string key = UniqueKey("counter");
    auto first = cache->Increment(key, 3, std::chrono::seconds(60));
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->value, 3);
    EXPECT_GT(first->expires_in.count(), 0);
    EXPECT_LE(first->expires_in, std::chrono::seconds(60));
    auto second = cache->Increment(key, 1, std::chrono::hours(1));
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second->value, 4);
    EXPECT_LE(second->expires_in, std::chrono::seconds(60));  // the window is not extended
    auto other = cache->Increment(UniqueKey("counter-other"), 1, std::chrono::seconds(60));
    EXPECT_EQ(other->value, 1);
  }
}

TEST(RedisCacheTest, UnreachableRedisFailsFastAndIsRetried) {
  auto cache = NewRedisCache({.url = {"", "127.0.0.1", testing::FreePort(), 0},
                              .retry_after = std::chrono::milliseconds(50)});
  EXPECT_EQ(cache->Get("k").status().code(), absl::StatusCode::kUnavailable);
  // While marked down, calls do not even try to connect.
  EXPECT_EQ(cache->Get("k").status().code(), absl::StatusCode::kUnavailable);
}

TEST(CacheAsideTest, MissThenHit) {
  auto cache = TestRedis();
  CacheAside aside(cache.get(), {.name = "t_hit"});
  const std::string key = UniqueKey("hit");
  int loads = 0;
  auto load = [&]() -> absl::StatusOr<std::string> {
    ++loads;
    return std::string("v1");
  };
  EXPECT_EQ(*aside.Get(key, load), "v1");
  EXPECT_EQ(*aside.Get(key, load), "v1");
  EXPECT_EQ(loads, 1);
  aside.Invalidate(key);
  EXPECT_EQ(*aside.Get(key, load), "v1");
  EXPECT_EQ(loads, 2);
  const std::string text = metrics::Serialize();
  EXPECT_NE(text.find("dj_cache_requests_total{cache=\"t_hit\",result=\"hit\"} 1"),
            std::string::npos)
      << text;
}

TEST(CacheAsideTest, ErrorsAreNotCached) {
  auto cache = TestRedis();
  CacheAside aside(cache.get(), {.name = "t_err"});
  const std::string key = UniqueKey("err");
  auto missing = aside.Get(key, [] { return absl::StatusOr<std::string>(absl::NotFoundError("x")); });
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*aside.Get(key, [] { return absl::StatusOr<std::string>("now"); }), "now");
}

TEST(CacheAsideTest, ConcurrentMissesShareOneLoad) {
  auto cache = TestRedis();
  CacheAside aside(cache.get(), {.name = "t_flight"});
  const std::string key = UniqueKey("flight");
  constexpr int kThreads = 6;
  std::atomic<int> loads{0};
  auto load = [&]() -> absl::StatusOr<std::string> {
    ++loads;
    // Hold the load until every other caller is waiting on it.
    EXPECT_TRUE(testing::WaitFor([&] { return aside.Waiters(key) == kThreads - 1; },
                                 std::chrono::seconds(20)));
    return std::string("shared");
  };
  std::vector<std::thread> threads;
  std::vector<std::string> results(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i] = *aside.Get(key, load); });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(loads.load(), 1);
  for (const auto& r : results) {
    EXPECT_EQ(r, "shared");
  }
}

TEST(CacheAsideTest, WriteDuringLoadKeepsStaleValueOut) {
  auto cache = TestRedis();
  CacheAside aside(cache.get(), {.name = "t_stale"});
  const std::string key = UniqueKey("stale");
  // The load reads "old", then a write commits and invalidates before the load stores.
  auto first = aside.Get(key, [&]() -> absl::StatusOr<std::string> {
    aside.Invalidate(key);
    return std::string("old");
  });
  EXPECT_EQ(*first, "old");
  int loads = 0;
  auto second = aside.Get(key, [&]() -> absl::StatusOr<std::string> {
    ++loads;
    return std::string("new");
  });
  EXPECT_EQ(*second, "new");
  EXPECT_EQ(loads, 1);
}

TEST(CacheAsideTest, DownCacheServesFromLoaderAndRemembersInvalidations) {
  auto down = NewRedisCache({.url = {"", "127.0.0.1", testing::FreePort(), 0}});
  CacheAside aside(down.get(), {.name = "t_down"});
  int loads = 0;
  auto load = [&]() -> absl::StatusOr<std::string> {
    ++loads;
    return std::string("db");
  };
  EXPECT_EQ(*aside.Get("k", load), "db");
  EXPECT_EQ(*aside.Get("k", load), "db");
  EXPECT_EQ(loads, 2);
  aside.Invalidate("k");  // fails; remembered, no throw
  CacheAside none(nullptr, {.name = "t_none"});
  EXPECT_EQ(*none.Get("k", load), "db");
}

// GetMany reads several keys in their order, misses as nullopt, on Redis (one MGET) and
// in-process alike.
TEST(RedisCacheTest, GetManyKeepsOrderAndMisses) {
  for (auto& cache : {TestRedis(), NewMemoryCache()}) {
    const std::string a = UniqueKey("many_a"), b = UniqueKey("many_b"), c = UniqueKey("many_c");
    ASSERT_TRUE(cache->Set(a, std::string("x\0y", 3), std::chrono::seconds(30)).ok());
    ASSERT_TRUE(cache->Set(c, "z", std::chrono::seconds(30)).ok());
    const std::string_view keys[] = {c, b, a};
    auto got = cache->GetMany(keys);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), 3u);
    EXPECT_EQ((*got)[0], std::optional<std::string>("z"));
    EXPECT_EQ((*got)[1], std::nullopt);
    EXPECT_EQ((*got)[2], std::optional<std::string>(std::string("x\0y", 3)));
  }
  auto down = NewRedisCache({.url = {"", "127.0.0.1", testing::FreePort(), 0}});
  const std::string_view keys[] = {"a", "b"};
  EXPECT_FALSE(down->GetMany(keys).ok());
}

// The companion key comes back with the copy, on a hit and on a miss (read before the load);
// nullopt when it is absent, when the cache is down, or when there is no cache. `loaded` says
// whether this call ran the load itself.
TEST(CacheAsideTest, CompanionIsReadWithTheCopy) {
  auto cache = TestRedis();
  CacheAside aside(cache.get(), {.name = "t_companion"});
  const std::string key = UniqueKey("copy"), version = UniqueKey("version");
  int loads = 0;
  auto load = [&]() -> absl::StatusOr<std::string> {
    ++loads;
    return std::string("row");
  };
  auto found = aside.GetWith(key, version, load);  // a miss, the version absent
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->value, "row");
  EXPECT_TRUE(found->loaded);
  EXPECT_EQ(found->companion, std::nullopt);
  ASSERT_TRUE(cache->Set(version, "7", std::chrono::seconds(30)).ok());
  found = aside.GetWith(key, version, load);  // a hit
  EXPECT_EQ(found->value, "row");
  EXPECT_FALSE(found->loaded);
  EXPECT_EQ(found->companion, std::optional<std::string>("7"));
  EXPECT_EQ(loads, 1);
  aside.Invalidate(key);
  ASSERT_TRUE(cache->Set(version, "8", std::chrono::seconds(30)).ok());
  found = aside.GetWith(key, version, load);  // a miss: the version read first
  EXPECT_EQ(found->value, "row");
  EXPECT_TRUE(found->loaded);
  EXPECT_EQ(found->companion, std::optional<std::string>("8"));
  EXPECT_EQ(loads, 2);

  auto down = NewRedisCache({.url = {"", "127.0.0.1", testing::FreePort(), 0}});
  CacheAside unreachable(down.get(), {.name = "t_companion_down"});
  found = unreachable.GetWith(key, version, load);
  EXPECT_EQ(found->value, "row");
  EXPECT_TRUE(found->loaded);
  EXPECT_EQ(found->companion, std::nullopt);
  CacheAside none(nullptr, {.name = "t_companion_none"});
  found = none.GetWith(key, version, load);
  EXPECT_EQ(found->value, "row");
  EXPECT_TRUE(found->loaded);
  EXPECT_EQ(found->companion, std::nullopt);
}

// dj_cache_requests_total{cache=name,result=...} as this process counts it.
double Requests(const std::string& name, const std::string& result) {
  for (const auto& family : metrics::Registry().Collect()) {
    if (family.name != "dj_cache_requests_total") {
      continue;
    }
    for (const auto& m : family.metric) {
      bool cache = false, outcome = false;
      for (const auto& l : m.label) {
        cache |= l.name == "cache" && l.value == name;
        outcome |= l.name == "result" && l.value == result;
      }
      if (cache && outcome) {
        return m.counter.value;
      }
    }
  }
  return 0;
}

// Peek, a fast path's read: on a hit `use` decides whether the copy answers, and only a used copy
// counts as a hit; a miss, the cache down, no cache and a pending invalidation never call `use`
// and count nothing (the caller's GetWith does). On Redis (its reply thread) and in-process.
TEST(CacheAsideTest, PeekCountsOnlyACopyThatIsUsed) {
  for (auto& cache : {TestRedis(), NewMemoryCache()}) {
    const std::string name = UniqueKey("t_peek");
    CacheAside aside(cache.get(), {.name = name});
    const std::string key = UniqueKey("copy"), version = UniqueKey("version");
    auto peek = [&](bool accept, std::optional<CacheAside::Found>* seen) {
      std::promise<bool> used;
      aside.Peek(
          key, version,
          [&](CacheAside::Found& found) {
            *seen = found;
            return accept;
          },
          [&](bool u) { used.set_value(u); });
      return used.get_future().get();
    };
    std::optional<CacheAside::Found> seen;
    ASSERT_TRUE(cache->Set(key, "row", std::chrono::seconds(30)).ok());
    ASSERT_TRUE(cache->Set(version, "7", std::chrono::seconds(30)).ok());
    // A copy the caller does not take (on Redis, once the pipeline has connected: until then a
    // peek answers false at once).
    ASSERT_TRUE(testing::WaitFor([&] { return !peek(false, &seen) && seen.has_value(); },
                                 std::chrono::seconds(10)));
    EXPECT_EQ(seen->value, "row");
    EXPECT_EQ(seen->companion, std::optional<std::string>("7"));
    EXPECT_FALSE(seen->loaded);
    EXPECT_EQ(Requests(name, "hit"), 0);
    seen.reset();
    EXPECT_TRUE(peek(true, &seen));
    EXPECT_EQ(Requests(name, "hit"), 1);
    ASSERT_TRUE(cache->Delete(key).ok());
    seen.reset();
    EXPECT_FALSE(peek(true, &seen));  // a miss
    EXPECT_FALSE(seen.has_value());
    EXPECT_EQ(Requests(name, "hit"), 1);
    EXPECT_EQ(Requests(name, "miss"), 0);
  }
  CacheAside none(nullptr, {.name = "t_peek_none"});
  bool used = true;
  none.Peek("k", "v", [](CacheAside::Found&) { return true; }, [&](bool u) { used = u; });
  EXPECT_FALSE(used);
  auto down = NewRedisCache({.url = {"", "127.0.0.1", testing::FreePort(), 0}});
  CacheAside unreachable(down.get(), {.name = "t_peek_down"});
  std::promise<bool> answered;
  unreachable.Peek("k", "v", [](CacheAside::Found&) { return true; },
                   [&](bool u) { answered.set_value(u); });
  EXPECT_FALSE(answered.get_future().get());
  // An invalidation that could not reach Redis is pending: a peek does not trust the copy.
  CacheAside pending(down.get(), {.name = "t_peek_pending"});
  pending.Invalidate("k");
  used = true;
  pending.Peek("k", "v", [](CacheAside::Found&) { return true; }, [&](bool u) { used = u; });
  EXPECT_FALSE(used);
}

}  // namespace
}  // namespace dj::cache
