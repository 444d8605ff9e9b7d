// The hash-chained audit log.
#include "common/audit/audit_log.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
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
    "prev_hash, hash";

Entry FromRow(const db::Row& r) {
  return Entry{r.Int(0),  r.Int(1),  r.Text(2), r.Text(3), r.Text(4),  r.Text(5),
               r.Text(6), r.Text(7), r.Text(8), r.Text(9), r.Text(10), r.Text(11)};
}

// Length-prefixed fields: no two different entries serialize alike.
void Field(std::string* out, std::string_view v) { absl::StrAppend(out, v.size(), ":", AV(v), ";"); }

}  // namespace

std::span<const EmbeddedFile> Schema(db::Dialect dialect) {
  return dialect == db::Dialect::kMySql ? schema_mysql::Files() : schema_sqlite::Files();
}

std::string AuditLog::Hash(const Entry& e) const {
  std::string canonical;
  Field(&canonical, absl::StrCat(e.seq));
  Field(&canonical, absl::StrCat(e.time_us));
  for (const std::string* f : {&e.actor, &e.action, &e.resource, &e.org_path, &e.client_ip,
                               &e.request_id, &e.outcome, &e.detail, &e.prev_hash}) {
    Field(&canonical, *f);
  }
  return crypto::HmacHex(crypto::Digest::kSm3, key_, canonical);
}

absl::StatusOr<Entry> AuditLog::Append(db::Connection& c, Entry e) const {
  auto head = c.Exec(absl::StrCat("SELECT seq, hash FROM audit_head WHERE id = 1",
                                  AV(db::ForUpdate(c.dialect()))),
                     {});
  if (!head.ok()) {
    return head.status();
  }
  if (head->rows.empty()) {
    return absl::InternalError("audit_head is missing: the audit migrations did not run");
  }
  e.seq = head->rows[0].Int(0) + 1;
  e.prev_hash = head->rows[0].Text(1);
  if (e.detail.size() > 1024) {
    e.detail.resize(1024);
  }
  e.hash = Hash(e);
  auto inserted = c.Exec(
      absl::StrCat("INSERT INTO audit_log (", AV(kColumns),
                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      {e.seq, e.time_us, e.actor, e.action, e.resource, e.org_path, e.client_ip, e.request_id,
       e.outcome, e.detail, e.prev_hash, e.hash});
  if (!inserted.ok()) {
    return inserted.status();
  }
  auto moved = c.Exec("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", {e.seq, e.hash});
  if (!moved.ok()) {
    return moved.status();
  }
  return e;
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
  auto head = (*lease)->Exec("SELECT seq, hash, anchor_seq, anchor_hash FROM audit_head", {});
  if (!head.ok()) {
    return head.status();
  }
  Verification v;
  if (head->rows.size() != 1) {
    v.intact = false;
    v.problem = "the audit head is missing or duplicated";
    return v;
  }
  const int64_t head_seq = head->rows[0].Int(0);
  const std::string head_hash = head->rows[0].Text(1);
  int64_t expected_seq = head->rows[0].Int(2) + 1;
  std::string prev = head->rows[0].Text(3);
  constexpr int kBatch = 1000;
  while (true) {
    auto rows = (*lease)->Exec(
        absl::StrCat("SELECT ", AV(kColumns),
                     " FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?"),
        {expected_seq, int64_t{kBatch}});
    if (!rows.ok()) {
      return rows.status();
    }
    for (const db::Row& r : rows->rows) {
      const Entry e = FromRow(r);
      if (e.seq != expected_seq) {
        v = {false, v.checked, expected_seq, absl::StrCat("entry ", expected_seq, " is missing")};
        return v;
      }
      if (e.prev_hash != prev || e.hash != Hash(e)) {
        v = {false, v.checked, e.seq, absl::StrCat("entry ", e.seq, " was altered")};
        return v;
      }
      prev = e.hash;
      ++expected_seq;
      ++v.checked;
    }
    if (static_cast<int>(rows->rows.size()) < kBatch) {
      break;
    }
  }
  if (expected_seq - 1 != head_seq || prev != head_hash) {
    v = {false, v.checked, expected_seq,
         absl::StrCat("the log ends at entry ", expected_seq - 1, " but the head says ", head_seq,
                      ": entries were removed or added")};
  }
  return v;
}

absl::StatusOr<std::vector<Entry>> AuditLog::List(db::Pool& pool, int64_t scope_org,
                                                  int64_t before_seq, int limit) const {
  auto lease = pool.Acquire();
  if (!lease.ok()) {
    return lease.status();
  }
  // org_path in the subtree: the path names every ancestor, so it contains "/<scope_org>/".
  const std::string pattern = scope_org == 0 ? "%" : absl::StrCat("%/", scope_org, "/%");
  auto rows = (*lease)->Exec(
      absl::StrCat("SELECT ", AV(kColumns),
                   " FROM audit_log WHERE org_path LIKE ? AND seq < ? ORDER BY seq DESC LIMIT ?"),
      {pattern, before_seq > 0 ? before_seq : INT64_MAX, int64_t{limit}});
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
  return pool.Transact([&](db::Connection& c) -> absl::Status {
    auto head = c.Exec(absl::StrCat("SELECT seq FROM audit_head WHERE id = 1",
                                    AV(db::ForUpdate(c.dialect()))),
                       {});
    if (!head.ok()) {
      return head.status();
    }
    auto last = c.Exec("SELECT seq, hash FROM audit_log WHERE time_us < ? ORDER BY seq DESC "
                       "LIMIT 1",
                       {cutoff});
    if (!last.ok()) {
      return last.status();
    }
    if (last->rows.empty()) {
      return absl::OkStatus();
    }
    const int64_t anchor_seq = last->rows[0].Int(0);
    const std::string anchor_hash = last->rows[0].Text(1);
    if (auto d = c.Exec("DELETE FROM audit_log WHERE seq <= ?", {anchor_seq}); !d.ok()) {
      return d.status();
    }
    return c.Exec("UPDATE audit_head SET anchor_seq = ?, anchor_hash = ? WHERE id = 1",
                  {anchor_seq, anchor_hash})
        .status();
  });
}

}  // namespace dj::audit
