// rpc::Workers, the threads of fast-path methods' blocking halves: every task posted runs, on the
// pool's threads, including those still queued when the pool is destroyed.
#include "common/rpc/fast_path.h"

#include <atomic>
#include <future>
#include <set>

#include "gtest/gtest.h"

namespace dj::rpc {
namespace {

// Whether `ready` holds within 10 s.
bool Eventually(const std::function<bool()>& ready) {
  for (int i = 0; i < 1000 && !ready(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ready();
}

TEST(WorkersTest, RunsEveryTaskOnItsOwnThreads) {
  std::atomic<int> ran{0};
  std::mutex mu;
  std::set<std::thread::id> threads;
  {
    Workers workers(3, "dj-test-workers");
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(workers.Post([&] {
        {
          std::lock_guard lock(mu);
          threads.insert(std::this_thread::get_id());
        }
        ++ran;
      }));
    }
  }  // destroyed with tasks perhaps still queued: they run first
  EXPECT_EQ(ran.load(), 500);
  EXPECT_FALSE(threads.contains(std::this_thread::get_id()));
  EXPECT_LE(threads.size(), 3u);
}

TEST(WorkersTest, ATaskMayPostAnother) {
  std::atomic<int> ran{0};
  {
    Workers workers(1, "dj-test-workers");
    ASSERT_TRUE(workers.Post([&] {
      ++ran;
      EXPECT_TRUE(workers.Post([&] { ++ran; }));
    }));
  }
  EXPECT_EQ(ran.load(), 2);
}

// A full queue refuses at once (the caller answers RESOURCE_EXHAUSTED) and takes tasks again once
// it drains.
TEST(WorkersTest, AFullQueueRefusesAndRecovers) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  std::atomic<int> ran{0};
  Workers workers(1, "dj-test-workers", 2);
  ASSERT_TRUE(workers.Post([&] {
    started.set_value();
    released.wait();  // holds the only thread
  }));
  started.get_future().wait();
  EXPECT_TRUE(workers.Post([&] { ++ran; }));
  EXPECT_TRUE(workers.Post([&] { ++ran; }));
  EXPECT_FALSE(workers.Post([&] { ran += 100; }));  // two already wait
  release.set_value();
  ASSERT_TRUE(Eventually([&] { return ran.load() == 2; }));
  EXPECT_TRUE(workers.Post([&] { ++ran; }));
  ASSERT_TRUE(Eventually([&] { return ran.load() == 3; }));
}

}  // namespace
}  // namespace dj::rpc
