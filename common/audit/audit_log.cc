// The hash-chained audit log: kShards chains, each with its own head row.
#include "common/audit/audit_log.h"

#include <algorithm>
#include <climits>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::audit::schema_mysql {
std::span<const EmbeddedFile> Files();
}  // namespace dj::audit::schema_mysql
namespace dj::audit::schema_sqlite {
std::span<const EmbeddedFile> Files();
}  // namespace dj::audit::schema_sqlite

namespace dj::audit {
namespace {

constexpr std::string_view kColumns =
    "seq, time_us, actor, action, resource, org_path, client_ip, request_id, outcome, detail, "
    "prev_hash, hash, shard, prev_seq, format";

Entry FromRow(const db::Row& r) {
  Entry e;
  e.seq = r.Int(0);
  e.time_us = r.Int(1);
  e.actor = r.Text(2);
  e.action = r.Text(3);
  e.resource = r.Text(4);
  e.org_path = r.Text(5);
  e.client_ip = r.Text(6);
  e.request_id = r.Text(7);
  e.outcome = r.Text(8);
  e.detail = r.Text(9);
  e.prev_hash = r.Text(10);
  e.hash = r.Text(11);
  e.shard = static_cast<int32_t>(r.Int(12));
  e.format = static_cast<int32_t>(r.Int(14));
  // The single chain written before there were shards had no gaps: a row follows seq - 1.
  e.prev_seq = e.format == 1 ? e.seq - 1 : r.Int(13);
  return e;
}

// Length-prefixed fields: no two different entries serialize alike.
void Field(std::string* out, std::string_view v) {
  absl::StrAppend(out, v.size(), ":", AV(v), ";");
}

struct Head {
  int64_t seq = 0;
  std::string hash;
};

// The largest seq of any chain's head, read without a lock (a consistent read waits for no
// writer), so an append is numbered after everything committed before it began.
absl::StatusOr<int64_t> LargestHead(db::Connection& c) {
  auto r = c.Exec("SELECT MAX(seq) FROM audit_head", {});
  if (!r.ok()) {
    return r.status();
  }
  return r->rows.empty() ? int64_t{0} : r->rows[0].Int(0);
}

// Locks the heads of `shards` in ascending order (the order the IN list is scanned in).
absl::StatusOr<std::map<int32_t, Head>> LockHeads(db::Connection& c,
                                                  const std::set<int32_t>& shards) {
  std::vector<db::Value> params;
  for (const int32_t s : shards) {
    params.emplace_back(int64_t{s});
  }
  auto r = c.Execute(absl::StrCat("SELECT id, seq, hash FROM audit_head WHERE id IN (",
                                  AV(db::Placeholders(params.size())), ") ORDER BY id",
                                  AV(db::ForUpdate(c.dialect()))),
                     params);
  if (!r.ok()) {
    return r.status();
  }
  std::map<int32_t, Head> out;
  for (const db::Row& row : r->rows) {
    out[static_cast<int32_t>(row.Int(0))] = Head{row.Int(1), row.Text(2)};
  }
  if (out.size() != shards.size()) {
    return absl::InternalError("audit_head is missing: the audit migrations did not run");
  }
  return out;
}

Verification Broken(int64_t checked, int32_t shard, int64_t seq, std::string_view problem) {
  Verification v;
  v.intact = false;
  v.checked = checked;
  v.first_bad_shard = shard;
  v.first_bad_seq = seq;
  v.problem = absl::StrCat("chain ", shard, ": ", AV(problem));
  return v;
}

}  // namespace

std::span<const EmbeddedFile> Schema(db::Dialect dialect) {
  return dialect == db::Dialect::kMySql ? schema_mysql::Files() : schema_sqlite::Files();
}

int32_t ShardOf(std::string_view org_path) {
  while (!org_path.empty() && org_path.back() == '/') {
    org_path.remove_suffix(1);
  }
  const size_t slash = org_path.rfind('/');
  const std::string_view last =
      slash == std::string_view::npos ? org_path : org_path.substr(slash + 1);
  uint64_t h = 14695981039346656037ULL;  // FNV-1a, 64 bits: fixed, unlike std::hash
  for (const char ch : last) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ULL;
  }
  return static_cast<int32_t>(h % static_cast<uint64_t>(kShards));
}

int32_t ShardFor(const Entry& entry) {
  const bool has_org = entry.org_path.find_first_not_of('/') != std::string::npos;
  return ShardOf(has_org ? entry.org_path : entry.actor);
}

std::string AuditLog::Hash(const Entry& e) const {
  std::string canonical;
  if (e.format != 1) {
    // A leading field no format-1 row has ("v2" is not a number), then the row's place.
    Field(&canonical, "v2");
    Field(&canonical, absl::StrCat(e.shard));
    Field(&canonical, absl::StrCat(e.prev_seq));
  }
  Field(&canonical, absl::StrCat(e.seq));
  Field(&canonical, absl::StrCat(e.time_us));
  for (const std::string* f : {&e.actor, &e.action, &e.resource, &e.org_path, &e.client_ip,
                               &e.request_id, &e.outcome, &e.detail, &e.prev_hash}) {
    Field(&canonical, *f);
  }
  return crypto::HmacHex(crypto::Digest::kSm3, key_, canonical);
}

absl::StatusOr<Entry> AuditLog::Append(db::Connection& c, Entry entry) const {
  std::vector<Entry> one;
  one.push_back(std::move(entry));
  auto done = AppendAll(c, std::move(one));
  if (!done.ok()) {
    return done.status();
  }
  return std::move(done->front());
}

absl::StatusOr<std::vector<Entry>> AuditLog::AppendAll(db::Connection& c,
                                                       std::vector<Entry> entries) const {
  if (entries.empty()) {
    return entries;
  }
  std::set<int32_t> shards;
  for (Entry& e : entries) {
    e.shard = ShardFor(e);
    shards.insert(e.shard);
  }
  auto heads = LockHeads(c, shards);
  if (!heads.ok()) {
    return heads.status();
  }
  auto largest = LargestHead(c);
  if (!largest.ok()) {
    return largest.status();
  }
  int64_t clock = *largest;
  for (const auto& [shard, head] : *heads) {
    clock = std::max(clock, head.seq);  // the locked read sees what an older snapshot may not
  }
  for (Entry& e : entries) {
    Head& head = (*heads)[e.shard];
    e.format = 2;
    e.seq = ++clock;
    e.prev_seq = head.seq;
    e.prev_hash = head.hash;
    if (e.detail.size() > 1024) {
      e.detail.resize(1024);
    }
    e.hash = Hash(e);
    auto inserted = c.Exec(absl::StrCat("INSERT INTO audit_log (", AV(kColumns),
                                        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                           {e.seq, e.time_us, e.actor, e.action, e.resource, e.org_path,
                            e.client_ip, e.request_id, e.outcome, e.detail, e.prev_hash, e.hash,
                            int64_t{e.shard}, e.prev_seq, int64_t{e.format}});
    if (!inserted.ok()) {
      return inserted.status();
    }
    head = Head{e.seq, e.hash};
  }
  for (const auto& [shard, head] : *heads) {
    auto moved = c.Exec("UPDATE audit_head SET seq = ?, hash = ? WHERE id = ?",
                        {head.seq, head.hash, int64_t{shard}});
    if (!moved.ok()) {
      return moved.status();
    }
  }
  return entries;
}

absl::StatusOr<Entry> AuditLog::AppendAlone(db::Pool& pool, Entry entry) const {
  Entry out;
  absl::Status s = pool.Transact([&](db::Connection& c) -> absl::Status {
    auto e = Append(c, entry);
    if (!e.ok()) {
      return e.status();
    }
    out = *std::move(e);
    return absl::OkStatus();
  });
  if (!s.ok()) {
    return s;
  }
  return out;
}

absl::StatusOr<Verification> AuditLog::Verify(db::Pool& pool) const {
  auto lease = pool.Acquire();
  if (!lease.ok()) {
    return lease.status();
  }
  db::Connection& c = **lease;
  auto heads =
      c.Exec("SELECT id, seq, hash, anchor_seq, anchor_hash FROM audit_head ORDER BY id", {});
  if (!heads.ok()) {
    return heads.status();
  }
  Verification v;
  bool shape_ok = static_cast<int32_t>(heads->rows.size()) == kShards;
  for (size_t i = 0; shape_ok && i < heads->rows.size(); ++i) {
    shape_ok = heads->rows[i].Int(0) == static_cast<int64_t>(i);
  }
  if (!shape_ok) {
    v.intact = false;
    v.problem = absl::StrCat("the audit heads are missing or duplicated (", heads->rows.size(),
                             " rows, ", kShards, " expected)");
    return v;
  }
  // Rows in no chain were added: nothing vouches for them.
  auto stray =
      c.Exec("SELECT COUNT(*) FROM audit_log WHERE shard < 0 OR shard >= ?", {int64_t{kShards}});
  if (!stray.ok()) {
    return stray.status();
  }
  if (!stray->rows.empty() && stray->rows[0].Int(0) > 0) {
    v.intact = false;
    v.problem = absl::StrCat(stray->rows[0].Int(0), " entries lie outside every chain");
    return v;
  }
  for (const db::Row& h : heads->rows) {
    ASSIGN_OR_RETURN(std::optional<Verification> broken, VerifyChain(c, h, v.checked));
    if (broken.has_value()) {
      return *broken;
    }
  }
  return v;
}

absl::StatusOr<std::optional<Verification>> AuditLog::VerifyChain(db::Connection& c,
                                                                 const db::Row& h,
                                                                 int64_t& checked) const {
  constexpr int kBatch = 1000;
  const auto shard = static_cast<int32_t>(h.Int(0));
  const int64_t head_seq = h.Int(1);
  const std::string head_hash = h.Text(2);
  int64_t last_seq = h.Int(3);
  std::string prev = h.Text(4);
  // Up to the head read above: what is appended meanwhile is the next Verify's.
  while (true) {
    auto rows = c.Exec(absl::StrCat("SELECT ", AV(kColumns),
                                    " FROM audit_log WHERE shard = ? AND seq > ? AND seq <= ? "
                                    "ORDER BY seq LIMIT ?"),
                       {int64_t{shard}, last_seq, head_seq, int64_t{kBatch}});
    if (!rows.ok()) {
      return rows.status();
    }
    for (const db::Row& r : rows->rows) {
      const Entry e = FromRow(r);
      if (e.prev_seq != last_seq) {
        // The row names the entry it follows, and that one is not there.
        return Broken(checked, shard, e.prev_seq > last_seq ? e.prev_seq : e.seq,
                      absl::StrCat("entry ", e.prev_seq, " is missing"));
      }
      if (e.prev_hash != prev || e.hash != Hash(e)) {
        return Broken(checked, shard, e.seq, absl::StrCat("entry ", e.seq, " was altered"));
      }
      prev = e.hash;
      last_seq = e.seq;
      ++checked;
    }
    if (static_cast<int>(rows->rows.size()) < kBatch) {
      break;
    }
  }
  if (last_seq != head_seq || prev != head_hash) {
    return Broken(checked, shard, head_seq,
                  absl::StrCat("the chain ends at entry ", last_seq, " but its head says ",
                               head_seq, ": entries were removed or added"));
  }
  // A row past the head was added, unless the head has moved past it since it was read (an
  // append commits its row and its head together).
  auto beyond = c.Exec("SELECT MAX(seq) FROM audit_log WHERE shard = ? AND seq > ?",
                       {int64_t{shard}, head_seq});
  if (!beyond.ok()) {
    return beyond.status();
  }
  if (!beyond->rows.empty() && !beyond->rows[0].IsNull(0)) {
    const int64_t last_row = beyond->rows[0].Int(0);
    auto now = c.Exec("SELECT seq FROM audit_head WHERE id = ?", {int64_t{shard}});
    if (!now.ok()) {
      return now.status();
    }
    if (now->rows.empty() || now->rows[0].Int(0) < last_row) {
      return Broken(checked, shard, last_row,
                    absl::StrCat("entry ", last_row, " lies past the chain's head"));
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<Entry>> AuditLog::List(db::Pool& pool, int64_t scope_org,
                                                  int64_t before_seq, int limit) const {
  return List(pool, scope_org, Position{before_seq, -1}, limit);
}

absl::StatusOr<std::vector<Entry>> AuditLog::List(db::Pool& pool, int64_t scope_org,
                                                  Position before, int limit) const {
  auto lease = pool.Acquire();
  if (!lease.ok()) {
    return lease.status();
  }
  // org_path in the subtree: the path names every ancestor, so it contains "/<scope_org>/".
  const std::string pattern = scope_org == 0 ? "%" : absl::StrCat("%/", scope_org, "/%");
  const int64_t seq = before.seq > 0 ? before.seq : INT64_MAX;
  const int64_t shard = before.seq > 0 ? int64_t{before.shard} : INT64_MAX;
  // (seq, shard) < (?, ?), written so that the index on (seq, shard) serves the range.
  auto rows = (*lease)->Exec(
      absl::StrCat("SELECT ", AV(kColumns),
                   " FROM audit_log WHERE org_path LIKE ? AND seq <= ? AND (seq < ? OR shard < ?)"
                   " ORDER BY seq DESC, shard DESC LIMIT ?"),
      {pattern, seq, seq, shard, int64_t{limit}});
  if (!rows.ok()) {
    return rows.status();
  }
  std::vector<Entry> out;
  for (const db::Row& r : rows->rows) {
    out.push_back(FromRow(r));
  }
  return out;
}

absl::Status AuditLog::Purge(db::Pool& pool, int64_t now_us, std::chrono::days retention) const {
  if (retention < std::chrono::days(180)) {
    return absl::InvalidArgumentError("audit retention must be at least 180 days");
  }
  const int64_t cutoff =
      now_us - std::chrono::duration_cast<std::chrono::microseconds>(retention).count();
  // One chain at a time: a purge holds one head at once, as an append does.
  for (int32_t shard = 0; shard < kShards; ++shard) {
    absl::Status s = pool.Transact([&](db::Connection& c) -> absl::Status {
      auto head = c.Exec(
          absl::StrCat("SELECT seq FROM audit_head WHERE id = ?", AV(db::ForUpdate(c.dialect()))),
          {int64_t{shard}});
      if (!head.ok()) {
        return head.status();
      }
      auto last = c.Exec(
          "SELECT seq, hash FROM audit_log WHERE shard = ? AND time_us < ? "
          "ORDER BY seq DESC LIMIT 1",
          {int64_t{shard}, cutoff});
      if (!last.ok()) {
        return last.status();
      }
      if (last->rows.empty()) {
        return absl::OkStatus();
      }
      const int64_t anchor_seq = last->rows[0].Int(0);
      const std::string anchor_hash = last->rows[0].Text(1);
      if (auto d = c.Exec("DELETE FROM audit_log WHERE shard = ? AND seq <= ?",
                          {int64_t{shard}, anchor_seq});
          !d.ok()) {
        return d.status();
      }
      return c
          .Exec("UPDATE audit_head SET anchor_seq = ?, anchor_hash = ? WHERE id = ?",
                {anchor_seq, anchor_hash, int64_t{shard}})
          .status();
    });
    if (!s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace dj::audit
