// SQL for members, stages and status changes; the dialect differences (row locks, prefix
// rewrites) go through common/db.
#include "services/member/src/member_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::member {
namespace {

constexpr std::string_view kColumns =
    "id, organization_id, org_path, display_name, gender, ethnicity, birth_date, "
    "id_number_sealed, id_number_index, id_number_masked, phone_sealed, phone_index, "
    "phone_masked, pii_key_id, education, work_unit, job_title, category, stage, status, "
    "status_date, application_date, activist_date, candidate_date, join_date, full_member_date, "
    "probation_end_date, extensions, extension_months, party_affairs_cadre, residence_community, "
    "community_report_date, version, create_time_us, update_time_us";

// The columns an update writes, in the order Values gives them (after the first three).
constexpr std::string_view kUpdated =
    "display_name = ?, gender = ?, ethnicity = ?, birth_date = ?, id_number_sealed = ?, "
    "id_number_index = ?, id_number_masked = ?, phone_sealed = ?, phone_index = ?, "
    "phone_masked = ?, pii_key_id = ?, education = ?, work_unit = ?, job_title = ?, "
    "category = ?, stage = ?, status = ?, status_date = ?, application_date = ?, "
    "activist_date = ?, candidate_date = ?, join_date = ?, full_member_date = ?, "
    "probation_end_date = ?, extensions = ?, extension_months = ?, party_affairs_cadre = ?, "
    "residence_community = ?, community_report_date = ?, version = ?, create_time_us = ?, "
    "update_time_us = ?";

MemberRow FromDb(const db::Row& r) {
  MemberRow m;
  m.id = r.Int(0);
  m.organization_id = r.Int(1);
  m.org_path = r.Text(2);
  m.display_name = r.Text(3);
  m.gender = static_cast<int32_t>(r.Int(4));
  m.ethnicity = r.Text(5);
  m.birth_date = r.OptionalDate(6);
  m.id_number = {r.Text(7), r.Text(8), r.Text(9)};
  m.phone = {r.Text(10), r.Text(11), r.Text(12)};
  m.pii_key_id = r.Text(13);
  m.education = static_cast<int32_t>(r.Int(14));
  m.work_unit = r.Text(15);
  m.job_title = r.Text(16);
  m.category = static_cast<int32_t>(r.Int(17));
  m.stage = static_cast<int32_t>(r.Int(18));
  m.status = static_cast<int32_t>(r.Int(19));
  m.status_date = r.OptionalDate(20);
  m.application_date = r.OptionalDate(21);
  m.activist_date = r.OptionalDate(22);
  m.candidate_date = r.OptionalDate(23);
  m.join_date = r.OptionalDate(24);
  m.full_member_date = r.OptionalDate(25);
  m.probation_end_date = r.OptionalDate(26);
  m.extensions = static_cast<int32_t>(r.Int(27));
  m.extension_months = static_cast<int32_t>(r.Int(28));
  m.party_affairs_cadre = r.Int(29) != 0;
  m.residence_community = r.Text(30);
  m.community_report_date = r.OptionalDate(31);
  m.version = r.Int(32);
  m.create_time_us = r.Int(33);
  m.update_time_us = r.Int(34);
  return m;
}

// Every column after id, organization_id and org_path, in kColumns' order.
std::vector<db::Value> Values(const MemberRow& m) {
  return {m.display_name,
          int64_t{m.gender},
          m.ethnicity,
          db::DateOrNull(m.birth_date),
          db::TextOrNull(m.id_number.sealed),
          db::TextOrNull(m.id_number.index),
          db::TextOrNull(m.id_number.masked),
          db::TextOrNull(m.phone.sealed),
          db::TextOrNull(m.phone.index),
          db::TextOrNull(m.phone.masked),
          m.pii_key_id,
          int64_t{m.education},
          m.work_unit,
          m.job_title,
          int64_t{m.category},
          int64_t{m.stage},
          int64_t{m.status},
          db::DateOrNull(m.status_date),
          db::DateOrNull(m.application_date),
          db::DateOrNull(m.activist_date),
          db::DateOrNull(m.candidate_date),
          db::DateOrNull(m.join_date),
          db::DateOrNull(m.full_member_date),
          db::DateOrNull(m.probation_end_date),
          int64_t{m.extensions},
          int64_t{m.extension_months},
          int64_t{m.party_affairs_cadre ? 1 : 0},
          m.residence_community,
          db::DateOrNull(m.community_report_date),
          m.version,
          m.create_time_us,
          m.update_time_us};
}

absl::StatusOr<std::vector<MemberRow>> Rows(absl::StatusOr<db::Result> result) {
  return db::MapRows<MemberRow>(std::move(result), FromDb);
}

std::string Select(std::string_view where_and_order) {
  return absl::StrCat("SELECT ", AV(kColumns), " FROM members ", AV(where_and_order));
}

// `column` in the subtree of `path` (nothing added for the whole tree).
void AddSubtree(std::string& where, std::vector<db::Value>& params, std::string_view column,
                std::string_view path) {
  if (path.empty() || path == "/") {
    return;
  }
  absl::StrAppend(&where, " AND ", AV(column), " >= ? AND ", AV(column), " < ?");
  params.emplace_back(std::string(path));
  params.emplace_back(db::SubtreeUpperBound(path));
}

// LIKE's wildcards in `prefix` taken literally (escape character '!').
std::string LikePrefix(std::string_view prefix) {
  std::string out;
  for (char ch : prefix) {
    if (ch == '%' || ch == '_' || ch == '!') {
      out.push_back('!');
    }
    out.push_back(ch);
  }
  out.push_back('%');
  return out;
}

// The keyset condition "after (date, id)" on `column`, appended to `where`.
void AfterDate(std::string& where, std::vector<db::Value>& params, std::string_view column,
               const std::optional<std::pair<time::CivilDate, int64_t>>& after) {
  if (!after.has_value()) {
    return;
  }
  absl::StrAppend(&where, " AND (", AV(column), " > ? OR (", AV(column), " = ? AND id > ?))");
  params.emplace_back(time::ToIso(after->first));
  params.emplace_back(time::ToIso(after->first));
  params.emplace_back(after->second);
}

std::vector<std::string> SplitNames(const std::string& joined) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(joined, ',', absl::SkipEmpty())) {
    out.emplace_back(part);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::optional<MemberRow>> MemberStore::Find(db::Connection& c, int64_t id,
                                                           bool for_update) {
  return db::MapOne<MemberRow>(
      c.Exec(Select(absl::StrCat("WHERE id = ?", AV(for_update ? db::ForUpdate(c.dialect()) : ""))),
             {id}),
      FromDb);
}

absl::StatusOr<std::optional<MemberRow>> MemberStore::FindByRequestId(db::Connection& c,
                                                                      std::string_view request_id) {
  return db::MapOne<MemberRow>(c.Exec(Select("WHERE request_id = ?"), {std::string(request_id)}),
                               FromDb);
}

absl::Status MemberStore::Insert(db::Connection& c, const MemberRow& row,
                                 std::string_view request_id) {
  std::vector<db::Value> params = {row.id, row.organization_id, row.org_path};
  for (db::Value& v : Values(row)) {
    params.push_back(std::move(v));
  }
  params.push_back(db::TextOrNull(request_id));
  const std::string sql =
      absl::StrCat("INSERT INTO members (", AV(kColumns), ", request_id) VALUES (",
                   db::Placeholders(params.size()), ")");
  return c.Execute(sql, params).status();
}

namespace {
constexpr size_t kRowsPerStatement = 200;
}  // namespace

absl::Status MemberStore::InsertMany(db::Connection& c, const std::vector<MemberRow>& rows) {
  for (size_t begin = 0; begin < rows.size(); begin += kRowsPerStatement) {
    const size_t end = std::min(rows.size(), begin + kRowsPerStatement);
    std::vector<db::Value> params;
    std::string sql = absl::StrCat("INSERT INTO members (", AV(kColumns), ", request_id) VALUES ");
    for (size_t i = begin; i < end; ++i) {
      params.emplace_back(rows[i].id);
      params.emplace_back(rows[i].organization_id);
      params.emplace_back(rows[i].org_path);
      const size_t first = params.size();
      for (db::Value& v : Values(rows[i])) {
        params.push_back(std::move(v));
      }
      params.push_back(db::Null());
      absl::StrAppend(&sql, i == begin ? "(" : ", (", db::Placeholders(params.size() - first + 3),
                      ")");
    }
    RETURN_IF_ERROR(c.Execute(sql, params).status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::set<std::string>> MemberStore::RegisteredIdNumbers(
    db::Connection& c, const std::vector<std::string>& indexes) {
  std::set<std::string> out;
  for (size_t begin = 0; begin < indexes.size(); begin += kRowsPerStatement) {
    const size_t end = std::min(indexes.size(), begin + kRowsPerStatement);
    std::vector<db::Value> params(indexes.begin() + static_cast<ptrdiff_t>(begin),
                                  indexes.begin() + static_cast<ptrdiff_t>(end));
    ASSIGN_OR_RETURN(const db::Result found,
                     c.Execute(absl::StrCat("SELECT id_number_index FROM members WHERE "
                                            "id_number_index IN (",
                                            db::Placeholders(params.size()), ")"),
                               params));
    for (const db::Row& r : found.rows) {
      out.insert(r.Text(0));
    }
  }
  return out;
}

absl::StatusOr<bool> MemberStore::Update(db::Connection& c, const MemberRow& row,
                                         int64_t expected_version) {
  std::vector<db::Value> params = Values(row);
  params.emplace_back(row.id);
  params.emplace_back(expected_version);
  auto r = c.Execute(
      absl::StrCat("UPDATE members SET ", AV(kUpdated), " WHERE id = ? AND version = ?"), params);
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows > 0;
}

absl::StatusOr<bool> MemberStore::Reassign(db::Connection& c, int64_t id, int64_t organization_id,
                                           std::string_view org_path, int64_t expected_version,
                                           int64_t update_time_us) {
  auto r = c.Exec(
      "UPDATE members SET organization_id = ?, org_path = ?, version = ?, update_time_us = ? "
      "WHERE id = ? AND version = ?",
      {organization_id, std::string(org_path), expected_version + 1, update_time_us, id,
       expected_version});
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows > 0;
}

absl::StatusOr<std::vector<MemberRow>> MemberStore::List(db::Connection& c,
                                                         const MemberFilter& filter,
                                                         const std::optional<NameCursor>& after,
                                                         int limit) {
  std::string where = "WHERE 1 = 1";
  std::vector<db::Value> params;
  if (filter.direct_only) {
    where += " AND organization_id = ?";
    params.emplace_back(filter.organization_id);
  } else {
    AddSubtree(where, params, "org_path", filter.org_path);
  }
  if (!filter.name_prefix.empty()) {
    where += " AND display_name LIKE ? ESCAPE '!'";
    params.emplace_back(LikePrefix(filter.name_prefix));
  }
  for (const auto& [column, value] : {std::pair<std::string_view, int32_t>{"stage", filter.stage},
                                      {"status", filter.status},
                                      {"category", filter.category}}) {
    if (value != 0) {
      absl::StrAppend(&where, " AND ", AV(column), " = ?");
      params.emplace_back(int64_t{value});
    }
  }
  if (after.has_value()) {
    where += " AND (display_name > ? OR (display_name = ? AND id > ?))";
    params.emplace_back(after->display_name);
    params.emplace_back(after->display_name);
    params.emplace_back(after->id);
  }
  params.emplace_back(int64_t{limit});
  return Rows(c.Execute(Select(absl::StrCat(where, " ORDER BY display_name, id LIMIT ?")), params));
}

absl::StatusOr<std::vector<MemberRow>> MemberStore::FindByIdNumberIndex(db::Connection& c,
                                                                        std::string_view index,
                                                                        std::string_view path) {
  std::string where = "WHERE id_number_index = ?";
  std::vector<db::Value> params = {std::string(index)};
  AddSubtree(where, params, "org_path", path);
  return Rows(c.Execute(Select(where), params));
}

absl::StatusOr<std::vector<MemberRow>> MemberStore::FindByPhoneIndex(db::Connection& c,
                                                                     std::string_view index,
                                                                     std::string_view path,
                                                                     int limit) {
  std::string where = "WHERE phone_index = ?";
  std::vector<db::Value> params = {std::string(index)};
  AddSubtree(where, params, "org_path", path);
  params.emplace_back(int64_t{limit});
  return Rows(c.Execute(Select(absl::StrCat(where, " ORDER BY id LIMIT ?")), params));
}

absl::StatusOr<std::vector<MemberRow>> MemberStore::DueConversions(
    db::Connection& c, std::string_view path, const time::CivilDate& until,
    const std::optional<std::pair<time::CivilDate, int64_t>>& after, int limit) {
  // Stage 4 PROBATIONARY; status 1 NORMAL, 4 MOBILE (dangjian.member.v1 enums).
  std::string where =
      "WHERE stage = 4 AND status IN (1, 4) AND probation_end_date IS NOT NULL AND "
      "probation_end_date <= ?";
  std::vector<db::Value> params = {time::ToIso(until)};
  AddSubtree(where, params, "org_path", path);
  AfterDate(where, params, "probation_end_date", after);
  params.emplace_back(int64_t{limit});
  return Rows(
      c.Execute(Select(absl::StrCat(where, " ORDER BY probation_end_date, id LIMIT ?")), params));
}

absl::StatusOr<std::vector<MemberRow>> MemberStore::FullMembersBetween(
    db::Connection& c, std::string_view path, const time::CivilDate& from,
    const time::CivilDate& to, const std::optional<std::pair<time::CivilDate, int64_t>>& after,
    int limit) {
  // Stage 5 FULL; status 1 NORMAL, 4 MOBILE (dangjian.member.v1 enums).
  std::string where =
      "WHERE stage = 5 AND status IN (1, 4) AND full_member_date >= ? AND full_member_date <= ?";
  std::vector<db::Value> params = {time::ToIso(from), time::ToIso(to)};
  AddSubtree(where, params, "org_path", path);
  AfterDate(where, params, "full_member_date", after);
  params.emplace_back(int64_t{limit});
  return Rows(
      c.Execute(Select(absl::StrCat(where, " ORDER BY full_member_date, id LIMIT ?")), params));
}

absl::StatusOr<std::vector<MemberRow>> MemberStore::WithStatus(
    db::Connection& c, std::string_view path, int32_t status,
    const std::optional<std::pair<time::CivilDate, int64_t>>& after, int limit) {
  std::string where = "WHERE status = ? AND status_date IS NOT NULL";
  std::vector<db::Value> params = {int64_t{status}};
  AddSubtree(where, params, "org_path", path);
  AfterDate(where, params, "status_date", after);
  params.emplace_back(int64_t{limit});
  return Rows(c.Execute(Select(absl::StrCat(where, " ORDER BY status_date, id LIMIT ?")), params));
}

absl::StatusOr<std::optional<int64_t>> MemberStore::FindImport(db::Connection& c,
                                                               std::string_view request_key) {
  return db::MapOne<int64_t>(c.Exec("SELECT imported FROM member_imports WHERE request_key = ?",
                                    {std::string(request_key)}),
                             [](const db::Row& r) { return r.Int(0); });
}

absl::Status MemberStore::InsertImport(db::Connection& c, std::string_view request_key,
                                       int64_t organization_id, int64_t imported, int64_t now_us) {
  return c
      .Exec(
          "INSERT INTO member_imports (request_key, organization_id, imported, create_time_us) "
          "VALUES (?, ?, ?, ?)",
          {std::string(request_key), organization_id, imported, now_us})
      .status();
}

absl::Status MemberStore::AppendStage(db::Connection& c, StageRow row) {
  auto count = c.Exec("SELECT COUNT(*) FROM member_stages WHERE member_id = ?", {row.member_id});
  if (!count.ok()) {
    return count.status();
  }
  row.seq = static_cast<int32_t>(count->rows.empty() ? 0 : count->rows[0].Int(0)) + 1;
  return c
      .Exec(
          "INSERT INTO member_stages (member_id, seq, stage, stage_date, approving_org_id, "
          "sponsors, contacts, extension_months, reason, recorded_by, record_time_us) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {row.member_id, int64_t{row.seq}, int64_t{row.stage}, time::ToIso(row.date),
           row.approving_org_id, absl::StrJoin(row.sponsors, ","), absl::StrJoin(row.contacts, ","),
           int64_t{row.extension_months}, row.reason, row.recorded_by, row.record_time_us})
      .status();
}

absl::Status MemberStore::InsertStages(db::Connection& c, const std::vector<StageRow>& rows) {
  for (size_t begin = 0; begin < rows.size(); begin += kRowsPerStatement) {
    const size_t end = std::min(rows.size(), begin + kRowsPerStatement);
    std::vector<db::Value> params;
    std::string sql =
        "INSERT INTO member_stages (member_id, seq, stage, stage_date, approving_org_id, "
        "sponsors, contacts, extension_months, reason, recorded_by, record_time_us) VALUES ";
    for (size_t i = begin; i < end; ++i) {
      const StageRow& row = rows[i];
      absl::StrAppend(&sql, i == begin ? "" : ", ", "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      for (db::Value v :
           {db::Value(row.member_id), db::Value(int64_t{row.seq}), db::Value(int64_t{row.stage}),
            db::Value(time::ToIso(row.date)), db::Value(row.approving_org_id),
            db::Value(absl::StrJoin(row.sponsors, ",")),
            db::Value(absl::StrJoin(row.contacts, ",")), db::Value(int64_t{row.extension_months}),
            db::Value(row.reason), db::Value(row.recorded_by), db::Value(row.record_time_us)}) {
        params.push_back(std::move(v));
      }
    }
    RETURN_IF_ERROR(c.Execute(sql, params).status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StageRow>> MemberStore::Stages(db::Connection& c, int64_t member_id) {
  return db::MapRows<StageRow>(
      c.Exec("SELECT member_id, seq, stage, stage_date, approving_org_id, sponsors, contacts, "
             "extension_months, reason, recorded_by, record_time_us FROM member_stages "
             "WHERE member_id = ? ORDER BY seq",
             {member_id}),
      [](const db::Row& r) {
        return StageRow{.member_id = r.Int(0),
                        .seq = static_cast<int32_t>(r.Int(1)),
                        .stage = static_cast<int32_t>(r.Int(2)),
                        .date = r.OptionalDate(3).value_or(time::CivilDate{}),
                        .approving_org_id = r.Int(4),
                        .sponsors = SplitNames(r.Text(5)),
                        .contacts = SplitNames(r.Text(6)),
                        .extension_months = static_cast<int32_t>(r.Int(7)),
                        .reason = r.Text(8),
                        .recorded_by = r.Text(9),
                        .record_time_us = r.Int(10)};
      });
}

absl::Status MemberStore::AppendStatusChange(db::Connection& c, const StatusChangeRow& row) {
  auto count =
      c.Exec("SELECT COUNT(*) FROM member_status_changes WHERE member_id = ?", {row.member_id});
  if (!count.ok()) {
    return count.status();
  }
  const int64_t seq = (count->rows.empty() ? 0 : count->rows[0].Int(0)) + 1;
  return c
      .Exec(
          "INSERT INTO member_status_changes (member_id, seq, from_status, to_status, "
          "change_date, reason, recorded_by, record_time_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          {row.member_id, seq, int64_t{row.from_status}, int64_t{row.to_status},
           time::ToIso(row.date), row.reason, row.recorded_by, row.record_time_us})
      .status();
}

absl::StatusOr<int64_t> MemberStore::RewritePaths(db::Connection& c, std::string_view old_prefix,
                                                  std::string_view new_prefix) {
  auto r = c.Exec(
      absl::StrCat("UPDATE members SET org_path = ", db::ReplacePrefixSql(c.dialect(), "org_path"),
                   " WHERE org_path >= ? AND org_path < ?"),
      {std::string(new_prefix), static_cast<int64_t>(old_prefix.size()) + 1,
       std::string(old_prefix), db::SubtreeUpperBound(old_prefix)});
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows;
}

absl::StatusOr<std::vector<MemberRow>> MemberStore::SealedUnderOtherKeys(
    db::Connection& c, std::string_view current_key_id, int64_t after_id, int limit) {
  return Rows(c.Exec(Select("WHERE pii_key_id <> ? AND id > ? ORDER BY id LIMIT ?"),
                     {std::string(current_key_id), after_id, int64_t{limit}}));
}

absl::Status MemberStore::UpdateSealed(db::Connection& c, const MemberRow& row) {
  return c
      .Exec(
          "UPDATE members SET id_number_sealed = ?, phone_sealed = ?, pii_key_id = ? WHERE id = ?",
          {db::TextOrNull(row.id_number.sealed), db::TextOrNull(row.phone.sealed), row.pii_key_id,
           row.id})
      .status();
}

}  // namespace dj::member
