// RedisPipeline against real redis-server processes of its own (DJ_REDIS_SERVER): AUTH and
// SELECT, order and misses, many threads on one connection, failing fast while Redis is away and
// coming back, a reply that does not come in time, and nothing left waiting when it is destroyed.
#include "common/cache/redis_pipeline.h"

#include <future>
#include <thread>

#include "common/cache/cache.h"
#include "common/testing/test_env.h"
#include "gtest/gtest.h"

namespace dj::cache {
namespace {

using Values = RedisPipeline::Values;

class RedisPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("dj-pipeline");
    port_ = testing::FreePort();
  }

  void StartRedis() {
    redis_ = testing::StartRedisServer(port_, dir_, {"--requirepass", "pipe-pw"});
    ASSERT_TRUE(testing::WaitFor([&] { return Blocking().Get("ping").ok(); },
                                 std::chrono::seconds(20)))
        << redis_->Log();
  }

  RedisOptions Options() const {
    return {.url = {"pipe-pw", "127.0.0.1", port_, 3},
            .command_timeout = std::chrono::milliseconds(100),
            .retry_after = std::chrono::milliseconds(10)};
  }

  // The blocking client on the same server and database, to write what the pipeline reads.
  Cache& Blocking() {
    if (blocking_ == nullptr) {
      blocking_ = NewRedisCache(Options());
    }
    return *blocking_;
  }

  // One MGET; `at_once` says whether the answer came before MGet returned.
  static absl::StatusOr<Values> MGet(RedisPipeline& p, std::vector<std::string_view> keys,
                                     bool* at_once = nullptr) {
    std::promise<absl::StatusOr<Values>> promise;
    bool returned = false;
    bool answered_before_return = false;
    p.MGet(keys, [&](absl::StatusOr<Values> v) {
      answered_before_return = !returned;
      promise.set_value(std::move(v));
    });
    returned = true;
    auto got = promise.get_future().get();
    if (at_once != nullptr) {
      *at_once = answered_before_return;
    }
    return got;
  }

  // Waits until the pipeline has connected (its first calls fail while it connects).
  static bool Connected(RedisPipeline& p) {
    return testing::WaitFor([&] { return MGet(p, {"x"}).ok(); }, std::chrono::seconds(10));
  }

  std::string dir_;
  int port_ = 0;
  std::unique_ptr<testing::Process> redis_;
  std::unique_ptr<Cache> blocking_;
};

TEST_F(RedisPipelineTest, ReadsInOrderWithMissesOnAPasswordedDatabase) {
  StartRedis();
  ASSERT_TRUE(Blocking().Set("a", std::string("x\0y", 3), std::chrono::seconds(30)).ok());
  ASSERT_TRUE(Blocking().Set("c", "z", std::chrono::seconds(30)).ok());
  RedisPipeline pipeline(Options());
  ASSERT_TRUE(Connected(pipeline));
  auto got = MGet(pipeline, {"c", "b", "a"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, (Values{"z", std::nullopt, std::string("x\0y", 3)}));

  // A wrong password: the connection is refused, every read fails and none answers from
  // another database.
  RedisOptions wrong = Options();
  wrong.url.password = "not-it";
  RedisPipeline refused(wrong);
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(MGet(refused, {"c"}).ok());
  }
}

TEST_F(RedisPipelineTest, ManyThreadsShareOneConnection) {
  StartRedis();
  constexpr int kKeys = 50;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(Blocking().Set("k" + std::to_string(i), "v" + std::to_string(i),
                               std::chrono::seconds(30))
                    .ok());
  }
  RedisPipeline pipeline(Options());
  ASSERT_TRUE(Connected(pipeline));
  std::atomic<int> right{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 300; ++n) {
        const int i = (t * 300 + n) % kKeys;
        const std::string key = "k" + std::to_string(i), missing = "none" + std::to_string(n);
        auto got = MGet(pipeline, {key, missing});
        (got.ok() && *got == Values{"v" + std::to_string(i), std::nullopt} ? right : wrong)++;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(right.load(), 1200);
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(RedisPipelineTest, FailsAtOnceWhileRedisIsAwayAndReconnects) {
  RedisPipeline pipeline(Options());  // nothing listens yet
  bool at_once = false;
  auto got = MGet(pipeline, {"a"}, &at_once);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(at_once) << "a call while there is no connection must not wait";

  StartRedis();
  ASSERT_TRUE(Blocking().Set("a", "1", std::chrono::seconds(30)).ok());
  ASSERT_TRUE(Connected(pipeline));
  EXPECT_EQ(*MGet(pipeline, {"a"}), Values{"1"});

  redis_->Stop();  // the server goes away under an open connection
  EXPECT_TRUE(testing::WaitFor([&] { return !MGet(pipeline, {"a"}).ok(); },
                               std::chrono::seconds(10)));
  StartRedis();
  ASSERT_TRUE(Blocking().Set("a", "2", std::chrono::seconds(30)).ok());
  ASSERT_TRUE(Connected(pipeline));
  EXPECT_EQ(*MGet(pipeline, {"a"}), Values{"2"});
}

// CLIENT PAUSE holds every reply for 3 s; the pipeline's 100 ms timeout fails the read instead,
// and reads work again after the pause.
TEST_F(RedisPipelineTest, AReplyThatDoesNotComeInTimeFails) {
  StartRedis();
  ASSERT_TRUE(Blocking().Set("a", "1", std::chrono::seconds(30)).ok());
  RedisPipeline pipeline(Options());
  ASSERT_TRUE(Connected(pipeline));
  RedisConnections admin(Options(), "test");
  ASSERT_TRUE(admin.Command({"CLIENT", "PAUSE", "3000"}).ok());
  auto got = MGet(pipeline, {"a"});
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << got.status();
  EXPECT_TRUE(testing::WaitFor([&] { return MGet(pipeline, {"a"}).ok(); },
                               std::chrono::seconds(20)));
}

// Reads still waiting when the pipeline goes are answered (UNAVAILABLE), not dropped.
TEST_F(RedisPipelineTest, DestroyingItAnswersWhatIsWaiting) {
  StartRedis();
  RedisOptions options = Options();
  options.command_timeout = std::chrono::seconds(30);
  auto pipeline = std::make_unique<RedisPipeline>(options);
  ASSERT_TRUE(Connected(*pipeline));
  RedisConnections admin(Options(), "test");
  ASSERT_TRUE(admin.Command({"CLIENT", "PAUSE", "3000"}).ok());
  std::promise<absl::Status> answered;
  const std::string_view keys[] = {"a"};
  pipeline->MGet(keys, [&](absl::StatusOr<Values> v) { answered.set_value(v.status()); });
  pipeline.reset();
  auto future = answered.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(future.get().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace dj::cache
