// Revoked access tokens, polled from the member service.
#include "gateway/src/revocations.h"

#include "absl/strings/str_cat.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"

namespace dj::gateway {

Revocations::Revocations(Fetch fetch, RevocationsOptions options)
    : fetch_(std::move(fetch)), options_(std::move(options)) {}

Revocations::~Revocations() { Stop(); }

void Revocations::Stop() {
  {
    std::lock_guard lock(thread_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

int64_t Revocations::Now() const {
  return options_.now_seconds ? options_.now_seconds() : time::NowSeconds();
}

bool Revocations::Revoked(const std::string& subject, const std::string& session_id,
                          int64_t epoch) const {
  std::shared_lock lock(mu_);
  if (!session_id.empty() && sessions_.contains(session_id)) {
    return true;
  }
  auto it = accounts_.find(subject);
  return it != accounts_.end() && epoch < it->second.min_epoch;
}

bool Revocations::loaded() const {
  std::shared_lock lock(mu_);
  return loaded_;
}

void Revocations::Merge(const dangjian::member::v1::ListRevocationsResponse& response) {
  const int64_t now = Now();
  std::unique_lock lock(mu_);
  for (const auto& r : response.revocations()) {
    const int64_t expires = r.expire_time().seconds();
    if (expires <= now) {
      continue;
    }
    if (!r.session().empty()) {
      int64_t& e = sessions_[r.session()];
      e = std::max(e, expires);
    } else if (!r.account().empty()) {
      AccountFloor& f = accounts_[r.account()];
      f.min_epoch = std::max(f.min_epoch, r.min_epoch());
      f.expires = std::max(f.expires, expires);
    }
  }
  std::erase_if(sessions_, [now](const auto& kv) { return kv.second <= now; });
  std::erase_if(accounts_, [now](const auto& kv) { return kv.second.expires <= now; });
  loaded_ = true;
}

absl::Status Revocations::Poll() {
  std::lock_guard poll(poll_mu_);
  dangjian::member::v1::ListRevocationsRequest request;
  if (has_since_) {
    *request.mutable_since() = since_;
  }
  auto response = fetch_(request);
  if (!response.ok()) {
    return response.status();
  }
  Merge(*response);
  since_ = response->next_since();
  has_since_ = response->has_next_since();
  return absl::OkStatus();
}

void Revocations::Start() {
  thread_ = std::thread([this] {
    bool failing = false;
    std::unique_lock lock(thread_mu_);
    while (!stop_) {
      lock.unlock();
      absl::Status s = Poll();
      if (!s.ok() && !failing) {
        log::Warn("cannot list revoked tokens; the last list stays in force",
                  {{"error", std::string(SV(s.message()))}});
      } else if (s.ok() && failing) {
        log::Info("revoked tokens listed again");
      }
      failing = !s.ok();
      lock.lock();
      wake_.wait_for(lock, options_.interval, [this] { return stop_; });
    }
  });
}

}  // namespace dj::gateway
