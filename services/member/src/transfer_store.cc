// SQL for transfers and letter numbers; the dialect differences (row locks, upserts, prefix
// rewrites) go through common/db.
#include "services/member/src/transfer_store.h"

#include "absl/strings/str_cat.h"
#include "common/runtime/strings.h"

namespace dj::member {
namespace {

constexpr int32_t kPending = 1;   // TransferState TRANSFER_PENDING
constexpr int32_t kAccepted = 2;  // TRANSFER_ACCEPTED

constexpr std::string_view kColumns =
    "id, kind, member_id, member_display_name, from_org_id, from_path, from_external_name, "
    "to_org_id, to_path, to_external_name, letter_number, issue_date, expire_date, note, state, "
    "decision_reason, decision_date, receipt_date, transferred_out, creator, version, "
    "create_time_us, update_time_us";

TransferRow FromDb(const db::Row& r) {
  TransferRow t;
  t.id = r.Int(0);
  t.kind = static_cast<int32_t>(r.Int(1));
  t.member_id = r.Int(2);
  t.member_display_name = r.Text(3);
  t.from_org_id = r.Int(4);
  t.from_path = r.Text(5);
  t.from_external_name = r.Text(6);
  t.to_org_id = r.Int(7);
  t.to_path = r.Text(8);
  t.to_external_name = r.Text(9);
  t.letter_number = r.Text(10);
  t.issue_date = r.OptionalDate(11).value_or(time::CivilDate{});
  t.expire_date = r.OptionalDate(12).value_or(time::CivilDate{});
  t.note = r.Text(13);
  t.state = static_cast<int32_t>(r.Int(14));
  t.decision_reason = r.Text(15);
  t.decision_date = r.OptionalDate(16);
  t.receipt_date = r.OptionalDate(17);
  t.transferred_out = r.Int(18) != 0;
  t.creator = r.Text(19);
  t.version = r.Int(20);
  t.create_time_us = r.Int(21);
  t.update_time_us = r.Int(22);
  return t;
}

std::string Select(std::string_view where_and_order) {
  return absl::StrCat("SELECT ", AV(kColumns), " FROM transfers ", AV(where_and_order));
}

absl::StatusOr<std::vector<TransferRow>> Rows(absl::StatusOr<db::Result> result) {
  return db::MapRows<TransferRow>(std::move(result), FromDb);
}

// "(column in the subtree of path)", binding its two bounds.
std::string InSubtree(std::string_view column, std::string_view path,
                      std::vector<db::Value>& params) {
  params.emplace_back(std::string(path));
  params.emplace_back(db::SubtreeUpperBound(path));
  return absl::StrCat("(", AV(column), " >= ? AND ", AV(column), " < ?)");
}

}  // namespace

absl::StatusOr<std::optional<TransferRow>> TransferStore::Find(db::Connection& c, int64_t id,
                                                               bool for_update) {
  return db::MapOne<TransferRow>(
      c.Exec(Select(absl::StrCat("WHERE id = ?", AV(for_update ? db::ForUpdate(c.dialect()) : ""))),
             {id}),
      FromDb);
}

absl::StatusOr<std::optional<TransferRow>> TransferStore::FindByRequestId(
    db::Connection& c, std::string_view request_id) {
  return db::MapOne<TransferRow>(c.Exec(Select("WHERE request_id = ?"), {std::string(request_id)}),
                                 FromDb);
}

absl::Status TransferStore::Insert(db::Connection& c, const TransferRow& t,
                                   std::string_view request_id) {
  const std::vector<db::Value> params = {t.id,
                                         int64_t{t.kind},
                                         t.member_id,
                                         t.member_display_name,
                                         t.from_org_id,
                                         t.from_path,
                                         t.from_external_name,
                                         t.to_org_id,
                                         t.to_path,
                                         t.to_external_name,
                                         t.letter_number,
                                         db::DateOrNull(t.issue_date),
                                         db::DateOrNull(t.expire_date),
                                         t.note,
                                         int64_t{t.state},
                                         t.decision_reason,
                                         db::DateOrNull(t.decision_date),
                                         db::DateOrNull(t.receipt_date),
                                         int64_t{t.transferred_out ? 1 : 0},
                                         t.creator,
                                         t.version,
                                         t.create_time_us,
                                         t.update_time_us,
                                         db::TextOrNull(request_id)};
  return c
      .Execute(absl::StrCat("INSERT INTO transfers (", AV(kColumns), ", request_id) VALUES (",
                            db::Placeholders(params.size()), ")"),
               params)
      .status();
}

absl::StatusOr<bool> TransferStore::UpdateState(db::Connection& c, const TransferRow& t,
                                                int64_t expected_version) {
  auto r = c.Exec(
      "UPDATE transfers SET state = ?, decision_reason = ?, decision_date = ?, receipt_date = ?, "
      "transferred_out = ?, version = ?, update_time_us = ? WHERE id = ? AND version = ?",
      {int64_t{t.state}, t.decision_reason, db::DateOrNull(t.decision_date),
       db::DateOrNull(t.receipt_date), int64_t{t.transferred_out ? 1 : 0}, t.version,
       t.update_time_us, t.id, expected_version});
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows > 0;
}

absl::StatusOr<std::optional<TransferRow>> TransferStore::OpenFor(db::Connection& c,
                                                                  int64_t member_id,
                                                                  const time::CivilDate& today) {
  return db::MapOne<TransferRow>(
      c.Exec(Select("WHERE member_id = ? AND state = ? AND expire_date >= ? ORDER BY id LIMIT 1"),
             {member_id, int64_t{kPending}, db::DateOrNull(today)}),
      FromDb);
}

absl::StatusOr<std::optional<TransferRow>> TransferStore::TransferredOut(db::Connection& c,
                                                                         int64_t member_id) {
  return db::MapOne<TransferRow>(
      c.Exec(Select("WHERE member_id = ? AND state = ? AND transferred_out = 1 LIMIT 1"),
             {member_id, int64_t{kAccepted}}),
      FromDb);
}

absl::StatusOr<std::vector<TransferRow>> TransferStore::List(db::Connection& c,
                                                             const TransferFilter& filter,
                                                             int64_t before_id, int limit) {
  std::string where = "WHERE 1 = 1";
  std::vector<db::Value> params;
  if (!filter.subtree.empty()) {
    if (filter.incoming && filter.outgoing) {
      const std::string out = InSubtree("from_path", filter.subtree, params);
      absl::StrAppend(&where, " AND (", out, " OR ", InSubtree("to_path", filter.subtree, params),
                      ")");
    } else {
      absl::StrAppend(&where, " AND ",
                      InSubtree(filter.incoming ? "to_path" : "from_path", filter.subtree, params));
    }
  }
  if (filter.member_id != 0) {
    where += " AND member_id = ?";
    params.emplace_back(filter.member_id);
  }
  if (filter.stored_state != 0) {
    where += " AND state = ?";
    params.emplace_back(int64_t{filter.stored_state});
  }
  if (filter.validity != TransferFilter::Validity::kAny) {
    where += filter.validity == TransferFilter::Validity::kValid ? " AND expire_date >= ?"
                                                                 : " AND expire_date < ?";
    params.emplace_back(db::DateOrNull(filter.today));
  }
  if (before_id != 0) {
    where += " AND id < ?";
    params.emplace_back(before_id);
  }
  params.emplace_back(int64_t{limit});
  return Rows(c.Execute(Select(absl::StrCat(where, " ORDER BY id DESC LIMIT ?")), params));
}

absl::StatusOr<int64_t> TransferStore::NextLetterSeq(db::Connection& c, int32_t year) {
  const std::string_view upsert =
      c.dialect() == db::Dialect::kMySql
          ? "INSERT INTO transfer_letter_sequences (letter_year, last_seq) VALUES (?, 1) "
            "ON DUPLICATE KEY UPDATE last_seq = last_seq + 1"
          : "INSERT INTO transfer_letter_sequences (letter_year, last_seq) VALUES (?, 1) "
            "ON CONFLICT (letter_year) DO UPDATE SET last_seq = last_seq + 1";
  if (auto r = c.Exec(upsert, {int64_t{year}}); !r.ok()) {
    return r.status();
  }
  auto r = c.Exec("SELECT last_seq FROM transfer_letter_sequences WHERE letter_year = ?",
                  {int64_t{year}});
  if (!r.ok()) {
    return r.status();
  }
  if (r->rows.empty()) {
    return absl::InternalError("the letter sequence row is missing after its upsert");
  }
  return r->rows[0].Int(0);
}

absl::StatusOr<int64_t> TransferStore::RewritePaths(db::Connection& c, std::string_view old_prefix,
                                                    std::string_view new_prefix) {
  int64_t changed = 0;
  for (std::string_view column : {"from_path", "to_path"}) {
    auto r = c.Exec(absl::StrCat("UPDATE transfers SET ", AV(column), " = ",
                                 db::ReplacePrefixSql(c.dialect(), column), " WHERE ", AV(column),
                                 " >= ? AND ", AV(column), " < ?"),
                    {std::string(new_prefix), static_cast<int64_t>(old_prefix.size()) + 1,
                     std::string(old_prefix), db::SubtreeUpperBound(old_prefix)});
    if (!r.ok()) {
      return r.status();
    }
    changed += r->affected_rows;
  }
  return changed;
}

}  // namespace dj::member
