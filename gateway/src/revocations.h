// The access tokens revoked before their expiry, as the gateway knows them: a session ended
// (logout, a reused refresh token) or every earlier token of an account (a lock, a password
// change or reset). The member service records each revocation in its database; the gateway
// asks for what is new every `interval` (ListRevocations) and checks every request against the
// set in memory, beside its verified-token cache, so a revoked token stops working within about
// one interval in both topologies without a round trip per request. A revocation is kept until
// no token it refuses can still be valid, so the set stays as small as the access-token lifetime
// allows. Until the first list has arrived the gateway is not ready (a fresh replica must not
// accept tokens revoked before it started); when the member service is unreachable later, the
// last list stays in force and the next poll catches up.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "dangjian/member/v1/auth.pb.h"

namespace dj::gateway {

struct RevocationsOptions {
  std::chrono::milliseconds interval{1000};
  // Seconds since the epoch; tests inject a clock.
  std::function<int64_t()> now_seconds;
};

class Revocations final {
 public:
  using Fetch = std::function<absl::StatusOr<dangjian::member::v1::ListRevocationsResponse>(
      const dangjian::member::v1::ListRevocationsRequest&)>;

  Revocations(Fetch fetch, RevocationsOptions options);
  ~Revocations();  // stops the thread
  // Stops the polling thread (idempotent): before the services it asks go away.
  void Stop();

  // Whether a token of account `subject` ("accounts/12") from session `session_id` issued at
  // session epoch `epoch` has been revoked.
  bool Revoked(const std::string& subject, const std::string& session_id, int64_t epoch) const;

  // Whether a list has arrived at least once.
  bool loaded() const;

  // Asks for what is new and merges it; drops what has expired. The thread's work (tests call
  // it directly).
  absl::Status Poll();

  // Polls every interval on a thread of its own until destruction (the first poll at once).
  void Start();

 private:
  int64_t Now() const;
  void Merge(const dangjian::member::v1::ListRevocationsResponse& response);

  Fetch fetch_;
  RevocationsOptions options_;
  mutable std::shared_mutex mu_;
  // session id -> expiry (seconds); account subject -> (lowest valid epoch, expiry).
  std::unordered_map<std::string, int64_t> sessions_;  // guarded by mu_
  struct AccountFloor {
    int64_t min_epoch = 0;
    int64_t expires = 0;
  };
  std::unordered_map<std::string, AccountFloor> accounts_;  // guarded by mu_
  bool loaded_ = false;                                     // guarded by mu_
  std::mutex poll_mu_;                                      // one Poll at a time
  google::protobuf::Timestamp since_;                       // guarded by poll_mu_
  bool has_since_ = false;                                  // guarded by poll_mu_

  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by thread_mu_
  std::thread thread_;
};

}  // namespace dj::gateway
