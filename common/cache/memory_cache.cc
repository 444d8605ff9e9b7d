// The in-process cache for the embedded topology: an LRU bounded by entries and bytes, with a
// TTL per entry. Same interface as Redis, so cache-aside code is unchanged.
#include <list>
#include <mutex>
#include <unordered_map>

#include "common/cache/cache.h"

namespace dj::cache {
namespace {

class MemoryCache final : public Cache {
 public:
  explicit MemoryCache(MemoryCacheOptions options) : options_(options) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    std::lock_guard lock(mu_);
    auto it = index_.find(std::string(key));
    if (it == index_.end()) {
      return std::optional<std::string>();
    }
    if (Clock::now() >= it->second->expires) {
      Erase(it);
      return std::optional<std::string>();
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return std::optional<std::string>(it->second->value);
  }

  absl::Status Set(std::string_view key, std::string_view value,
                   std::chrono::milliseconds ttl) override {
    std::lock_guard lock(mu_);
    Insert(key, value, ttl);
    return absl::OkStatus();
  }

  absl::Status Delete(std::string_view key) override {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(std::string(key)); it != index_.end()) {
      Erase(it);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> GetAndDelete(std::string_view key) override {
    std::lock_guard lock(mu_);
    auto it = index_.find(std::string(key));
    if (it == index_.end()) {
      return std::optional<std::string>();
    }
    std::optional<std::string> out;
    if (Clock::now() < it->second->expires) {
      out = it->second->value;
    }
    Erase(it);
    return out;
  }

  absl::StatusOr<Count> Increment(std::string_view key, int64_t by,
                                  std::chrono::milliseconds window) override {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    auto it = index_.find(std::string(key));
    by = std::max<int64_t>(1, by);
    int64_t n = by;
    Clock::time_point expires = now + window;
    if (it != index_.end() && now < it->second->expires) {
      n = std::stoll(it->second->value) + by;
      expires = it->second->expires;
      bytes_ -= it->second->value.size();
      it->second->value = std::to_string(n);
      bytes_ += it->second->value.size();
      lru_.splice(lru_.begin(), lru_, it->second);
    } else {
      if (it != index_.end()) {
        Erase(it);
      }
      const std::string k(key);
      lru_.push_front({k, std::to_string(n), expires});
      index_[k] = lru_.begin();
      bytes_ += k.size() + lru_.front().value.size();
      while (index_.size() > options_.max_entries || bytes_ > options_.max_bytes) {
        Erase(index_.find(lru_.back().key));
      }
    }
    return Count{n, std::chrono::duration_cast<std::chrono::milliseconds>(expires - now)};
  }

  absl::StatusOr<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                   std::chrono::milliseconds ttl) override {
    std::lock_guard lock(mu_);
    if (Live(key) != index_.end()) {
      return false;
    }
    Insert(key, value, ttl);
    return true;
  }

  absl::StatusOr<bool> ExtendIfEquals(std::string_view key, std::string_view value,
                                      std::chrono::milliseconds ttl) override {
    std::lock_guard lock(mu_);
    auto it = Live(key);
    if (it == index_.end() || it->second->value != value) {
      return false;
    }
    it->second->expires = Clock::now() + ttl;
    return true;
  }

  absl::StatusOr<bool> DeleteIfEquals(std::string_view key, std::string_view value) override {
    std::lock_guard lock(mu_);
    auto it = Live(key);
    if (it == index_.end() || it->second->value != value) {
      return false;
    }
    Erase(it);
    return true;
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::string key;
    std::string value;
    Clock::time_point expires;
  };
  using Index = std::unordered_map<std::string, std::list<Entry>::iterator>;

  // Replaces any entry at `key`. Caller holds mu_.
  void Insert(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
    const std::string k(key);
    if (auto it = index_.find(k); it != index_.end()) {
      Erase(it);
    }
    const size_t size = k.size() + value.size();
    if (size > options_.max_bytes) {
      return;  // larger than the whole cache: not worth evicting everything
    }
    lru_.push_front({k, std::string(value), Clock::now() + ttl});
    index_[k] = lru_.begin();
    bytes_ += size;
    while (index_.size() > options_.max_entries || bytes_ > options_.max_bytes) {
      Erase(index_.find(lru_.back().key));
    }
  }

  // The unexpired entry at `key`, or end() (an expired one is dropped). Caller holds mu_.
  Index::iterator Live(std::string_view key) {
    auto it = index_.find(std::string(key));
    if (it != index_.end() && Clock::now() >= it->second->expires) {
      Erase(it);
      return index_.end();
    }
    return it;
  }

  void Erase(Index::iterator it) {
    bytes_ -= it->second->key.size() + it->second->value.size();
    lru_.erase(it->second);
    index_.erase(it);
  }

  const MemoryCacheOptions options_;
  std::mutex mu_;
  std::list<Entry> lru_;  // guarded by mu_; most recently used first
  Index index_;           // guarded by mu_
  size_t bytes_ = 0;      // guarded by mu_
};

}  // namespace

std::unique_ptr<Cache> NewMemoryCache(MemoryCacheOptions options) {
  return std::make_unique<MemoryCache>(options);
}

absl::StatusOr<std::unique_ptr<Cache>> NewCache(std::string_view redis_url) {
  if (redis_url.empty()) {
    return NewMemoryCache();
  }
  auto url = db::ParseRedisUrl(redis_url);
  if (!url.ok()) {
    return url.status();
  }
  return NewRedisCache({.url = *url});
}

}  // namespace dj::cache
