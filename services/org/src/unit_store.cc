// SQL for units. Every read joins the parent organization for its current path.
#include "services/org/src/unit_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/runtime/strings.h"
#include "services/org/src/org_store.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using db::Value;

constexpr std::string_view kSelect =
    "SELECT u.id, u.parent_id, u.display_name, u.credit_code, u.kind, u.leadership_mode, "
    "u.vertical_leading_body, u.version, u.create_time_us, u.update_time_us, o.path "
    "FROM units u JOIN organizations o ON o.id = u.parent_id";

UnitRow FromDb(const db::Row& r) {
  UnitRow u;
  u.id = r.Int(0);
  u.parent_id = r.Int(1);
  u.display_name = r.Text(2);
  u.credit_code = r.Text(3);
  pb::UnitKind kind;
  u.kind = pb::UnitKind_Parse(r.Text(4), &kind) ? kind : pb::UNIT_KIND_UNSPECIFIED;
  pb::LeadershipMode mode;
  u.leadership_mode =
      pb::LeadershipMode_Parse(r.Text(5), &mode) ? mode : pb::LEADERSHIP_MODE_UNSPECIFIED;
  u.vertical_leading_body = r.Text(6);
  u.version = r.Int(7);
  u.create_time_us = r.Int(8);
  u.update_time_us = r.Int(9);
  u.parent_path = r.Text(10);
  return u;
}

absl::StatusOr<std::vector<UnitRow>> Rows(absl::StatusOr<db::Result> result) {
  if (!result.ok()) {
    return result.status();
  }
  std::vector<UnitRow> out;
  out.reserve(result->rows.size());
  for (const db::Row& r : result->rows) {
    out.push_back(FromDb(r));
  }
  return out;
}

absl::StatusOr<std::optional<UnitRow>> One(absl::StatusOr<db::Result> result) {
  auto rows = Rows(std::move(result));
  if (!rows.ok()) {
    return rows.status();
  }
  if (rows->empty()) {
    return std::optional<UnitRow>();
  }
  return std::optional<UnitRow>(std::move(rows->front()));
}

}  // namespace

absl::StatusOr<std::optional<UnitRow>> UnitStore::Find(db::Connection& c, int64_t id,
                                                       bool for_update) {
  return One(c.Exec(absl::StrCat(AV(kSelect), " WHERE u.id = ?",
                                 AV(for_update ? db::ForUpdate(c.dialect()) : "")),
                    {id}));
}

absl::StatusOr<std::optional<UnitRow>> UnitStore::FindByRequestId(db::Connection& c,
                                                                  std::string_view request_id) {
  return One(
      c.Exec(absl::StrCat(AV(kSelect), " WHERE u.request_id = ?"), {std::string(request_id)}));
}

absl::StatusOr<std::optional<int64_t>> UnitStore::CreditCodeHolder(db::Connection& c,
                                                                   std::string_view credit_code,
                                                                   int64_t except_id) {
  auto r = c.Exec("SELECT id FROM units WHERE credit_code = ? AND id <> ?",
                  {std::string(credit_code), except_id});
  if (!r.ok()) {
    return r.status();
  }
  if (r->rows.empty()) {
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(r->rows[0].Int(0));
}

absl::Status UnitStore::Insert(db::Connection& c, const UnitRow& u, std::string_view request_id) {
  return c
      .Exec(
          "INSERT INTO units (id, parent_id, display_name, credit_code, kind, leadership_mode, "
          "vertical_leading_body, version, request_id, create_time_us, update_time_us) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {u.id, u.parent_id, u.display_name, u.credit_code, pb::UnitKind_Name(u.kind),
           pb::LeadershipMode_Name(u.leadership_mode), u.vertical_leading_body, u.version,
           db::TextOrNull(request_id), u.create_time_us, u.update_time_us})
      .status();
}

absl::StatusOr<bool> UnitStore::Update(db::Connection& c, const UnitRow& u,
                                       int64_t expected_version) {
  auto r = c.Exec(
      "UPDATE units SET display_name = ?, credit_code = ?, kind = ?, leadership_mode = ?, "
      "vertical_leading_body = ?, version = ?, update_time_us = ? WHERE id = ? AND version = ?",
      {u.display_name, u.credit_code, pb::UnitKind_Name(u.kind),
       pb::LeadershipMode_Name(u.leadership_mode), u.vertical_leading_body, u.version,
       u.update_time_us, u.id, expected_version});
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows == 1;
}

absl::StatusOr<std::map<int64_t, std::string>> UnitStore::ParentPaths(
    db::Connection& c, const std::vector<int64_t>& ids) {
  std::map<int64_t, std::string> out;
  if (ids.empty()) {
    return out;
  }
  std::vector<Value> args(ids.begin(), ids.end());
  auto r = c.Execute(absl::StrCat("SELECT u.id, o.path FROM units u JOIN organizations o ON "
                                  "o.id = u.parent_id WHERE u.id IN (",
                                  db::Placeholders(ids.size()), ")"),
                     args);
  if (!r.ok()) {
    return r.status();
  }
  for (const db::Row& row : r->rows) {
    out[row.Int(0)] = row.Text(1);
  }
  return out;
}

absl::StatusOr<bool> UnitStore::AnyManagedBy(db::Connection& c, int64_t org_id) {
  auto r = c.Exec("SELECT id FROM units WHERE parent_id = ? LIMIT 1", {org_id});
  if (!r.ok()) {
    return r.status();
  }
  return !r->rows.empty();
}

absl::StatusOr<std::vector<UnitRow>> UnitStore::ListInSubtree(
    db::Connection& c, const std::string& path, const std::vector<int64_t>& also_parents,
    int64_t after_id, int limit) {
  const std::string upper = SubtreeUpperBound(path);
  // The ancestors are ids the service parsed from a path: integers, safe to inline.
  const std::string above =
      also_parents.empty()
          ? std::string()
          : absl::StrCat(" OR u.parent_id IN (", absl::StrJoin(also_parents, ","), ")");
  return Rows(c.Exec(absl::StrCat(AV(kSelect), " WHERE ((o.path >= ? AND o.path < ?)", above,
                                  ") AND u.id > ? ORDER BY u.id LIMIT ?"),
                     {path, upper, after_id, int64_t{limit}}));
}

}  // namespace dj::org
