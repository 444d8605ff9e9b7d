// SQL for accounts; the one dialect difference, row locks, goes through db::ForUpdate.
#include "services/member/src/account_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/runtime/strings.h"

namespace dj::member {
namespace {

constexpr std::string_view kColumns =
    "id, username, password_hash, roles, scope_org, scope_path, member, failed_attempts, "
    "locked_until_us, password_changed_us, must_change, version, create_time_us, update_time_us, "
    "session_epoch, last_failure_us";

AccountRow FromDb(const db::Row& r) {
  AccountRow a;
  a.id = r.Int(0);
  a.username = r.Text(1);
  a.password_hash = r.Text(2);
  for (absl::string_view role : absl::StrSplit(r.Text(3), ',', absl::SkipEmpty())) {
    a.roles.emplace_back(role);
  }
  a.scope_org = r.Int(4);
  a.scope_path = r.Text(5);
  a.member = r.Text(6);
  a.failed_attempts = static_cast<int>(r.Int(7));
  a.locked_until_us = r.Int(8);
  a.password_changed_us = r.Int(9);
  a.must_change = r.Int(10) != 0;
  a.version = r.Int(11);
  a.create_time_us = r.Int(12);
  a.update_time_us = r.Int(13);
  a.session_epoch = r.Int(14);
  a.last_failure_us = r.Int(15);
  return a;
}

absl::StatusOr<std::vector<AccountRow>> Rows(absl::StatusOr<db::Result> result) {
  if (!result.ok()) {
    return result.status();
  }
  std::vector<AccountRow> out;
  for (const db::Row& r : result->rows) {
    out.push_back(FromDb(r));
  }
  return out;
}

absl::StatusOr<std::optional<AccountRow>> One(absl::StatusOr<db::Result> result) {
  auto rows = Rows(std::move(result));
  if (!rows.ok()) {
    return rows.status();
  }
  if (rows->empty()) {
    return std::optional<AccountRow>();
  }
  return std::optional<AccountRow>(std::move(rows->front()));
}

}  // namespace

absl::StatusOr<std::optional<AccountRow>> AccountStore::Find(db::Connection& c, int64_t id,
                                                             bool for_update) {
  return One(c.Exec(absl::StrCat("SELECT ", AV(kColumns), " FROM accounts WHERE id = ?",
                                 AV(for_update ? db::ForUpdate(c.dialect()) : "")),
                    {id}));
}

absl::StatusOr<std::optional<AccountRow>> AccountStore::FindByUsername(db::Connection& c,
                                                                       std::string_view username,
                                                                       bool for_update) {
  return One(c.Exec(absl::StrCat("SELECT ", AV(kColumns), " FROM accounts WHERE username = ?",
                                 AV(for_update ? db::ForUpdate(c.dialect()) : "")),
                    {std::string(username)}));
}

absl::StatusOr<std::optional<AccountRow>> AccountStore::FindByRequestId(
    db::Connection& c, std::string_view request_id) {
  return One(c.Exec(absl::StrCat("SELECT ", AV(kColumns), " FROM accounts WHERE request_id = ?"),
                    {std::string(request_id)}));
}

absl::Status AccountStore::Insert(db::Connection& c, const AccountRow& a,
                                  std::string_view request_id) {
  return c
      .Exec(
          absl::StrCat("INSERT INTO accounts (", AV(kColumns),
                       ", request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
          {a.id, a.username, a.password_hash, absl::StrJoin(a.roles, ","), a.scope_org,
           a.scope_path, a.member, int64_t{a.failed_attempts}, a.locked_until_us,
           a.password_changed_us, int64_t{a.must_change ? 1 : 0}, a.version, a.create_time_us,
           a.update_time_us, a.session_epoch, a.last_failure_us, db::TextOrNull(request_id)})
      .status();
}

absl::Status AccountStore::UpdateCredentials(db::Connection& c, const AccountRow& a) {
  return c
      .Exec(
          "UPDATE accounts SET password_hash = ?, failed_attempts = ?, locked_until_us = ?, "
          "password_changed_us = ?, must_change = ?, version = version + 1, "
          "update_time_us = ?, session_epoch = ?, last_failure_us = ? WHERE id = ?",
          {a.password_hash, int64_t{a.failed_attempts}, a.locked_until_us, a.password_changed_us,
           int64_t{a.must_change ? 1 : 0}, a.update_time_us, a.session_epoch, a.last_failure_us,
           a.id})
      .status();
}

absl::Status AccountStore::InsertRevocation(db::Connection& c, const RevocationRow& r) {
  constexpr int64_t kHourUs = 3'600'000'000;
  if (auto purged =
          c.Exec("DELETE FROM revocations WHERE expire_time_us < ?", {r.create_time_us - kHourUs});
      !purged.ok()) {
    return purged.status();
  }
  return c
      .Exec(
          "INSERT INTO revocations (id, session_id, account_id, min_epoch, reason, "
          "create_time_us, expire_time_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {r.id, r.session_id, r.account_id, r.min_epoch, r.reason, r.create_time_us,
           r.expire_time_us})
      .status();
}

absl::StatusOr<std::vector<RevocationRow>> AccountStore::ListRevocations(db::Connection& c,
                                                                         int64_t since_us,
                                                                         int64_t now_us,
                                                                         int limit) {
  auto result = c.Exec(
      "SELECT id, session_id, account_id, min_epoch, reason, create_time_us, expire_time_us "
      "FROM revocations WHERE create_time_us >= ? AND expire_time_us > ? "
      "ORDER BY create_time_us, id LIMIT ?",
      {since_us, now_us, int64_t{limit}});
  if (!result.ok()) {
    return result.status();
  }
  std::vector<RevocationRow> out;
  for (const db::Row& r : result->rows) {
    out.push_back({.id = r.Int(0),
                   .session_id = r.Text(1),
                   .account_id = r.Int(2),
                   .min_epoch = r.Int(3),
                   .reason = r.Text(4),
                   .create_time_us = r.Int(5),
                   .expire_time_us = r.Int(6)});
  }
  return out;
}

absl::StatusOr<int64_t> AccountStore::Count(db::Connection& c) {
  auto r = c.Exec("SELECT COUNT(*) FROM accounts", {});
  if (!r.ok()) {
    return r.status();
  }
  return r->rows.empty() ? 0 : r->rows[0].Int(0);
}

absl::StatusOr<std::vector<AccountRow>> AccountStore::List(db::Connection& c, int64_t scope_org,
                                                           int64_t after_id, int limit) {
  const std::string pattern = scope_org == 0 ? "%" : absl::StrCat("%/", scope_org, "/%");
  return Rows(
      c.Exec(absl::StrCat("SELECT ", AV(kColumns),
                          " FROM accounts WHERE scope_path LIKE ? AND id > ? ORDER BY id LIMIT ?"),
             {pattern, after_id, int64_t{limit}}));
}

absl::StatusOr<int64_t> AccountStore::RewriteScopePaths(db::Connection& c,
                                                        const std::string& old_path,
                                                        const std::string& new_path) {
  const std::string upper = db::SubtreeUpperBound(old_path);
  auto r = c.Exec(absl::StrCat("UPDATE accounts SET scope_path = ",
                               db::ReplacePrefixSql(c.dialect(), "scope_path"),
                               " WHERE scope_path >= ? AND scope_path < ?"),
                  {new_path, static_cast<int64_t>(old_path.size()) + 1, old_path, upper});
  if (!r.ok()) {
    return r.status();
  }
  return static_cast<int64_t>(r->affected_rows);
}

}  // namespace dj::member
