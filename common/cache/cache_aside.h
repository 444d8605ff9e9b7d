// Cache-aside over a Cache: read through with single-flight per key, delete on write after
// commit, TTL with jitter. With the cache down every call goes to the loader and nothing fails.
// Metrics: dj_cache_requests_total{cache,result=hit|miss|error},
// dj_cache_invalidations_total{cache,result=ok|error}, dj_cache_singleflight_shared_total{cache}.
#pragma once

#include <span>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/cache/cache.h"
#include "prometheus/counter.h"

namespace dj::cache {

struct CacheAsideOptions {
  std::string name;                 // label on metrics, e.g. "organization"
  std::chrono::seconds ttl{300};
  double jitter = 0.1;              // ttl varies by ±10% so entries do not expire together
};

class CacheAside final {
 public:
  using Loader = std::function<absl::StatusOr<std::string>()>;

  // `cache` may be null: every Get then loads (a process run without a cache).
  CacheAside(Cache* cache, CacheAsideOptions options);

  // The cached value for `key`, else load()'s, which is then cached. Concurrent misses on one
  // key share a single load. Errors from load() are returned and not cached.
  absl::StatusOr<std::string> Get(const std::string& key, const Loader& load);
  // What GetWith found.
  struct Found {
    std::string value;
    // This call ran load() itself: the value is as fresh as its source, not a copy. False for a
    // cache hit and for a load another caller began, perhaps before this call.
    bool loaded = false;
    // The companion key's value, read in the same round trip as the copy and before any load;
    // nullopt when it is missing or was not read (no cache, the cache down, the key's
    // invalidation pending): the caller then reads it its own way.
    std::optional<std::string> companion;
  };
  // Get, reading `companion` (a key this cache-aside does not own, such as a version that says
  // whether a copy may be trusted) with the copy, and saying where the value came from.
  absl::StatusOr<Found> GetWith(const std::string& key, std::string_view companion,
                                const Loader& load);

  // GetWith's hit, without waiting and without loading, for a handler's fast path (one that runs
  // on the thread that received its call and must not block it). When the cache holds a copy,
  // use(found) says whether the caller can answer from it (`companion` is read with it, as
  // GetWith reads it); if so it counts as a hit. Then done(used). A miss, a cache error, no
  // cache or the key's invalidation pending give done(false) without use and count nothing: the
  // caller goes on to GetWith, which counts what it finds. Both run on whichever thread the
  // cache answers on (at once for the in-process cache, Redis's reply thread otherwise).
  void Peek(const std::string& key, std::string_view companion,
            std::function<bool(Found& found)> use, std::function<void(bool used)> done);

  // Removes `key`. Call after the write's transaction commits. If the cache cannot be reached,
  // the key is remembered and bypassed by this process until a later delete succeeds.
  void Invalidate(const std::string& key);
  // The same for many keys at once (one Redis round trip per few hundred keys).
  void Invalidate(std::span<const std::string> keys);

  // How many callers are waiting on an in-flight load of `key` (observability and tests).
  int Waiters(const std::string& key);

 private:
  struct Flight {
    bool done = false;
    bool stale = false;  // invalidated while loading: do not store the result
    int waiters = 0;
    absl::StatusOr<std::string> result = absl::UnknownError("pending");
  };

  std::chrono::milliseconds Ttl();
  // Get and GetWith (`companion` null: no companion read).
  absl::StatusOr<Found> Fetch(const std::string& key, const std::string_view* companion,
                              const Loader& load);
  // The copy at `key`, and the companion's value into `found` when `companion` is set.
  absl::StatusOr<std::optional<std::string>> Read(const std::string& key,
                                                  const std::string_view* companion, Found& found);
  bool RetryPendingInvalidation(const std::string& key);

  Cache* cache_;
  CacheAsideOptions options_;
  prometheus::Counter* hits_;
  prometheus::Counter* misses_;
  prometheus::Counter* errors_;
  prometheus::Counter* invalidated_;
  prometheus::Counter* invalidate_errors_;
  prometheus::Counter* shared_;

  std::mutex mu_;
  std::condition_variable landed_;
  std::map<std::string, std::shared_ptr<Flight>> flights_;  // guarded by mu_
  std::set<std::string> pending_;                           // guarded by mu_
};

}  // namespace dj::cache
