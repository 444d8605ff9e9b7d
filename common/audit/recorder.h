// What a service's handlers call to keep the audit log: an entry for the caller and the action,
// a write and its audit row in one transaction (a failed write still leaves its row, recording
// the refusal), events with no write, and the list/verify methods every service exposes as
// `auditLogs/{service}`.
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/audit/audit_log.h"
#include "common/auth/authorize.h"
#include "common/db/pool.h"
#include "dangjian/audit/v1/audit.pb.h"

namespace dj::audit {

class Recorder final {
 public:
  // `log_name`: "auditLogs/org". `key`: the HMAC-SM3 key (at least 32 bytes).
  Recorder(db::Pool& pool, std::string key, std::string log_name)
      : pool_(pool), log_(std::move(key)), log_name_(std::move(log_name)) {}

  // An entry for `who` doing `action` ("organizations.update") on `resource`, placed in the
  // tree at `org_path` so auditors of that subtree see it.
  static Entry For(const auth::Principal& who, std::string action, std::string resource,
                   std::string org_path);

  // Runs `write` in a transaction that also appends `entry` (outcome OK), so both commit or
  // neither does. When `write` fails, the refusal is appended on its own with the status code as
  // outcome and the reason as detail. `write` may fill in entry.resource and entry.org_path.
  absl::Status Transact(Entry& entry,
                        const std::function<absl::Status(db::Connection&)>& write);

  // Appends an event that has no write: a refused read, a sign-in, a read of personal data.
  // `outcome` is the answer the caller got.
  absl::Status Record(Entry entry, const absl::Status& outcome);

  absl::StatusOr<dangjian::audit::v1::ListAuditEntriesResponse> List(
      const auth::Principal& who, const dangjian::audit::v1::ListAuditEntriesRequest& request);
  absl::StatusOr<dangjian::audit::v1::VerifyAuditLogResponse> Verify(
      const auth::Principal& who, const dangjian::audit::v1::VerifyAuditLogRequest& request);

  const AuditLog& log() const { return log_; }

 private:
  absl::Status CheckName(const auth::Principal& who, std::string_view name,
                         std::string_view field, std::string_view action);

  db::Pool& pool_;
  AuditLog log_;
  std::string log_name_;
};

// "OK", "NOT_FOUND", ...
std::string OutcomeOf(const absl::Status& status);

}  // namespace dj::audit
