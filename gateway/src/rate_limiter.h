// Fixed-window rate limits shared by every gateway replica, without a round trip per request.
//
// Each replica decides locally: a key is refused when what the shared store last said (every
// replica's count in this window) plus what this replica admitted since then reaches the limit.
// A background flush (every `flush_interval`) adds the local counts to the shared counter
// (Redis, or the in-process cache when embedded) and reads back the total and the window's end.
// So the hot path is a hash lookup under a mutex; the limit can be overshot by at most what the
// other replicas admit during one flush interval. When the store is unreachable, each replica
// still enforces the limit on its own traffic (it keeps its own counts) — it never refuses
// everyone and never stops limiting.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/cache/cache.h"

namespace dj::gateway {

struct RateLimiterOptions {
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds flush_interval{100};
  size_t max_keys = 200'000;  // beyond this, new keys are admitted without being counted
  // Monotonic clock; tests inject one.
  std::function<std::chrono::steady_clock::time_point()> now;
};

class RateLimiter final {
 public:
  // `store` may be null: then every request is admitted.
  RateLimiter(cache::Cache* store, RateLimiterOptions options);
  ~RateLimiter();  // stops the flush thread

  struct Decision {
    bool admitted = true;
    std::chrono::seconds retry_after{0};  // when refused: until the window ends (>= 1 s)
  };
  // Counts one request for `key` unless that would exceed `limit`.
  Decision Admit(const std::string& key, int64_t limit);

  // Adds the local counts to the store and reads back the totals (the flush thread's work;
  // tests call it directly). Returns how many keys the store could not be told about.
  int Flush();

  // Runs Flush every flush_interval on a thread of its own until destruction.
  void Start();

 private:
  using Time = std::chrono::steady_clock::time_point;
  struct Window {
    int64_t shared = 0;   // the store's total as of the last flush, plus what was sent since
    int64_t pending = 0;  // admitted here and not yet sent to the store
    Time ends{};          // when the count starts again from zero
  };
  Time Now() const;

  cache::Cache* store_;
  RateLimiterOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;  // guarded by mu_
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace dj::gateway
