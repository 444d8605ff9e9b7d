// rpc::Workers, the threads of fast-path methods' blocking halves: every task posted runs, on the
// pool's threads, including those still queued when the pool is destroyed.
#include "common/rpc/fast_path.h"

#include <atomic>
#include <set>

#include "gtest/gtest.h"

namespace dj::rpc {
namespace {

TEST(WorkersTest, RunsEveryTaskOnItsOwnThreads) {
  std::atomic<int> ran{0};
  std::mutex mu;
  std::set<std::thread::id> threads;
  {
    Workers workers(3, "dj-test-workers");
    for (int i = 0; i < 500; ++i) {
      workers.Post([&] {
        {
          std::lock_guard lock(mu);
          threads.insert(std::this_thread::get_id());
        }
        ++ran;
      });
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
    workers.Post([&] {
      ++ran;
      workers.Post([&] { ++ran; });
    });
  }
  EXPECT_EQ(ran.load(), 2);
}

}  // namespace
}  // namespace dj::rpc
