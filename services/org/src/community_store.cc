// SQL for communities, pairings and stations. Subtree filters join organizations on a path
// range (the organization's path is never copied here, so moves are followed).
#include "services/org/src/community_store.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "services/org/src/org_store.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using db::Value;

constexpr std::string_view kCommunityColumns =
    "c.id, c.display_name, c.scope_org_id, c.liaison_display_name, c.liaison_title, "
    "c.liaison_member, c.version, c.create_time_us, c.update_time_us";

CommunityRow CommunityFromDb(const db::Row& r) {
  CommunityRow row;
  row.id = r.Int(0);
  row.display_name = r.Text(1);
  row.scope_org_id = r.Int(2);
  row.liaison.set_display_name(r.Text(3));
  row.liaison.set_title(r.Text(4));
  row.liaison.set_member(r.Text(5));
  row.version = r.Int(6);
  row.create_time_us = r.Int(7);
  row.update_time_us = r.Int(8);
  return row;
}

// "?, ?, ?" for n placeholders.
// Fills in the lists of `rows` (organizations, partners, mechanisms, brands) with one query per
// child table for all of them.
absl::Status LoadChildren(db::Connection& c, std::vector<CommunityRow>& rows) {
  if (rows.empty()) {
    return absl::OkStatus();
  }
  std::map<int64_t, CommunityRow*> by_id;
  std::vector<Value> ids;
  for (CommunityRow& row : rows) {
    by_id[row.id] = &row;
    ids.emplace_back(row.id);
  }
  const std::string in =
      absl::StrCat(" WHERE community_id IN (", db::Placeholders(ids.size()), ")");
  auto query = [&](std::string_view select) {
    return c.Execute(absl::StrCat(AV(select), in, " ORDER BY community_id, position"), ids);
  };
  auto orgs = query(
      "SELECT community_id, organization_id, role, position "
      "FROM community_organizations");
  if (!orgs.ok()) {
    return orgs.status();
  }
  for (const db::Row& r : orgs->rows) {
    CommunityRow& row = *by_id[r.Int(0)];
    if (r.Text(2) == "LEAD") {
      row.lead_org_id = r.Int(1);
    } else {
      row.member_org_ids.push_back(r.Int(1));
    }
  }
  auto partners = query("SELECT community_id, display_name, kind, contact FROM community_partners");
  if (!partners.ok()) {
    return partners.status();
  }
  for (const db::Row& r : partners->rows) {
    pb::Partner& p = by_id[r.Int(0)]->partners.emplace_back();
    p.set_display_name(r.Text(1));
    pb::PartnerKind kind;
    p.set_kind(pb::PartnerKind_Parse(r.Text(2), &kind) ? kind : pb::PARTNER_KIND_UNSPECIFIED);
    p.set_contact(r.Text(3));
  }
  auto brands = query("SELECT community_id, display_name, description FROM community_brands");
  if (!brands.ok()) {
    return brands.status();
  }
  for (const db::Row& r : brands->rows) {
    pb::Brand& b = by_id[r.Int(0)]->brands.emplace_back();
    b.set_display_name(r.Text(1));
    b.set_description(r.Text(2));
  }
  auto mechanisms =
      c.Execute(absl::StrCat("SELECT community_id, mechanism FROM community_mechanisms", in), ids);
  if (!mechanisms.ok()) {
    return mechanisms.status();
  }
  for (const db::Row& r : mechanisms->rows) {
    pb::JointMechanism m;
    if (pb::JointMechanism_Parse(r.Text(1), &m)) {
      by_id[r.Int(0)]->mechanisms.push_back(m);
    }
  }
  for (CommunityRow& row : rows) {
    std::sort(row.mechanisms.begin(), row.mechanisms.end());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<CommunityRow>> Communities(db::Connection& c,
                                                      absl::StatusOr<db::Result> result) {
  if (!result.ok()) {
    return result.status();
  }
  std::vector<CommunityRow> rows;
  rows.reserve(result->rows.size());
  for (const db::Row& r : result->rows) {
    rows.push_back(CommunityFromDb(r));
  }
  RETURN_IF_ERROR(LoadChildren(c, rows));
  return rows;
}

absl::StatusOr<std::optional<CommunityRow>> OneCommunity(db::Connection& c,
                                                         absl::StatusOr<db::Result> result) {
  auto rows = Communities(c, std::move(result));
  if (!rows.ok()) {
    return rows.status();
  }
  if (rows->empty()) {
    return std::optional<CommunityRow>();
  }
  return std::optional<CommunityRow>(std::move(rows->front()));
}

// Inserts the lists of `row` (the caller removed any old ones).
absl::Status InsertChildren(db::Connection& c, const CommunityRow& row) {
  auto add_org = [&](int64_t org, std::string_view role, int64_t position) {
    return c
        .Exec(
            "INSERT INTO community_organizations (community_id, organization_id, role, "
            "position) VALUES (?, ?, ?, ?)",
            {row.id, org, std::string(role), position})
        .status();
  };
  RETURN_IF_ERROR(add_org(row.lead_org_id, "LEAD", 0));
  for (size_t i = 0; i < row.member_org_ids.size(); ++i) {
    if (absl::Status s = add_org(row.member_org_ids[i], "MEMBER", static_cast<int64_t>(i) + 1);
        !s.ok()) {
      return s;
    }
  }
  for (size_t i = 0; i < row.partners.size(); ++i) {
    const pb::Partner& p = row.partners[i];
    auto r = c.Exec(
        "INSERT INTO community_partners (community_id, position, display_name, kind, contact) "
        "VALUES (?, ?, ?, ?, ?)",
        {row.id, static_cast<int64_t>(i), p.display_name(), pb::PartnerKind_Name(p.kind()),
         p.contact()});
    if (!r.ok()) {
      return r.status();
    }
  }
  for (pb::JointMechanism m : row.mechanisms) {
    auto r = c.Exec("INSERT INTO community_mechanisms (community_id, mechanism) VALUES (?, ?)",
                    {row.id, pb::JointMechanism_Name(m)});
    if (!r.ok()) {
      return r.status();
    }
  }
  for (size_t i = 0; i < row.brands.size(); ++i) {
    auto r = c.Exec(
        "INSERT INTO community_brands (community_id, position, display_name, description) "
        "VALUES (?, ?, ?, ?)",
        {row.id, static_cast<int64_t>(i), row.brands[i].display_name(),
         row.brands[i].description()});
    if (!r.ok()) {
      return r.status();
    }
  }
  return absl::OkStatus();
}

absl::Status DeleteChildren(db::Connection& c, int64_t id) {
  for (std::string_view table : {"community_organizations", "community_partners",
                                 "community_mechanisms", "community_brands"}) {
    auto r = c.Exec(absl::StrCat("DELETE FROM ", AV(table), " WHERE community_id = ?"), {id});
    if (!r.ok()) {
      return r.status();
    }
  }
  return absl::OkStatus();
}

// The tie columns, qualified with `alias` (for joins): id, organization_id, the details, then
// the period and bookkeeping.
std::string TieColumns(const TieTable& table, std::string_view alias) {
  std::vector<std::string> cols = {"id", "organization_id"};
  for (absl::string_view d : absl::StrSplit(AV(table.detail_columns), ',')) {
    cols.emplace_back(d);
  }
  for (std::string_view col :
       {"start_date", "end_date", "note", "version", "create_time_us", "update_time_us"}) {
    cols.emplace_back(col);
  }
  std::string out;
  for (const std::string& col : cols) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", AV(alias), col);
  }
  return out;
}

size_t DetailCount(const TieTable& table) {
  return static_cast<size_t>(
             std::count(table.detail_columns.begin(), table.detail_columns.end(), ',')) +
         1;
}

absl::StatusOr<std::vector<Tie>> Ties(const TieTable& table, absl::StatusOr<db::Result> result) {
  if (!result.ok()) {
    return result.status();
  }
  const size_t n = DetailCount(table);
  std::vector<Tie> out;
  out.reserve(result->rows.size());
  for (const db::Row& r : result->rows) {
    Tie t;
    t.id = r.Int(0);
    t.organization_id = r.Int(1);
    for (size_t i = 0; i < n; ++i) {
      t.details.push_back(r.Text(2 + i));
    }
    t.start_date = r.OptionalDate(2 + n).value_or(time::CivilDate{});
    t.end_date = r.OptionalDate(3 + n);
    t.note = r.Text(4 + n);
    t.version = r.Int(5 + n);
    t.create_time_us = r.Int(6 + n);
    t.update_time_us = r.Int(7 + n);
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<std::optional<Tie>> OneTie(const TieTable& table,
                                          absl::StatusOr<db::Result> result) {
  auto rows = Ties(table, std::move(result));
  if (!rows.ok()) {
    return rows.status();
  }
  if (rows->empty()) {
    return std::optional<Tie>();
  }
  return std::optional<Tie>(std::move(rows->front()));
}

}  // namespace

absl::StatusOr<std::optional<CommunityRow>> CommunityStore::Find(db::Connection& c, int64_t id,
                                                                 bool for_update) {
  return OneCommunity(
      c, c.Exec(absl::StrCat("SELECT ", AV(kCommunityColumns), " FROM communities c WHERE c.id = ?",
                             AV(for_update ? db::ForUpdate(c.dialect()) : "")),
                {id}));
}

absl::StatusOr<std::optional<CommunityRow>> CommunityStore::FindByRequestId(
    db::Connection& c, std::string_view request_id) {
  return OneCommunity(c, c.Exec(absl::StrCat("SELECT ", AV(kCommunityColumns),
                                             " FROM communities c WHERE c.request_id = ?"),
                                {std::string(request_id)}));
}

absl::StatusOr<std::optional<int64_t>> CommunityStore::NameTakenBy(db::Connection& c,
                                                                   std::string_view display_name,
                                                                   int64_t scope_org_id,
                                                                   int64_t except_id) {
  auto r = c.Exec(
      "SELECT id FROM communities WHERE scope_org_id = ? AND display_name = ? AND id <> ? "
      "LIMIT 1",
      {scope_org_id, std::string(display_name), except_id});
  if (!r.ok()) {
    return r.status();
  }
  if (r->rows.empty()) {
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(r->rows[0].Int(0));
}

absl::StatusOr<std::vector<Membership>> CommunityStore::Memberships(
    db::Connection& c, const std::vector<int64_t>& org_ids, int64_t except_id) {
  std::vector<Membership> out;
  if (org_ids.empty()) {
    return out;
  }
  std::vector<Value> params(org_ids.begin(), org_ids.end());
  params.emplace_back(except_id);
  auto r = c.Execute(
      absl::StrCat("SELECT m.organization_id, m.community_id, c.display_name, s.path "
                   "FROM community_organizations m JOIN communities c ON c.id = m.community_id "
                   "JOIN organizations s ON s.id = c.scope_org_id "
                   "WHERE m.organization_id IN (",
                   db::Placeholders(org_ids.size()), ") AND m.community_id <> ?"),
      params);
  if (!r.ok()) {
    return r.status();
  }
  for (const db::Row& row : r->rows) {
    out.push_back({row.Int(0), row.Int(1), row.Text(2), row.Text(3)});
  }
  return out;
}

absl::Status CommunityStore::Insert(db::Connection& c, const CommunityRow& row,
                                    std::string_view request_id) {
  auto r = c.Exec(
      "INSERT INTO communities (id, display_name, scope_org_id, liaison_display_name, "
      "liaison_title, liaison_member, version, request_id, create_time_us, update_time_us) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {row.id, row.display_name, row.scope_org_id, row.liaison.display_name(), row.liaison.title(),
       row.liaison.member(), row.version, db::TextOrNull(request_id), row.create_time_us,
       row.update_time_us});
  if (!r.ok()) {
    return r.status();
  }
  return InsertChildren(c, row);
}

absl::StatusOr<bool> CommunityStore::Update(db::Connection& c, const CommunityRow& row,
                                            int64_t expected_version) {
  auto r = c.Exec(
      "UPDATE communities SET display_name = ?, scope_org_id = ?, liaison_display_name = ?, "
      "liaison_title = ?, liaison_member = ?, version = ?, update_time_us = ? "
      "WHERE id = ? AND version = ?",
      {row.display_name, row.scope_org_id, row.liaison.display_name(), row.liaison.title(),
       row.liaison.member(), row.version, row.update_time_us, row.id, expected_version});
  if (!r.ok()) {
    return r.status();
  }
  if (r->affected_rows != 1) {
    return false;
  }
  RETURN_IF_ERROR(DeleteChildren(c, row.id));
  RETURN_IF_ERROR(InsertChildren(c, row));
  return true;
}

absl::Status CommunityStore::Delete(db::Connection& c, int64_t id) {
  RETURN_IF_ERROR(DeleteChildren(c, id));
  return c.Exec("DELETE FROM communities WHERE id = ?", {id}).status();
}

absl::StatusOr<std::vector<int64_t>> CommunityStore::CommunitiesUnder(db::Connection& c,
                                                                      const std::string& path) {
  auto r = c.Exec(
      "SELECT DISTINCT m.community_id FROM community_organizations m "
      "JOIN organizations o ON o.id = m.organization_id "
      "WHERE o.path >= ? AND o.path < ? ORDER BY m.community_id",
      {path, SubtreeUpperBound(path)});
  if (!r.ok()) {
    return r.status();
  }
  std::vector<int64_t> out;
  for (const db::Row& row : r->rows) {
    out.push_back(row.Int(0));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> CommunityStore::OrganizationPaths(db::Connection& c,
                                                                           int64_t id) {
  auto r = c.Exec(
      "SELECT o.path FROM community_organizations m "
      "JOIN organizations o ON o.id = m.organization_id WHERE m.community_id = ? "
      "ORDER BY m.position",
      {id});
  if (!r.ok()) {
    return r.status();
  }
  std::vector<std::string> out;
  for (const db::Row& row : r->rows) {
    out.push_back(row.Text(0));
  }
  return out;
}

absl::StatusOr<bool> CommunityStore::SetScope(db::Connection& c, int64_t id, int64_t scope_org_id,
                                              int64_t update_time_us) {
  auto r = c.Exec(
      "UPDATE communities SET scope_org_id = ?, version = version + 1, update_time_us = ? "
      "WHERE id = ? AND scope_org_id <> ?",
      {scope_org_id, update_time_us, id, scope_org_id});
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows == 1;
}

absl::StatusOr<std::vector<CommunityRow>> CommunityStore::List(
    db::Connection& c, const std::string& path,
    const std::optional<std::vector<int64_t>>& members_also, int64_t after_id, int limit) {
  const std::string upper = SubtreeUpperBound(path);
  std::string where = "o.path >= ? AND o.path < ?";
  std::vector<Value> params = {path, upper};
  if (members_also.has_value()) {
    // The ancestors are ids the service parsed from a path: integers, safe to inline.
    absl::StrAppend(&where,
                    " OR c.id IN (SELECT m.community_id FROM community_organizations m "
                    "JOIN organizations mo ON mo.id = m.organization_id "
                    "WHERE (mo.path >= ? AND mo.path < ?)",
                    members_also->empty()
                        ? ""
                        : absl::StrCat(" OR mo.id IN (", absl::StrJoin(*members_also, ","), ")"),
                    ")");
    params.push_back(path);
    params.push_back(upper);
  }
  params.push_back(after_id);
  params.push_back(int64_t{limit});
  return Communities(c, c.Execute(absl::StrCat("SELECT ", AV(kCommunityColumns),
                                               " FROM communities c JOIN organizations o "
                                               "ON o.id = c.scope_org_id WHERE (",
                                               where, ") AND c.id > ? ORDER BY c.id LIMIT ?"),
                                  params));
}

absl::StatusOr<std::optional<Tie>> CommunityStore::FindTie(db::Connection& c, const TieTable& table,
                                                           int64_t id, bool for_update) {
  return OneTie(
      table, c.Exec(absl::StrCat("SELECT ", TieColumns(table, ""), " FROM ", AV(table.name),
                                 " WHERE id = ?", AV(for_update ? db::ForUpdate(c.dialect()) : "")),
                    {id}));
}

absl::StatusOr<std::optional<Tie>> CommunityStore::FindTieByRequestId(db::Connection& c,
                                                                      const TieTable& table,
                                                                      std::string_view request_id) {
  return OneTie(table, c.Exec(absl::StrCat("SELECT ", TieColumns(table, ""), " FROM ",
                                           AV(table.name), " WHERE request_id = ?"),
                              {std::string(request_id)}));
}

absl::Status CommunityStore::InsertTie(db::Connection& c, const TieTable& table, const Tie& tie,
                                       std::string_view request_id) {
  std::vector<Value> params = {tie.id, tie.organization_id};
  params.insert(params.end(), tie.details.begin(), tie.details.end());
  for (Value v : {Value(time::ToIso(tie.start_date)), db::DateOrNull(tie.end_date), Value(tie.note),
                  Value(tie.version), Value(tie.create_time_us), Value(tie.update_time_us),
                  db::TextOrNull(request_id)}) {
    params.push_back(std::move(v));
  }
  return c
      .Execute(absl::StrCat("INSERT INTO ", AV(table.name), " (", TieColumns(table, ""),
                            ", request_id) VALUES (", db::Placeholders(params.size()), ")"),
               params)
      .status();
}

absl::StatusOr<bool> CommunityStore::UpdateTieEnd(db::Connection& c, const TieTable& table,
                                                  const Tie& tie, int64_t expected_version) {
  auto r = c.Exec(
      absl::StrCat("UPDATE ", AV(table.name),
                   " SET end_date = ?, version = ?, update_time_us = ? "
                   "WHERE id = ? AND version = ?"),
      {db::DateOrNull(tie.end_date), tie.version, tie.update_time_us, tie.id, expected_version});
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows == 1;
}

absl::StatusOr<std::vector<Tie>> CommunityStore::ListTies(db::Connection& c, const TieTable& table,
                                                          const std::string& path,
                                                          time::CivilDate today, bool include_ended,
                                                          int64_t after_id, int limit) {
  std::vector<Value> params = {path, SubtreeUpperBound(path), after_id};
  std::string current;
  if (!include_ended) {
    // ISO dates compare as text in SQLite and as DATE in MySQL alike.
    current = " AND (t.end_date IS NULL OR t.end_date >= ?)";
    params.emplace_back(time::ToIso(today));
  }
  params.emplace_back(int64_t{limit});
  return Ties(table,
              c.Execute(absl::StrCat("SELECT ", TieColumns(table, "t."), " FROM ", AV(table.name),
                                     " t JOIN organizations o ON o.id = t.organization_id "
                                     "WHERE o.path >= ? AND o.path < ? AND t.id > ?",
                                     current, " ORDER BY t.id LIMIT ?"),
                        params));
}

absl::StatusOr<std::optional<Membership>> CommunityStore::LedBy(db::Connection& c,
                                                                int64_t organization_id) {
  auto r = c.Exec(absl::StrCat("SELECT m.organization_id, m.community_id, c.display_name "
                               "FROM community_organizations m "
                               "JOIN communities c ON c.id = m.community_id "
                               "WHERE m.organization_id = ? AND m.role = ?",
                               AV(db::ForUpdate(c.dialect()))),
                  {organization_id, std::string("LEAD")});
  if (!r.ok()) {
    return r.status();
  }
  if (r->rows.empty()) {
    return std::optional<Membership>();
  }
  const db::Row& row = r->rows[0];
  return std::optional<Membership>(Membership{row.Int(0), row.Int(1), row.Text(2)});
}

absl::StatusOr<std::optional<int64_t>> CommunityStore::LeaveAsMember(db::Connection& c,
                                                                     int64_t organization_id,
                                                                     int64_t update_time_us) {
  // A locking read: a concurrent rewrite of the community's lists waits for this transaction
  // (or deadlocks and is retried), so the positions renumbered below are the ones read here.
  auto r = c.Exec(absl::StrCat("SELECT community_id, position FROM community_organizations "
                               "WHERE organization_id = ? AND role = ?",
                               AV(db::ForUpdate(c.dialect()))),
                  {organization_id, std::string("MEMBER")});
  if (!r.ok()) {
    return r.status();
  }
  if (r->rows.empty()) {
    return std::optional<int64_t>();
  }
  const int64_t community = r->rows[0].Int(0);
  const int64_t position = r->rows[0].Int(1);
  // Members after it move up one. (community_id, position) is the primary key and both
  // dialects check it row by row, so they pass through negative positions instead of
  // shifting in place.
  const std::vector<std::pair<std::string_view, std::vector<Value>>> statements = {
      {"UPDATE communities SET version = version + 1, update_time_us = ? WHERE id = ?",
       {update_time_us, community}},
      {"DELETE FROM community_organizations WHERE community_id = ? AND organization_id = ?",
       {community, organization_id}},
      {"UPDATE community_organizations SET position = -position "
       "WHERE community_id = ? AND position > ?",
       {community, position}},
      {"UPDATE community_organizations SET position = -position - 1 "
       "WHERE community_id = ? AND position < 0",
       {community}},
  };
  for (const auto& [sql, params] : statements) {
    if (auto done = c.Execute(sql, params); !done.ok()) {
      return done.status();
    }
  }
  return std::optional<int64_t>(community);
}

absl::StatusOr<int64_t> CommunityStore::EndTiesOf(db::Connection& c, const TieTable& table,
                                                  int64_t organization_id,
                                                  const time::CivilDate& date,
                                                  int64_t update_time_us) {
  // ISO dates compare as text in SQLite and as DATE in MySQL alike.
  const std::string day = time::ToIso(date);
  auto r = c.Exec(absl::StrCat("UPDATE ", AV(table.name),
                               " SET end_date = CASE WHEN start_date > ? THEN start_date ELSE ? "
                               "END, version = version + 1, update_time_us = ? "
                               "WHERE organization_id = ? AND (end_date IS NULL OR end_date > ?)"),
                  {day, day, update_time_us, organization_id, day});
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows;
}

absl::StatusOr<int64_t> CommunityStore::CountTiesOf(db::Connection& c, const TieTable& table,
                                                    int64_t organization_id) {
  auto r =
      c.Exec(absl::StrCat("SELECT COUNT(*) FROM ", AV(table.name), " WHERE organization_id = ?"),
             {organization_id});
  if (!r.ok()) {
    return r.status();
  }
  return r->rows.empty() ? 0 : r->rows[0].Int(0);
}

}  // namespace dj::org
