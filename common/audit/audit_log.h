// The audit log every service keeps (等保 2.0 level 3): who did what to which resource, when,
// from where, under which request id, and how it ended. Rows are appended in the same
// transaction as the write they record and chained with HMAC-SM3 (GB/T 39786), so a changed,
// deleted or inserted row is found by Verify. Auditors list it over their subtree.
//
// There is not one chain but kShards of them, each with its own head row: an entry joins the
// chain of its organization (the last id on its org_path), so writes of different organizations
// do not wait for one another's audit append, and one organization's entries stay in one ordered
// chain. `seq` is a Lamport number: an append takes one more than the largest head it sees, so
// an entry written after another has committed always has a larger seq, in any chain. Within a
// chain seq only grows, and each row names the entry it follows (prev_seq); entries appended at
// the same moment in two chains may share a seq, and (seq, shard) orders the whole log.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/runtime/embedded_file.h"

namespace dj::audit {

struct Entry {
  int64_t seq = 0;  // assigned by Append: increasing, see above
  int64_t time_us = 0;
  std::string actor;     // "accounts/12", or "anonymous"
  std::string action;    // "org.organizations.create", "auth.login", "member.pii.read"
  std::string resource;  // "organizations/7"
  std::string org_path;  // the resource's materialized path ("/1/5/7/"), for scoped reading
  std::string client_ip;
  std::string request_id;
  std::string outcome;    // "OK", or the refusal's code ("PERMISSION_DENIED", ...)
  std::string detail;     // short and free of personal data
  std::string prev_hash;  // hex HMAC-SM3, set by Append
  std::string hash;
  int32_t shard = 0;     // the chain, set by Append (ShardFor)
  int64_t prev_seq = 0;  // the seq of the entry this one follows in its chain, set by Append
  int32_t format = 2;    // 1: written before chains had shards (the hash covers neither field)
};

// Where an entry sits in the whole log: newest first is (seq, shard) descending.
struct Position {
  int64_t seq = 0;
  int32_t shard = 0;
};

// The number of chains (the heads the migrations create: 0 .. kShards - 1).
inline constexpr int32_t kShards = 16;
// The chain of entries placed at `org_path`: a fixed hash (FNV-1a) of its last id, so it never
// changes between builds or when the organization moves.
int32_t ShardOf(std::string_view org_path);
// The chain an entry joins: its organization's; for an entry at "/" (a sign-in, a refusal of an
// unknown caller), its actor's, so that sign-ins of different accounts do not share one head.
int32_t ShardFor(const Entry& entry);

struct Verification {
  bool intact = true;
  int64_t checked = 0;           // rows verified
  int64_t first_bad_seq = 0;     // where the chain breaks (0 when intact)
  int32_t first_bad_shard = -1;  // in which chain (-1 when intact)
  std::string problem;
};

// The audit tables, applied with every service's migrations (set "audit").
std::span<const EmbeddedFile> Schema(db::Dialect dialect);

class AuditLog final {
 public:
  // `key`: the HMAC-SM3 key (from configuration; at least 32 bytes).
  explicit AuditLog(std::string key) : key_(std::move(key)) {}

  // In the caller's transaction, so the record and the write commit (or not) together. Locks
  // the head of the entry's chain only.
  absl::StatusOr<Entry> Append(db::Connection& c, Entry entry) const;
  // Several entries in one transaction, in order: the heads of their chains are locked first,
  // in ascending order, so two batches never deadlock on each other.
  absl::StatusOr<std::vector<Entry>> AppendAll(db::Connection& c, std::vector<Entry> entries) const;
  // In a transaction of its own: events with no write (a refused login, a read of personal data).
  absl::StatusOr<Entry> AppendAlone(db::Pool& pool, Entry entry) const;

  // Walks every chain from its anchor to its head, and finds rows outside any chain.
  absl::StatusOr<Verification> Verify(db::Pool& pool) const;

  // Entries whose org_path lies in the subtree of organization `scope_org` (0: all), newest
  // first, with a seq below `before_seq` (0: from the newest).
  absl::StatusOr<std::vector<Entry>> List(db::Pool& pool, int64_t scope_org, int64_t before_seq,
                                          int limit) const;
  // The same, after the entry at `before` (seq 0: from the newest): what a page token holds,
  // so entries sharing a seq are neither skipped nor repeated between pages.
  absl::StatusOr<std::vector<Entry>> List(db::Pool& pool, int64_t scope_org, Position before,
                                          int limit) const;

  // Deletes entries older than `retention` (at least 180 days), moving each chain's anchor to
  // its last deleted row so Verify still holds.
  absl::Status Purge(db::Pool& pool, int64_t now_us, std::chrono::days retention) const;

 private:
  std::string Hash(const Entry& e) const;
  // One chain, from its head row `h` (id, seq, hash, anchor_seq, anchor_hash): where it breaks,
  // or nullopt when intact; `checked` counts the rows verified.
  absl::StatusOr<std::optional<Verification>> VerifyChain(db::Connection& c, const db::Row& h,
                                                          int64_t& checked) const;
  std::string key_;
};

}  // namespace dj::audit
