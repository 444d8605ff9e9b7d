#include "gateway/src/rate_limiter.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace dj::gateway {

RateLimiter::RateLimiter(cache::Cache* store, RateLimiterOptions options)
    : store_(store), options_(std::move(options)) {}

RateLimiter::~RateLimiter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

RateLimiter::Time RateLimiter::Now() const {
  return options_.now ? options_.now() : std::chrono::steady_clock::now();
}

RateLimiter::Decision RateLimiter::Admit(const std::string& key, int64_t limit) {
  if (store_ == nullptr || limit <= 0) {
    return {};
  }
  const Time now = Now();
  std::lock_guard lock(mu_);
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    if (windows_.size() >= options_.max_keys) {
      std::erase_if(windows_, [&](const auto& kv) {
        return kv.second.ends <= now && kv.second.pending == 0;
      });
      if (windows_.size() >= options_.max_keys) {
        return {};  // every slot is busy in its window: admit rather than refuse strangers
      }
    }
    it = windows_.emplace(key, Window{.ends = now + options_.window}).first;
  }
  Window& w = it->second;
  if (w.ends <= now) {
    w = Window{.ends = now + options_.window};
  }
  if (w.shared + w.pending >= limit) {
    const auto left = std::chrono::ceil<std::chrono::seconds>(w.ends - now);
    return {.admitted = false, .retry_after = std::max(left, std::chrono::seconds(1))};
  }
  ++w.pending;
  return {};
}

int RateLimiter::Flush() {
  if (store_ == nullptr) {
    return 0;
  }
  std::vector<std::pair<std::string, int64_t>> batch;
  {
    const Time now = Now();
    std::lock_guard lock(mu_);
    for (auto it = windows_.begin(); it != windows_.end();) {
      Window& w = it->second;
      if (w.pending > 0) {
        batch.emplace_back(it->first, w.pending);
        w.shared += w.pending;  // still counted while it is on its way
        w.pending = 0;
        ++it;
      } else if (w.ends <= now) {
        it = windows_.erase(it);  // an idle key whose window is over
      } else {
        ++it;
      }
    }
  }
  int failed = 0;
  for (const auto& [key, count] : batch) {
    auto total = store_->Increment(key, count, options_.window);
    if (!total.ok()) {
      ++failed;  // keep the local count: this replica goes on limiting on its own
      continue;
    }
    const Time now = Now();
    std::lock_guard lock(mu_);
    auto it = windows_.find(key);
    if (it == windows_.end()) {
      continue;
    }
    // The store's total includes what was just sent; what was admitted meanwhile is pending.
    it->second.shared = total->value;
    it->second.ends = now + total->expires_in;
  }
  return failed;
}

void RateLimiter::Start() {
  if (store_ == nullptr || thread_.joinable()) {
    return;
  }
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      wake_.wait_for(lock, options_.flush_interval, [this] { return stop_; });
      if (stop_) {
        break;
      }
      lock.unlock();
      Flush();
      lock.lock();
    }
  });
}

}  // namespace dj::gateway
