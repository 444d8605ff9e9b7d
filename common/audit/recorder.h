// What a service's handlers call to keep the audit log: an entry for the caller and the action,
// a write and its audit row in one transaction (a failed write still leaves its row, recording
// the refusal), events with no write, and the list/verify methods every service exposes as
// `auditLogs/{service}`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/audit/audit_log.h"
#include "common/auth/authorize.h"
#include "common/db/pool.h"
#include "dangjian/audit/v1/audit.pb.h"

namespace dj::audit {

class Recorder final {
 public:
  static constexpr std::chrono::milliseconds kFlushInterval{100};
  static constexpr size_t kMaxQueued = 10'000;
  // Calls with no valid principal are counted per (reason, address) over this long.
  static constexpr std::chrono::milliseconds kCountInterval{2000};
  static constexpr size_t kMaxCountedPairs = 1000;

  // `log_name`: "auditLogs/org". `key`: the HMAC-SM3 key (at least 32 bytes).
  // `max_queued`: refusals waiting to be appended before more are only counted (see Refuse).
  Recorder(db::Pool& pool, std::string key, std::string log_name, size_t max_queued = kMaxQueued,
           std::chrono::milliseconds count_interval = kCountInterval);
  ~Recorder();  // appends what is still queued
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // An entry for `who` doing `action` ("organizations.update") on `resource`, placed in the
  // tree at `org_path` so auditors of that subtree see it.
  static Entry For(const auth::Principal& who, std::string action, std::string resource,
                   std::string org_path);

  // Runs `write` in a transaction that also appends `entry` (outcome OK), so both commit or
  // neither does. When `write` fails, the refusal is appended on its own with the status code as
  // outcome and the reason as detail. `write` may fill in entry.resource and entry.org_path.
  absl::Status Transact(Entry& entry, const std::function<absl::Status(db::Connection&)>& write);

  // Appends an event that has no write: a refused read, a sign-in, a read of personal data.
  // `outcome` is the answer the caller got.
  absl::Status Record(Entry entry, const absl::Status& outcome);

  // A refusal (out of scope, not allowed, not authenticated), appended off the request path:
  // queued, and written in batches by a thread of the recorder's own every `kFlushInterval`,
  // before every List and Verify, and at destruction. So a refused request takes no longer than
  // one for a missing resource, and a flood of them costs one transaction per batch. Bounded:
  // past kMaxQueued, refusals are counted and one row says how many were dropped.
  void Refuse(Entry entry, const absl::Status& outcome);
  // A call that came without a principal the gateway vouched for (straight to a service port,
  // forged, expired): `peer` as gRPC names it ("ipv4:10.0.0.9:51234"; recorded without the
  // port). The first of each (reason, address) is queued as Refuse would; the ones after it are
  // only counted, and one row per pair and count_interval says how many, from when to when
  // ("PRINCIPAL_MISSING x41 from ... to ..."). So a flood of them costs a few rows per
  // interval, not a write each; past kMaxCountedPairs addresses, the rest are counted under
  // "(other addresses)". No metadata of the call is kept beyond the address and request id.
  void Unauthenticated(std::string_view peer, std::string request_id, const absl::Status& outcome);

  // Appends what Refuse queued and the counts of Unauthenticated; returns the first failure
  // (the batch is then kept for later).
  absl::Status Flush();
  // Flushes every recorder of the process (several services' recorders share a log table: a
  // List of it must see all their refusals).
  static void FlushAll();

  absl::StatusOr<dangjian::audit::v1::ListAuditEntriesResponse> List(
      const auth::Principal& who, const dangjian::audit::v1::ListAuditEntriesRequest& request);
  absl::StatusOr<dangjian::audit::v1::VerifyAuditLogResponse> Verify(
      const auth::Principal& who, const dangjian::audit::v1::VerifyAuditLogRequest& request);

  const AuditLog& log() const { return log_; }

 private:
  absl::Status CheckName(const auth::Principal& who, std::string_view name, std::string_view field,
                         std::string_view action);

  void FlushLoop();
  absl::Status FlushQueued();
  // Turns the counts into queued rows and forgets the pairs that were quiet since last time.
  void QueueCounts();

  struct Tally {
    int64_t count = 0;  // after the first, which was queued as a row of its own
    int64_t first_us = 0;
    int64_t last_us = 0;
    std::string request_id;  // the first counted call's
    std::string outcome;
  };

  db::Pool& pool_;
  AuditLog log_;
  std::string log_name_;

  size_t max_queued_;
  std::mutex queue_mu_;
  std::vector<Entry> queued_;  // guarded by queue_mu_
  int64_t dropped_ = 0;        // guarded by queue_mu_
  std::chrono::milliseconds count_interval_;
  // (reason, address) -> what was counted since the last QueueCounts; guarded by queue_mu_.
  std::map<std::pair<std::string, std::string>, Tally> counted_;
  bool stop_ = false;  // guarded by queue_mu_
  std::condition_variable wake_;
  std::mutex flush_mu_;  // one batch at a time, in queue order
  std::thread flusher_;  // started by the first Refuse; guarded by queue_mu_
};

// "OK", "NOT_FOUND", ...
std::string OutcomeOf(const absl::Status& status);

}  // namespace dj::audit
