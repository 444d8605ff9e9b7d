#include "gateway/src/refusal_reporter.h"

#include "common/runtime/log.h"
#include "common/time/clock.h"
#include "google/protobuf/util/time_util.h"

namespace dj::gateway {

namespace pb = dangjian::member::v1;
using google::protobuf::util::TimeUtil;

RefusalReporter::RefusalReporter(Send send, RefusalReporterOptions options)
    : send_(std::move(send)), options_(options) {}

RefusalReporter::~RefusalReporter() { Stop(); }

void RefusalReporter::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void RefusalReporter::Report(const std::string& reason, const std::string& client_ip,
                             const std::string& path, const std::string& request_id, int code) {
  const auto now = TimeUtil::MicrosecondsToTimestamp(time::NowMicros());
  std::lock_guard lock(mu_);
  Key key{reason, client_ip};
  auto it = pending_.find(key);
  if (it == pending_.end() && pending_.size() >= options_.max_pairs) {
    key.second = "(other addresses)";
    it = pending_.find(key);
  }
  if (it == pending_.end()) {
    pb::TokenRefusal r;
    r.set_reason(reason);
    r.set_client_ip(key.second);
    r.set_path(path.substr(0, 512));
    r.set_request_id(request_id.substr(0, 128));
    r.set_code(code);
    *r.mutable_first_time() = now;
    it = pending_.emplace(std::move(key), std::move(r)).first;
  }
  it->second.set_count(it->second.count() + 1);
  *it->second.mutable_last_time() = now;
}

absl::Status RefusalReporter::Flush() {
  std::map<Key, pb::TokenRefusal> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) {
    return absl::OkStatus();
  }
  pb::RecordTokenRefusalsRequest request;
  for (const auto& [key, refusal] : batch) {
    *request.add_refusals() = refusal;
  }
  absl::Status sent = send_(request);
  if (sent.ok()) {
    return sent;
  }
  log::Warn("token refusals not yet recorded; kept for the next batch",
            {{"error", std::string(sent.message())}, {"pairs", std::to_string(batch.size())}});
  std::lock_guard lock(mu_);
  for (auto& [key, refusal] : batch) {  // merge back with what came meanwhile, still bounded
    Key into = key;
    if (!pending_.contains(into) && pending_.size() >= options_.max_pairs) {
      into.second = "(other addresses)";
      refusal.set_client_ip(into.second);
    }
    auto [it, inserted] = pending_.try_emplace(into, refusal);
    if (!inserted) {
      it->second.set_count(it->second.count() + refusal.count());
      *it->second.mutable_first_time() = refusal.first_time();
      it->second.set_path(refusal.path());
      it->second.set_request_id(refusal.request_id());
    }
  }
  return sent;
}

void RefusalReporter::Start() {
  if (thread_.joinable()) {
    return;
  }
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      wake_.wait_for(lock, options_.interval, [this] { return stop_; });
      if (stop_) {
        break;
      }
      lock.unlock();
      (void)Flush();
      lock.lock();
    }
  });
}

}  // namespace dj::gateway
