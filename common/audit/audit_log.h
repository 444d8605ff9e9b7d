// The audit log every service keeps (等保 2.0 level 3): who did what to which resource, when,
// from where, under which request id, and how it ended. Rows are appended in the same
// transaction as the write they record and chained with HMAC-SM3 (GB/T 39786), so a changed,
// deleted or inserted row is found by Verify. Auditors list it over their subtree.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/runtime/embedded_file.h"

namespace dj::audit {

struct Entry {
  int64_t seq = 0;  // assigned by Append: 1, 2, 3, ... with no gaps
  int64_t time_us = 0;
  std::string actor;       // "accounts/12", or "anonymous"
  std::string action;      // "org.organizations.create", "auth.login", "member.pii.read"
  std::string resource;    // "organizations/7"
  std::string org_path;    // the resource's materialized path ("/1/5/7/"), for scoped reading
  std::string client_ip;
  std::string request_id;
  std::string outcome;     // "OK", or the refusal's code ("PERMISSION_DENIED", ...)
  std::string detail;      // short and free of personal data
  std::string prev_hash;   // hex HMAC-SM3, set by Append
  std::string hash;
};

struct Verification {
  bool intact = true;
  int64_t checked = 0;        // rows verified
  int64_t first_bad_seq = 0;  // where the chain breaks (0 when intact)
  std::string problem;
};

// The audit tables, applied with every service's migrations (set "audit").
std::span<const EmbeddedFile> Schema(db::Dialect dialect);

class AuditLog final {
 public:
  // `key`: the HMAC-SM3 key (from configuration; at least 32 bytes).
  explicit AuditLog(std::string key) : key_(std::move(key)) {}

  // In the caller's transaction, so the record and the write commit (or not) together.
  absl::StatusOr<Entry> Append(db::Connection& c, Entry entry) const;
  // In a transaction of its own: events with no write (a refused login, a read of personal data).
  absl::StatusOr<Entry> AppendAlone(db::Pool& pool, Entry entry) const;

  // Walks the chain from its anchor to the head.
  absl::StatusOr<Verification> Verify(db::Pool& pool) const;

  // Entries whose org_path lies in the subtree of organization `scope_org` (0: all), newest
  // first, older than `before_seq` (0: from the newest).
  absl::StatusOr<std::vector<Entry>> List(db::Pool& pool, int64_t scope_org, int64_t before_seq,
                                          int limit) const;

  // Deletes entries older than `retention` (at least 180 days), moving the chain's anchor to the
  // last deleted row so Verify still holds.
  absl::Status Purge(db::Pool& pool, int64_t now_us, std::chrono::days retention) const;

 private:
  std::string Hash(const Entry& e) const;
  std::string key_;
};

}  // namespace dj::audit
