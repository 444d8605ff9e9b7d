// A key-value cache: Redis in the distributed topology, in-process when embedded. The database is
// always the truth; a cache error is never a request error (see CacheAside).
#pragma once

#include <span>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/cache/redis_connection.h"  // RedisOptions
#include "common/runtime/status_macros.h"

namespace dj::cache {

class Cache {
 public:
  virtual ~Cache() = default;
  // The value, nullopt on a miss, or an error when the cache cannot be reached.
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view key) = 0;
  // The values of `keys` in their order (nullopt for each miss), read at one instant: on Redis
  // one MGET, so a read that needs two keys pays one round trip.
  virtual absl::StatusOr<std::vector<std::optional<std::string>>> GetMany(
      std::span<const std::string_view> keys) {
    std::vector<std::optional<std::string>> out;
    out.reserve(keys.size());
    for (std::string_view key : keys) {
      ASSIGN_OR_RETURN(std::optional<std::string> value, Get(key));
      out.push_back(std::move(value));
    }
    return out;
  }
  using ManyDone = std::function<void(absl::StatusOr<std::vector<std::optional<std::string>>>)>;
  // GetMany without waiting on the caller's thread, for a handler's fast path: `done` gets what
  // GetMany would return, exactly once. Redis answers on its reply thread (RedisPipeline), or at
  // once with UNAVAILABLE while it has no connection; the in-process cache answers at once.
  virtual void GetManyAsync(std::span<const std::string_view> keys, ManyDone done) {
    done(GetMany(keys));
  }
  virtual absl::Status Set(std::string_view key, std::string_view value,
                           std::chrono::milliseconds ttl) = 0;
  virtual absl::Status Delete(std::string_view key) = 0;
  // Removes every key in `keys` (a moved subtree's organizations): on Redis in a few round trips
  // rather than one per key.
  virtual absl::Status DeleteMany(std::span<const std::string> keys) {
    for (const std::string& key : keys) {
      if (absl::Status s = Delete(key); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // Atomically reads and removes `key` (one winner when two callers race: refresh tokens).
  virtual absl::StatusOr<std::optional<std::string>> GetAndDelete(std::string_view key) = 0;

  struct Count {
    int64_t value = 0;                        // after this increment
    std::chrono::milliseconds expires_in{0};  // until the counter starts again from zero
  };
  // Adds `by` (>= 1) to the counter at `key`, which starts with a lifetime of `window` when it
  // does not exist (rate limits: a fixed window shared by every replica).
  virtual absl::StatusOr<Count> Increment(std::string_view key, int64_t by,
                                          std::chrono::milliseconds window) = 0;

  // Leases (node ids), each one atomic step. SetIfAbsent sets `key` to `value` for `ttl` only
  // when it does not exist (SET NX PX): true when this call set it. ExtendIfEquals gives `key` a
  // fresh lifetime of `ttl` only while it holds `value`, and DeleteIfEquals removes it only then:
  // true when they did (false when it is missing or holds another value).
  virtual absl::StatusOr<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                           std::chrono::milliseconds ttl) = 0;
  virtual absl::StatusOr<bool> ExtendIfEquals(std::string_view key, std::string_view value,
                                              std::chrono::milliseconds ttl) = 0;
  virtual absl::StatusOr<bool> DeleteIfEquals(std::string_view key, std::string_view value) = 0;
};

std::unique_ptr<Cache> NewRedisCache(RedisOptions options);

struct MemoryCacheOptions {
  size_t max_entries = 100'000;
  size_t max_bytes = 64 * 1024 * 1024;
};

// An in-process LRU with TTL (the embedded topology).
std::unique_ptr<Cache> NewMemoryCache(MemoryCacheOptions options = {});

// Redis at `redis_url` when it is set (redis://host:port/n), else an in-process cache. Redis
// being down at start is not an error: callers degrade until it is back.
absl::StatusOr<std::unique_ptr<Cache>> NewCache(std::string_view redis_url);

}  // namespace dj::cache
