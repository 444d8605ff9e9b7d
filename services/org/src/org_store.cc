// SQL for organizations. The one dialect difference, row locks, goes through db::ForUpdate.
#include "services/org/src/org_store.h"

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::org {
namespace {

using db::Value;

constexpr std::string_view kColumns =
    "id, parent_id, path, depth, kind, display_name, unit, established_date, status, version, "
    "create_time_us, update_time_us, dissolved_date, dissolution_reason, merged_into";

OrgRow FromDb(const db::Row& r) {
  OrgRow o;
  o.id = r.Int(0);
  if (!r.IsNull(1)) {
    o.parent_id = r.Int(1);
  }
  o.path = r.Text(2);
  o.depth = static_cast<int32_t>(r.Int(3));
  Kind kind;
  o.kind = dangjian::org::v1::OrganizationKind_Parse(r.Text(4), &kind)
               ? kind
               : dangjian::org::v1::ORGANIZATION_KIND_UNSPECIFIED;
  o.display_name = r.Text(5);
  o.unit = r.Text(6);
  o.established_date = r.OptionalDate(7);
  dangjian::org::v1::OrganizationStatus status;
  o.status = dangjian::org::v1::OrganizationStatus_Parse(r.Text(8), &status)
                 ? status
                 : dangjian::org::v1::ORGANIZATION_STATUS_UNSPECIFIED;
  o.version = r.Int(9);
  o.create_time_us = r.Int(10);
  o.update_time_us = r.Int(11);
  o.dissolved_date = r.OptionalDate(12);
  o.dissolution_reason = r.Text(13);
  if (!r.IsNull(14)) {
    o.merged_into = r.Int(14);
  }
  return o;
}

// The joint units of `rows`, in one query for all of them.
absl::Status LoadJointUnits(db::Connection& c, std::vector<OrgRow>& rows) {
  if (rows.empty()) {
    return absl::OkStatus();
  }
  std::map<int64_t, OrgRow*> by_id;
  std::vector<Value> ids;
  ids.reserve(rows.size());
  for (OrgRow& row : rows) {
    by_id[row.id] = &row;
    ids.emplace_back(row.id);
  }
  auto r =
      c.Execute(absl::StrCat("SELECT organization_id, unit_id FROM organization_joint_units WHERE "
                             "organization_id IN (",
                             db::Placeholders(ids.size()), ") ORDER BY organization_id, position"),
                ids);
  if (!r.ok()) {
    return r.status();
  }
  for (const db::Row& j : r->rows) {
    if (auto it = by_id.find(j.Int(0)); it != by_id.end()) {
      it->second->joint_units.push_back(j.Int(1));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<OrgRow>> Rows(db::Connection& c, absl::StatusOr<db::Result> result,
                                         OrgStore::Load load = OrgStore::Load::kFull) {
  if (!result.ok()) {
    return result.status();
  }
  std::vector<OrgRow> out;
  out.reserve(result->rows.size());
  for (const db::Row& r : result->rows) {
    out.push_back(FromDb(r));
  }
  if (load == OrgStore::Load::kFull) {
    RETURN_IF_ERROR(LoadJointUnits(c, out));
  }
  return out;
}

absl::StatusOr<std::optional<OrgRow>> One(db::Connection& c, absl::StatusOr<db::Result> result,
                                          OrgStore::Load load = OrgStore::Load::kFull) {
  auto rows = Rows(c, std::move(result), load);
  if (!rows.ok()) {
    return rows.status();
  }
  if (rows->empty()) {
    return std::optional<OrgRow>();
  }
  return std::optional<OrgRow>(std::move(rows->front()));
}

}  // namespace

absl::StatusOr<std::optional<OrgRow>> OrgStore::Find(db::Connection& c, int64_t id, bool for_update,
                                                     Load load) {
  const std::string sql = absl::StrCat("SELECT ", AV(kColumns), " FROM organizations WHERE id = ?",
                                       AV(for_update ? db::ForUpdate(c.dialect()) : ""));
  return One(c, c.Exec(sql, {id}), load);
}

absl::StatusOr<std::optional<OrgRow>> OrgStore::FindByRequestId(db::Connection& c,
                                                                std::string_view request_id) {
  const std::string sql =
      absl::StrCat("SELECT ", AV(kColumns), " FROM organizations WHERE request_id = ?");
  return One(c, c.Exec(sql, {std::string(request_id)}));
}

absl::Status OrgStore::Insert(db::Connection& c, const OrgRow& o, std::string_view request_id) {
  return c
      .Exec(
          "INSERT INTO organizations (id, parent_id, path, depth, kind, display_name, unit, "
          "established_date, status, version, request_id, create_time_us, update_time_us) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {o.id, o.parent_id.has_value() ? Value(*o.parent_id) : db::Null(), o.path,
           int64_t{o.depth}, std::string(KindName(o.kind)), o.display_name, o.unit,
           db::DateOrNull(o.established_date), dangjian::org::v1::OrganizationStatus_Name(o.status),
           o.version, db::TextOrNull(request_id), o.create_time_us, o.update_time_us})
      .status();
}

absl::StatusOr<bool> OrgStore::Update(db::Connection& c, const OrgRow& o,
                                      int64_t expected_version) {
  auto r = c.Exec(
      "UPDATE organizations SET kind = ?, display_name = ?, unit = ?, established_date = ?, "
      "status = ?, version = ?, update_time_us = ?, dissolved_date = ?, dissolution_reason = ?, "
      "merged_into = ? WHERE id = ? AND version = ?",
      {std::string(KindName(o.kind)), o.display_name, o.unit, db::DateOrNull(o.established_date),
       dangjian::org::v1::OrganizationStatus_Name(o.status), o.version, o.update_time_us,
       db::DateOrNull(o.dissolved_date), o.dissolution_reason,
       o.merged_into.has_value() ? Value(*o.merged_into) : db::Null(), o.id, expected_version});
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows == 1;
}

absl::Status OrgStore::SetJointUnits(db::Connection& c, int64_t id,
                                     const std::vector<int64_t>& unit_ids) {
  if (auto r = c.Exec("DELETE FROM organization_joint_units WHERE organization_id = ?", {id});
      !r.ok()) {
    return r.status();
  }
  for (size_t i = 0; i < unit_ids.size(); ++i) {
    auto r = c.Exec(
        "INSERT INTO organization_joint_units (organization_id, unit_id, position) "
        "VALUES (?, ?, ?)",
        {id, unit_ids[i], static_cast<int64_t>(i)});
    if (!r.ok()) {
      return r.status();
    }
  }
  return absl::OkStatus();
}

absl::Status OrgStore::Delete(db::Connection& c, int64_t id) {
  if (auto r = c.Exec("DELETE FROM organization_joint_units WHERE organization_id = ?", {id});
      !r.ok()) {
    return r.status();
  }
  return c.Exec("DELETE FROM organizations WHERE id = ?", {id}).status();
}

absl::StatusOr<std::vector<Kind>> OrgStore::ChildKinds(db::Connection& c, int64_t id) {
  auto r = c.Exec("SELECT DISTINCT kind FROM organizations WHERE parent_id = ?", {id});
  if (!r.ok()) {
    return r.status();
  }
  std::vector<Kind> out;
  for (const db::Row& row : r->rows) {
    Kind k;
    if (dangjian::org::v1::OrganizationKind_Parse(row.Text(0), &k)) {
      out.push_back(k);
    }
  }
  return out;
}

absl::StatusOr<std::vector<OrgRow>> OrgStore::ActiveChildren(db::Connection& c, int64_t id) {
  return Rows(c, c.Exec(absl::StrCat("SELECT ", AV(kColumns),
                                     " FROM organizations WHERE parent_id = ? AND status = ? "
                                     "ORDER BY id"),
                        {id, std::string("ACTIVE")}));
}

absl::StatusOr<std::vector<int64_t>> OrgStore::MoveSubtree(db::Connection& c, const OrgRow& row,
                                                           const OrgRow& new_parent,
                                                           int64_t update_time_us) {
  const std::string new_path = absl::StrCat(new_parent.path, row.id, "/");
  const int64_t depth_delta = int64_t{new_parent.depth} + 1 - row.depth;
  const std::string upper = SubtreeUpperBound(row.path);
  auto ids = c.Exec("SELECT id FROM organizations WHERE path >= ? AND path < ? ORDER BY id",
                    {row.path, upper});
  if (!ids.ok()) {
    return ids.status();
  }
  auto moved = c.Exec(
      absl::StrCat("UPDATE organizations SET path = ", db::ReplacePrefixSql(c.dialect(), "path"),
                   ", depth = depth + ?, version = version + 1, update_time_us = ? "
                   "WHERE path >= ? AND path < ?"),
      {new_path, static_cast<int64_t>(row.path.size()) + 1, depth_delta, update_time_us, row.path,
       upper});
  if (!moved.ok()) {
    return moved.status();
  }
  auto parent =
      c.Exec("UPDATE organizations SET parent_id = ? WHERE id = ?", {new_parent.id, row.id});
  if (!parent.ok()) {
    return parent.status();
  }
  std::vector<int64_t> out;
  out.reserve(ids->rows.size());
  for (const db::Row& r : ids->rows) {
    out.push_back(r.Int(0));
  }
  return out;
}

absl::StatusOr<bool> OrgStore::SiblingNameTaken(db::Connection& c, std::optional<int64_t> parent,
                                                std::string_view name, int64_t except_id) {
  auto r = parent.has_value()
               ? c.Exec(
                     "SELECT id FROM organizations WHERE parent_id = ? AND display_name = ? "
                     "AND id <> ? LIMIT 1",
                     {*parent, std::string(name), except_id})
               : c.Exec(
                     "SELECT id FROM organizations WHERE parent_id IS NULL AND "
                     "display_name = ? AND id <> ? LIMIT 1",
                     {std::string(name), except_id});
  if (!r.ok()) {
    return r.status();
  }
  return !r->rows.empty();
}

absl::StatusOr<std::vector<OrgRow>> OrgStore::ListChildren(db::Connection& c,
                                                           std::optional<int64_t> parent,
                                                           int64_t after_id, int limit) {
  if (parent.has_value()) {
    return Rows(
        c, c.Exec(absl::StrCat(
                      "SELECT ", AV(kColumns),
                      " FROM organizations WHERE parent_id = ? AND id > ? ORDER BY id LIMIT ?"),
                  {*parent, after_id, int64_t{limit}}));
  }
  return Rows(
      c, c.Exec(absl::StrCat(
                    "SELECT ", AV(kColumns),
                    " FROM organizations WHERE parent_id IS NULL AND id > ? ORDER BY id LIMIT ?"),
                {after_id, int64_t{limit}}));
}

absl::StatusOr<std::vector<OrgRow>> OrgStore::ListDescendants(db::Connection& c,
                                                              const std::string& path,
                                                              const std::string& after_path,
                                                              int limit) {
  const std::string upper = SubtreeUpperBound(path);
  return Rows(
      c,
      c.Exec(absl::StrCat("SELECT ", AV(kColumns),
                          " FROM organizations WHERE path > ? AND path < ? ORDER BY path LIMIT ?"),
             {after_path.empty() ? path : std::max(path, after_path), upper, int64_t{limit}}));
}

}  // namespace dj::org
