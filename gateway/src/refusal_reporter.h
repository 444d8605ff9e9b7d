// The refusals the gateway answers itself (access tokens, rate limits, oversized bodies, wrong
// media types) never reach a service, so the gateway reports them for the audit log: counted per
// (reason, client address) in memory on the request path, and sent in one batch per interval to the
// member service (RecordTokenRefusals), which appends one hash-chained row per pair. A flood of bad
// tokens therefore costs a few rows per interval, not a write per request. When the member service
// cannot be reached the counts are kept (bounded) and sent with the next batch.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "dangjian/member/v1/auth.pb.h"

namespace dj::gateway {

struct RefusalReporterOptions {
  std::chrono::milliseconds interval{2000};
  // Distinct (reason, address) pairs kept per batch; beyond them, refusals are counted under
  // the address "(other addresses)" so memory stays bounded during a distributed flood.
  size_t max_pairs = 1000;
};

class RefusalReporter final {
 public:
  using Send = std::function<absl::Status(const dangjian::member::v1::RecordTokenRefusalsRequest&)>;

  RefusalReporter(Send send, RefusalReporterOptions options = {});
  ~RefusalReporter();  // stops the thread; what is left is lost unless Flush was called

  // Counts one refusal (the request path: a mutex and a map update).
  // `code`: the gRPC code of the answer (UNAUTHENTICATED for a token).
  void Report(const std::string& reason, const std::string& client_ip, const std::string& path,
              const std::string& request_id, int code = 16);

  // Sends what was counted; on failure keeps it for the next call. Returns the send's status
  // (OK when there was nothing to send).
  absl::Status Flush();

  // Flushes every interval on a thread of its own until Stop (or destruction).
  void Start();
  void Stop();

 private:
  using Key = std::pair<std::string, std::string>;  // (reason, client address)
  Send send_;
  RefusalReporterOptions options_;
  std::mutex mu_;
  std::map<Key, dangjian::member::v1::TokenRefusal> pending_;  // guarded by mu_
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace dj::gateway
