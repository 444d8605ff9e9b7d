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
    "locked_until_us, password_changed_us, must_change, version, create_time_us, update_time_us";

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

absl::StatusOr<std::optional<AccountRow>> AccountStore::FindByUsername(
    db::Connection& c, std::string_view username, bool for_update) {
  return One(c.Exec(absl::StrCat("SELECT ", AV(kColumns), " FROM accounts WHERE username = ?",
                                 AV(for_update ? db::ForUpdate(c.dialect()) : "")),
                    {std::string(username)}));
}

absl::Status AccountStore::Insert(db::Connection& c, const AccountRow& a) {
  return c.Exec(absl::StrCat("INSERT INTO accounts (", AV(kColumns),
                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                {a.id, a.username, a.password_hash, absl::StrJoin(a.roles, ","), a.scope_org,
                 a.scope_path, a.member, int64_t{a.failed_attempts}, a.locked_until_us,
                 a.password_changed_us, int64_t{a.must_change ? 1 : 0}, a.version,
                 a.create_time_us, a.update_time_us})
      .status();
}

absl::Status AccountStore::UpdateCredentials(db::Connection& c, const AccountRow& a) {
  return c.Exec("UPDATE accounts SET password_hash = ?, failed_attempts = ?, locked_until_us = ?, "
                "password_changed_us = ?, must_change = ?, version = version + 1, "
                "update_time_us = ? WHERE id = ?",
                {a.password_hash, int64_t{a.failed_attempts}, a.locked_until_us,
                 a.password_changed_us, int64_t{a.must_change ? 1 : 0}, a.update_time_us, a.id})
      .status();
}

absl::StatusOr<int64_t> AccountStore::Count(db::Connection& c) {
  auto r = c.Exec("SELECT COUNT(*) FROM accounts", {});
  if (!r.ok()) {
    return r.status();
  }
  return r->rows.empty() ? 0 : r->rows[0].Int(0);
}

absl::StatusOr<std::optional<AccountRow>> AccountStore::Get(int64_t id) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) {
    return lease.status();
  }
  return Find(**lease, id, /*for_update=*/false);
}

absl::StatusOr<std::optional<AccountRow>> AccountStore::GetByUsername(std::string_view username) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) {
    return lease.status();
  }
  return FindByUsername(**lease, username, /*for_update=*/false);
}

absl::StatusOr<std::vector<AccountRow>> AccountStore::List(int64_t scope_org, int64_t after_id,
                                                           int limit) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) {
    return lease.status();
  }
  const std::string pattern = scope_org == 0 ? "%" : absl::StrCat("%/", scope_org, "/%");
  return Rows((*lease)->Exec(
      absl::StrCat("SELECT ", AV(kColumns),
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
