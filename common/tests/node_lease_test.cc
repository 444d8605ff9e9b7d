// Node id leases against a real Redis (DJ_TEST_REDIS_URL), each test under a key prefix of its
// own: leases never share an id, a lease taken over or run out is noticed, an explicit id held
// elsewhere is refused; and the lease primitives of both caches.
#include "common/ids/node_lease.h"

#include <unistd.h>

#include <atomic>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/ids/id_generator.h"
#include "common/testing/test_env.h"
#include "gtest/gtest.h"

namespace dj::ids {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<cache::Cache> TestRedis() {
  auto url = db::ParseRedisUrl(testing::RequireEnv("DJ_TEST_REDIS_URL"));
  EXPECT_TRUE(url.ok());
  return cache::NewRedisCache({.url = *url});
}

std::string UniquePrefix() {
  static std::atomic<int> n{0};
  return absl::StrCat(
      "test:", getpid(), ":", ::testing::UnitTest::GetInstance()->current_test_info()->name(), ":",
      std::chrono::steady_clock::now().time_since_epoch().count(), ":", n.fetch_add(1), ":node:");
}

// Options for a test lease: renewed by the test, losing recorded in `lost`.
NodeLeaseOptions Options(const std::string& prefix, std::atomic<int>* lost,
                         std::function<int64_t()> clock = nullptr) {
  return {.key_prefix = prefix,
          .service = "test",
          .ttl = std::chrono::seconds(30),
          .renew_in_background = false,
          .clock = std::move(clock),
          .on_lost = [lost](std::string_view) { lost->fetch_add(1); }};
}

TEST(ParseNodeIdTest, NumbersAndPodOrdinals) {
  EXPECT_EQ(*ParseNodeId("0"), 0);
  EXPECT_EQ(*ParseNodeId("1023"), 1023);
  EXPECT_EQ(*ParseNodeId(" 7 "), 7);
  EXPECT_EQ(*ParseNodeId("dj-org-3"), 3);
  EXPECT_EQ(*ParseNodeId("member-12"), 12);
  for (const char* bad : {"", "-", "1024", "-1", "x", "dj-org", "dj-org-", "3a", "dj-org-2000",
                          "99999999999999999999"}) {
    EXPECT_FALSE(ParseNodeId(bad).ok()) << bad;
  }
}

// The lease primitives behave alike on Redis and in-process.
TEST(CacheLeaseTest, SetIfAbsentExtendAndDeleteIfEquals) {
  for (auto& cache : {TestRedis(), cache::NewMemoryCache()}) {
    const std::string key = UniquePrefix() + "k";
    EXPECT_TRUE(*cache->SetIfAbsent(key, "a", std::chrono::seconds(30)));
    EXPECT_FALSE(*cache->SetIfAbsent(key, "b", std::chrono::seconds(30)));
    EXPECT_EQ(**cache->Get(key), "a");
    EXPECT_TRUE(*cache->ExtendIfEquals(key, "a", std::chrono::seconds(30)));
    EXPECT_FALSE(*cache->ExtendIfEquals(key, "b", std::chrono::seconds(30)));
    EXPECT_FALSE(*cache->DeleteIfEquals(key, "b"));
    EXPECT_TRUE(cache->Get(key)->has_value());
    EXPECT_TRUE(*cache->DeleteIfEquals(key, "a"));
    EXPECT_FALSE(cache->Get(key)->has_value());
    EXPECT_FALSE(*cache->ExtendIfEquals(key, "a", std::chrono::seconds(30)));
    EXPECT_TRUE(*cache->SetIfAbsent(key, "b", std::chrono::seconds(30)));
    ASSERT_TRUE(cache->Delete(key).ok());
  }
}

// Many processes' leases on one key space: all different; one given back is free again.
TEST(NodeLeaseTest, LeasesNeverShareAnId) {
  const std::string prefix = UniquePrefix();
  std::atomic<int> lost{0};
  std::vector<std::unique_ptr<NodeLease>> leases;
  std::set<int> ids;
  for (int i = 0; i < 64; ++i) {
    auto lease = NodeLease::Acquire(TestRedis(), Options(prefix, &lost));
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_TRUE(ids.insert((*lease)->node_id()).second) << (*lease)->node_id();
    leases.push_back(*std::move(lease));
  }
  auto redis = TestRedis();
  for (const auto& lease : leases) {
    EXPECT_EQ(**redis->Get(lease->key()), lease->owner());
    EXPECT_EQ(lease->Renew(), NodeLease::Renewal::kRenewed);
  }
  const std::string given_back = leases.front()->key();
  leases.erase(leases.begin());
  EXPECT_FALSE(redis->Get(given_back)->has_value());
  leases.clear();
  EXPECT_EQ(lost.load(), 0);
}

// Every id taken: the next process is told so rather than sharing one.
TEST(NodeLeaseTest, AllIdsTakenIsAnError) {
  const std::string prefix = UniquePrefix();
  auto redis = TestRedis();
  for (int i = 0; i < 1024; ++i) {
    ASSERT_TRUE(*redis->SetIfAbsent(absl::StrCat(prefix, i), "other", std::chrono::seconds(30)));
  }
  std::atomic<int> lost{0};
  auto lease = NodeLease::Acquire(TestRedis(), Options(prefix, &lost));
  EXPECT_EQ(lease.status().code(), absl::StatusCode::kResourceExhausted) << lease.status();
  for (int i = 0; i < 1024; ++i) {
    ASSERT_TRUE(redis->Delete(absl::StrCat(prefix, i)).ok());
  }
}

// An explicit id (DJ_NODE_ID) is held the same way; a second process given it is refused with
// the holder named, and gets it once the first gives it back.
TEST(NodeLeaseTest, ExplicitIdHeldElsewhereIsRefused) {
  const std::string prefix = UniquePrefix();
  std::atomic<int> lost{0};
  auto options = Options(prefix, &lost);
  options.explicit_id = 7;
  auto first = NodeLease::Acquire(TestRedis(), options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->node_id(), 7);
  auto second = NodeLease::Acquire(TestRedis(), options);
  ASSERT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists) << second.status();
  EXPECT_NE(second.status().message().find("node id 7"), std::string::npos);
  EXPECT_NE(second.status().message().find((*first)->owner()), std::string::npos);
  first->reset();
  auto third = NodeLease::Acquire(TestRedis(), options);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ((*third)->node_id(), 7);
  EXPECT_EQ(lost.load(), 0);
}

// The lease ran out and another process took the id: the first one's next renewal finds it
// and loses the lease (once), and gives nothing back on destruction (it is not its key).
TEST(NodeLeaseTest, TakenOverIsDetectedByRenewal) {
  const std::string prefix = UniquePrefix();
  std::atomic<int> lost{0};
  auto lease = NodeLease::Acquire(TestRedis(), Options(prefix, &lost));
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto redis = TestRedis();
  ASSERT_TRUE(redis->Delete((*lease)->key()).ok());  // as if it expired
  ASSERT_TRUE(*redis->SetIfAbsent((*lease)->key(), "another process", std::chrono::seconds(30)));
  EXPECT_EQ((*lease)->Renew(), NodeLease::Renewal::kLost);
  EXPECT_TRUE((*lease)->lost());
  EXPECT_EQ(lost.load(), 1);
  EXPECT_EQ((*lease)->Renew(), NodeLease::Renewal::kLost);
  EXPECT_EQ(lost.load(), 1);
  const std::string key = (*lease)->key();
  lease->reset();
  EXPECT_EQ(**redis->Get(key), "another process");
  ASSERT_TRUE(redis->Delete(key).ok());
}

// The renewal thread notices a takeover by itself (short lease, renewed every 100 ms).
TEST(NodeLeaseTest, RenewalThreadDetectsTakeover) {
  const std::string prefix = UniquePrefix();
  std::atomic<int> lost{0};
  auto options = Options(prefix, &lost);
  options.ttl = milliseconds(300);
  options.renew_in_background = true;
  auto lease = NodeLease::Acquire(TestRedis(), options);
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto redis = TestRedis();
  ASSERT_TRUE(redis->Set((*lease)->key(), "another process", std::chrono::seconds(30)).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return lost.load() == 1; }, std::chrono::seconds(10)));
  EXPECT_TRUE((*lease)->lost());
  ASSERT_TRUE(redis->Delete((*lease)->key()).ok());
}

// A lease kept renewed by its thread outlives its ttl many times over.
TEST(NodeLeaseTest, RenewalThreadKeepsTheLease) {
  const std::string prefix = UniquePrefix();
  std::atomic<int> lost{0};
  auto options = Options(prefix, &lost);
  options.ttl = milliseconds(150);
  options.renew_in_background = true;
  auto lease = NodeLease::Acquire(TestRedis(), options);
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto redis = TestRedis();
  // Poll until a second lease would have found the key expired several times, had it not been
  // renewed: the key still holds the owner all along.
  const auto until = std::chrono::steady_clock::now() + milliseconds(1000);
  bool held = true;
  testing::WaitFor(
      [&] {
        auto v = redis->Get((*lease)->key());
        held = held && v.ok() && v->has_value() && **v == (*lease)->owner();
        return std::chrono::steady_clock::now() >= until;
      },
      std::chrono::seconds(5));
  EXPECT_TRUE(held);
  EXPECT_EQ(lost.load(), 0);
}

// Not renewed before its end (Redis unreachable, or the process paused): lost, whether the
// renewal or the id generator's check sees it first; before the end, ids are made as usual.
TEST(NodeLeaseTest, EndWithoutRenewalIsLost) {
  const std::string prefix = UniquePrefix();
  for (bool by_generator : {false, true}) {
    std::atomic<int> lost{0};
    std::atomic<int64_t> now{1'000'000};
    auto lease =
        NodeLease::Acquire(TestRedis(), Options(prefix, &lost, [&now] { return now.load(); }));
    ASSERT_TRUE(lease.ok()) << lease.status();
    NodeLease* l = lease->get();
    IdGenerator ids(l->node_id(), nullptr, [l] { l->Check(); });
    now += 26'000;  // within 0.9 ttl
    EXPECT_EQ(IdGenerator::NodeOf(ids.Next()), l->node_id());
    EXPECT_EQ(lost.load(), 0);
    now += 1'000;  // 27 s of 30: past the safe end
    if (by_generator) {
      ids.Next();
    } else {
      EXPECT_EQ(l->Renew(), NodeLease::Renewal::kLost);
    }
    EXPECT_EQ(lost.load(), 1);
    EXPECT_TRUE(l->lost());
  }
}

// A renewal pushes the end out by a ttl from when it was sent.
TEST(NodeLeaseTest, RenewalMovesTheEnd) {
  const std::string prefix = UniquePrefix();
  std::atomic<int> lost{0};
  std::atomic<int64_t> now{1'000'000};
  auto lease =
      NodeLease::Acquire(TestRedis(), Options(prefix, &lost, [&now] { return now.load(); }));
  ASSERT_TRUE(lease.ok()) << lease.status();
  for (int i = 0; i < 5; ++i) {
    now += 10'000;
    EXPECT_EQ((*lease)->Renew(), NodeLease::Renewal::kRenewed);
    (*lease)->Check();
  }
  EXPECT_EQ(lost.load(), 0);
}

// The key vanished while the lease was still ours (Redis restarted empty): taken back.
TEST(NodeLeaseTest, VanishedKeyIsTakenBack) {
  const std::string prefix = UniquePrefix();
  std::atomic<int> lost{0};
  auto lease = NodeLease::Acquire(TestRedis(), Options(prefix, &lost));
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto redis = TestRedis();
  ASSERT_TRUE(redis->Delete((*lease)->key()).ok());
  EXPECT_EQ((*lease)->Renew(), NodeLease::Renewal::kRenewed);
  EXPECT_EQ(**redis->Get((*lease)->key()), (*lease)->owner());
  EXPECT_EQ(lost.load(), 0);
}

// Redis not there: Acquire says so after `wait`, rather than make up an id.
TEST(NodeLeaseTest, UnreachableRedisIsAnError) {
  std::atomic<int> lost{0};
  auto options = Options(UniquePrefix(), &lost);
  options.wait = milliseconds(300);
  auto lease = NodeLease::Acquire(
      cache::NewRedisCache({.url = {"", "127.0.0.1", testing::FreePort(), 0}}), options);
  EXPECT_EQ(lease.status().code(), absl::StatusCode::kUnavailable) << lease.status();
}

}  // namespace
}  // namespace dj::ids
