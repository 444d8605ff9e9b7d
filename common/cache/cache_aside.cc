// Cache-aside with single-flight and invalidation that survives a cache outage.
#include "common/cache/cache_aside.h"

#include <random>

#include "common/metrics/metrics.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::cache {

CacheAside::CacheAside(Cache* cache, CacheAsideOptions options)
    : cache_(cache), options_(std::move(options)) {
  auto& requests = prometheus::BuildCounter()
                       .Name("dj_cache_requests_total")
                       .Help("Cache look-ups by result.")
                       .Register(metrics::Registry());
  hits_ = &requests.Add({{"cache", options_.name}, {"result", "hit"}});
  misses_ = &requests.Add({{"cache", options_.name}, {"result", "miss"}});
  errors_ = &requests.Add({{"cache", options_.name}, {"result", "error"}});
  auto& invalidations = prometheus::BuildCounter()
                            .Name("dj_cache_invalidations_total")
                            .Help("Cache deletes after writes, by result.")
                            .Register(metrics::Registry());
  invalidated_ = &invalidations.Add({{"cache", options_.name}, {"result", "ok"}});
  invalidate_errors_ = &invalidations.Add({{"cache", options_.name}, {"result", "error"}});
  shared_ = &prometheus::BuildCounter()
                 .Name("dj_cache_singleflight_shared_total")
                 .Help("Cache misses served by another caller's load of the same key.")
                 .Register(metrics::Registry())
                 .Add({{"cache", options_.name}});
}

std::chrono::milliseconds CacheAside::Ttl() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist(1.0 - options_.jitter, 1.0 + options_.jitter);
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::chrono::milliseconds(options_.ttl).count() * dist(rng)));
}

bool CacheAside::RetryPendingInvalidation(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    if (!pending_.contains(key)) {
      return true;
    }
  }
  if (cache_->Delete(key).ok()) {
    std::lock_guard lock(mu_);
    pending_.erase(key);
    invalidated_->Increment();
    return true;
  }
  return false;
}

absl::StatusOr<std::string> CacheAside::Get(const std::string& key, const Loader& load) {
  ASSIGN_OR_RETURN(Found found, Fetch(key, nullptr, load));
  return std::move(found.value);
}

absl::StatusOr<CacheAside::Found> CacheAside::GetWith(const std::string& key,
                                                      std::string_view companion,
                                                      const Loader& load) {
  return Fetch(key, &companion, load);
}

void CacheAside::Peek(const std::string& key, std::string_view companion,
                      std::function<bool(Found& found)> use, std::function<void(bool used)> done) {
  if (cache_ == nullptr) {
    done(false);
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (pending_.contains(key)) {  // GetWith retries the delete; a peek must not wait for it
      done(false);
      return;
    }
  }
  const std::string_view keys[] = {key, companion};
  cache_->GetManyAsync(keys, [this, use = std::move(use), done = std::move(done)](
                                 absl::StatusOr<std::vector<std::optional<std::string>>> both) {
    if (!both.ok() || !(*both)[0].has_value()) {
      done(false);
      return;
    }
    Found found;
    found.value = *std::move((*both)[0]);
    found.companion = std::move((*both)[1]);
    const bool used = use(found);
    if (used) {
      hits_->Increment();  // before done, which may answer the call
    }
    done(used);
  });
}

absl::StatusOr<std::optional<std::string>> CacheAside::Read(const std::string& key,
                                                            const std::string_view* companion,
                                                            Found& found) {
  if (companion == nullptr) {
    return cache_->Get(key);
  }
  const std::string_view keys[] = {key, *companion};
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> both, cache_->GetMany(keys));
  found.companion = std::move(both[1]);
  return std::move(both[0]);
}

absl::StatusOr<CacheAside::Found> CacheAside::Fetch(const std::string& key,
                                                    const std::string_view* companion,
                                                    const Loader& load) {
  Found found;
  auto loaded = [&](absl::StatusOr<std::string> value) -> absl::StatusOr<Found> {
    RETURN_IF_ERROR(value.status());
    found.value = *std::move(value);
    found.loaded = true;
    return std::move(found);
  };
  if (cache_ == nullptr) {
    return loaded(load());
  }
  const bool cache_usable = RetryPendingInvalidation(key);
  if (cache_usable) {
    auto cached = Read(key, companion, found);
    if (cached.ok() && cached->has_value()) {
      hits_->Increment();
      found.value = **std::move(cached);
      return found;
    }
    (cached.ok() ? misses_ : errors_)->Increment();
  } else {
    errors_->Increment();
  }

  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    std::lock_guard lock(mu_);
    auto& slot = flights_[key];
    if (slot == nullptr) {
      slot = std::make_shared<Flight>();
      leader = true;
    }
    flight = slot;
  }
  if (!leader) {
    std::unique_lock lock(mu_);
    ++flight->waiters;
    shared_->Increment();
    landed_.wait(lock, [&] { return flight->done; });
    RETURN_IF_ERROR(flight->result.status());
    found.value = *flight->result;  // another caller's load, begun maybe before this call
    return found;
  }

  absl::StatusOr<std::string> result = load();
  bool stale = false;
  {
    std::lock_guard lock(mu_);
    stale = flight->stale;
  }
  if (result.ok() && cache_usable && !stale) {
    if (absl::Status s = cache_->Set(key, *result, Ttl()); !s.ok()) {
      log::Debug("cache set failed", {{"cache", options_.name}, {"error", SV(s.message())}});
    }
  }
  {
    std::lock_guard lock(mu_);
    flight->result = result;
    flight->done = true;
    if (auto it = flights_.find(key); it != flights_.end() && it->second == flight) {
      flights_.erase(it);
    }
  }
  landed_.notify_all();
  return loaded(std::move(result));
}

int CacheAside::Waiters(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = flights_.find(key);
  return it == flights_.end() ? 0 : it->second->waiters;
}

void CacheAside::Invalidate(const std::string& key) {
  Invalidate(std::span<const std::string>(&key, 1));
}

void CacheAside::Invalidate(std::span<const std::string> keys) {
  if (cache_ == nullptr || keys.empty()) {
    return;
  }
  {
    std::lock_guard lock(mu_);
    // A load that began before this write may have read the old row: keep it out of the cache,
    // and let readers that arrive from now on start a fresh load.
    for (const std::string& key : keys) {
      if (auto it = flights_.find(key); it != flights_.end()) {
        it->second->stale = true;
        flights_.erase(it);
      }
    }
  }
  if (absl::Status s = cache_->DeleteMany(keys); s.ok()) {
    invalidated_->Increment(static_cast<double>(keys.size()));
    std::lock_guard lock(mu_);
    for (const std::string& key : keys) {
      pending_.erase(key);
    }
  } else {
    invalidate_errors_->Increment();
    log::Warn("cache delete failed; bypassing the keys until it succeeds",
              {{"cache", options_.name},
               {"key", keys.front()},
               {"keys", std::to_string(keys.size())},
               {"error", SV(s.message())}});
    std::lock_guard lock(mu_);
    pending_.insert(keys.begin(), keys.end());
  }
}

}  // namespace dj::cache
