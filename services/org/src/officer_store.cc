// SQL for officers and terms. Dates are DATE (MySQL) or ISO text (SQLite); both compare as
// dates with ISO text parameters. Row locks go through db::ForUpdate.
#include "services/org/src/officer_store.h"

#include "absl/strings/str_cat.h"
#include "common/runtime/strings.h"
#include "services/org/src/org_store.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using db::Value;

constexpr std::string_view kOfficerColumns =
    "id, organization_id, member, member_display_name, role, start_date, end_date, note, "
    "version, create_time_us, update_time_us";
// Qualified, so the expiring-terms join can use them as they are.
constexpr std::string_view kTermColumns =
    "t.id, t.organization_id, t.start_date, t.term_years, t.planned_end_date, t.end_date, "
    "t.shift_days, t.approval, t.note, t.rule_set_version, t.create_time_us";

// Sort before and after every stored date (the first page's cursors).
constexpr time::CivilDate kFirstDay{1, 1, 1};
constexpr time::CivilDate kLastDay{9999, 12, 31};

Value DateValue(const time::CivilDate& d) { return time::ToIso(d); }
Value DateValue(const std::optional<time::CivilDate>& d) { return db::DateOrNull(d); }

OfficerRow OfficerFromDb(const db::Row& r) {
  OfficerRow o;
  o.id = r.Int(0);
  o.organization_id = r.Int(1);
  o.member = r.Text(2);
  o.member_display_name = r.Text(3);
  const int64_t role = r.Int(4);
  o.role = pb::OfficerRole_IsValid(static_cast<int>(role)) ? static_cast<pb::OfficerRole>(role)
                                                           : pb::OFFICER_ROLE_UNSPECIFIED;
  o.start_date = r.OptionalDate(5).value_or(time::CivilDate{});
  o.end_date = r.OptionalDate(6);
  o.note = r.Text(7);
  o.version = r.Int(8);
  o.create_time_us = r.Int(9);
  o.update_time_us = r.Int(10);
  return o;
}

TermRow TermFromDb(const db::Row& r) {
  TermRow t;
  t.id = r.Int(0);
  t.organization_id = r.Int(1);
  t.start_date = r.OptionalDate(2).value_or(time::CivilDate{});
  t.term_years = static_cast<int32_t>(r.Int(3));
  t.planned_end_date = r.OptionalDate(4).value_or(time::CivilDate{});
  t.end_date = r.OptionalDate(5);
  t.shift_days = static_cast<int32_t>(r.Int(6));
  t.approval = r.Text(7);
  t.note = r.Text(8);
  t.rule_set_version = static_cast<int32_t>(r.Int(9));
  t.create_time_us = r.Int(10);
  return t;
}

template <typename RowT>
absl::StatusOr<std::vector<RowT>> Rows(absl::StatusOr<db::Result> result,
                                       RowT (*from_db)(const db::Row&)) {
  if (!result.ok()) {
    return result.status();
  }
  std::vector<RowT> out;
  out.reserve(result->rows.size());
  for (const db::Row& r : result->rows) {
    out.push_back(from_db(r));
  }
  return out;
}

template <typename RowT>
absl::StatusOr<std::optional<RowT>> One(absl::StatusOr<db::Result> result,
                                        RowT (*from_db)(const db::Row&)) {
  auto rows = Rows(std::move(result), from_db);
  if (!rows.ok()) {
    return rows.status();
  }
  if (rows->empty()) {
    return std::optional<RowT>();
  }
  return std::optional<RowT>(std::move(rows->front()));
}

std::string OfficerSelect(std::string_view where) {
  return absl::StrCat("SELECT ", AV(kOfficerColumns), " FROM officers WHERE ", AV(where));
}

std::string TermSelect(std::string_view where) {
  return absl::StrCat("SELECT ", AV(kTermColumns), " FROM terms t WHERE ", AV(where));
}

}  // namespace

absl::StatusOr<std::optional<OfficerRow>> OfficerStore::FindOfficer(db::Connection& c,
                                                                    int64_t organization_id,
                                                                    int64_t id, bool for_update) {
  return One(c.Exec(absl::StrCat(OfficerSelect("id = ? AND organization_id = ?"),
                                 AV(for_update ? db::ForUpdate(c.dialect()) : "")),
                    {id, organization_id}),
             &OfficerFromDb);
}

absl::StatusOr<std::optional<OfficerRow>> OfficerStore::FindOfficerByRequestId(
    db::Connection& c, std::string_view request_id) {
  return One(c.Exec(OfficerSelect("request_id = ?"), {std::string(request_id)}), &OfficerFromDb);
}

absl::Status OfficerStore::InsertOfficer(db::Connection& c, const OfficerRow& o,
                                         std::string_view request_id) {
  return c
      .Exec(
          "INSERT INTO officers (id, organization_id, member, member_display_name, role, "
          "start_date, end_date, note, version, request_id, create_time_us, update_time_us) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {o.id, o.organization_id, o.member, o.member_display_name, int64_t{o.role},
           DateValue(o.start_date), DateValue(o.end_date), o.note, o.version,
           db::TextOrNull(request_id), o.create_time_us, o.update_time_us})
      .status();
}

absl::StatusOr<bool> OfficerStore::UpdateOfficer(db::Connection& c, const OfficerRow& o,
                                                 int64_t expected_version) {
  auto r = c.Exec(
      "UPDATE officers SET end_date = ?, version = ?, update_time_us = ? "
      "WHERE id = ? AND version = ?",
      {DateValue(o.end_date), o.version, o.update_time_us, o.id, expected_version});
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows == 1;
}

absl::StatusOr<std::vector<OfficerRow>> OfficerStore::Overlapping(
    db::Connection& c, int64_t organization_id, pb::OfficerRole role, const time::CivilDate& from,
    const std::optional<time::CivilDate>& to) {
  // Two closed periods share a day when each starts no later than the other ends.
  const std::string where =
      absl::StrCat("organization_id = ? AND role = ? AND (end_date IS NULL OR end_date >= ?)",
                   to.has_value() ? " AND start_date <= ?" : "", " ORDER BY start_date, id");
  if (to.has_value()) {
    return Rows(c.Exec(OfficerSelect(where),
                       {organization_id, int64_t{role}, DateValue(from), DateValue(*to)}),
                &OfficerFromDb);
  }
  return Rows(c.Exec(OfficerSelect(where), {organization_id, int64_t{role}, DateValue(from)}),
              &OfficerFromDb);
}

absl::StatusOr<std::optional<TermRow>> OfficerStore::CurrentTerm(db::Connection& c,
                                                                 int64_t organization_id) {
  return One(c.Exec(TermSelect("t.organization_id = ? AND t.end_date IS NULL "
                               "ORDER BY t.start_date DESC, t.id DESC LIMIT 1"),
                    {organization_id}),
             &TermFromDb);
}

absl::StatusOr<std::optional<TermRow>> OfficerStore::FindTermByRequestId(
    db::Connection& c, std::string_view request_id) {
  return One(c.Exec(TermSelect("t.request_id = ?"), {std::string(request_id)}), &TermFromDb);
}

absl::Status OfficerStore::InsertTerm(db::Connection& c, const TermRow& t,
                                      std::string_view request_id) {
  return c
      .Exec(
          "INSERT INTO terms (id, organization_id, start_date, term_years, planned_end_date, "
          "end_date, shift_days, approval, note, rule_set_version, request_id, create_time_us) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {t.id, t.organization_id, DateValue(t.start_date), int64_t{t.term_years},
           DateValue(t.planned_end_date), DateValue(t.end_date), int64_t{t.shift_days}, t.approval,
           t.note, int64_t{t.rule_set_version}, db::TextOrNull(request_id), t.create_time_us})
      .status();
}

absl::Status OfficerStore::CloseTerm(db::Connection& c, int64_t id, const time::CivilDate& end_date,
                                     int32_t shift_days) {
  return c
      .Exec("UPDATE terms SET end_date = ?, shift_days = ? WHERE id = ? AND end_date IS NULL",
            {DateValue(end_date), int64_t{shift_days}, id})
      .status();
}

absl::StatusOr<std::vector<OfficerRow>> OfficerStore::ListOfficers(
    db::Connection& c, int64_t organization_id, bool include_ended, const time::CivilDate& today,
    const std::optional<OfficerCursor>& after, int limit) {
  // One statement for every page: the first page's cursor sorts before every row (roles start
  // at 1), and "all, ended too" is an end-date floor no date is below.
  const OfficerCursor from = after.value_or(OfficerCursor{0, kFirstDay, 0});
  return Rows(c.Exec(OfficerSelect("organization_id = ? AND (end_date IS NULL OR "
                                   "end_date >= ?) AND (role > ? OR (role = ? AND "
                                   "(start_date > ? OR (start_date = ? AND id > ?)))) "
                                   "ORDER BY role, start_date, id LIMIT ?"),
                     {organization_id, DateValue(include_ended ? kFirstDay : today),
                      int64_t{from.role}, int64_t{from.role}, DateValue(from.start_date),
                      DateValue(from.start_date), from.id, int64_t{limit}}),
              &OfficerFromDb);
}

absl::StatusOr<std::vector<TermRow>> OfficerStore::ListTerms(db::Connection& c,
                                                             int64_t organization_id,
                                                             const std::optional<DateCursor>& after,
                                                             int limit) {
  // Newest first; the first page starts after the calendar's last day.
  const DateCursor from = after.value_or(DateCursor{kLastDay, INT64_MAX});
  return Rows(c.Exec(TermSelect("t.organization_id = ? AND (t.start_date < ? OR "
                                "(t.start_date = ? AND t.id < ?)) "
                                "ORDER BY t.start_date DESC, t.id DESC LIMIT ?"),
                     {organization_id, DateValue(from.date), DateValue(from.date), from.id,
                      int64_t{limit}}),
              &TermFromDb);
}

absl::StatusOr<std::vector<ExpiringTermRow>> OfficerStore::ListExpiring(
    db::Connection& c, const std::string& path, const time::CivilDate& until,
    const std::optional<DateCursor>& after, int limit) {
  const std::string upper = SubtreeUpperBound(path);
  const DateCursor from = after.value_or(DateCursor{kFirstDay, 0});
  auto result = c.Exec(
      absl::StrCat("SELECT ", AV(kTermColumns),
                   ", o.display_name FROM terms t JOIN organizations o ON o.id = "
                   "t.organization_id WHERE t.end_date IS NULL AND t.planned_end_date <= ? AND "
                   "(t.planned_end_date > ? OR (t.planned_end_date = ? AND t.id > ?)) AND "
                   "o.path >= ? AND o.path < ? AND o.status = ? "
                   "ORDER BY t.planned_end_date, t.id LIMIT ?"),
      {DateValue(until), DateValue(from.date), DateValue(from.date), from.id, path, upper,
       std::string("ACTIVE"), int64_t{limit}});
  if (!result.ok()) {
    return result.status();
  }
  std::vector<ExpiringTermRow> out;
  out.reserve(result->rows.size());
  for (const db::Row& r : result->rows) {
    out.push_back({TermFromDb(r), r.Text(11)});
  }
  return out;
}

namespace {
// Ends the officers `where` selects (its parameters `params`) still in office after `date`: on
// `date`, or on their start when that is later; a new version each.
absl::StatusOr<int64_t> EndOfficersWhere(db::Connection& c, std::string_view where,
                                         std::vector<db::Value> params, const time::CivilDate& date,
                                         int64_t update_time_us) {
  std::vector<db::Value> all = {DateValue(date), DateValue(date), update_time_us};
  for (db::Value& v : params) {
    all.push_back(std::move(v));
  }
  all.push_back(DateValue(date));
  auto r = c.Execute(absl::StrCat("UPDATE officers SET end_date = CASE WHEN start_date > ? THEN "
                                  "start_date ELSE ? END, version = version + 1, "
                                  "update_time_us = ? WHERE ",
                                  AV(where), " AND (end_date IS NULL OR end_date > ?)"),
                     all);
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows;
}
}  // namespace

absl::StatusOr<int64_t> OfficerStore::EndOfficersOf(db::Connection& c, int64_t organization_id,
                                                    const time::CivilDate& date,
                                                    int64_t update_time_us) {
  return EndOfficersWhere(c, "organization_id = ?", {organization_id}, date, update_time_us);
}

absl::StatusOr<int64_t> OfficerStore::EndOfficersOfMember(db::Connection& c,
                                                          std::string_view member,
                                                          int64_t except_organization_id,
                                                          const time::CivilDate& date,
                                                          int64_t update_time_us) {
  return EndOfficersWhere(c, "member = ? AND organization_id <> ?",
                          {std::string(member), except_organization_id}, date, update_time_us);
}

absl::StatusOr<int64_t> OfficerStore::EndCurrentTermOf(db::Connection& c, int64_t organization_id,
                                                       const time::CivilDate& date) {
  auto r = c.Exec(
      "UPDATE terms SET end_date = CASE WHEN start_date > ? THEN start_date ELSE ? END "
      "WHERE organization_id = ? AND end_date IS NULL",
      {DateValue(date), DateValue(date), organization_id});
  if (!r.ok()) {
    return r.status();
  }
  return r->affected_rows;
}

absl::StatusOr<int64_t> OfficerStore::CountOfficersOf(db::Connection& c, int64_t organization_id) {
  auto r = c.Exec("SELECT COUNT(*) FROM officers WHERE organization_id = ?", {organization_id});
  if (!r.ok()) {
    return r.status();
  }
  return r->rows.empty() ? 0 : r->rows[0].Int(0);
}

absl::StatusOr<int64_t> OfficerStore::CountTermsOf(db::Connection& c, int64_t organization_id) {
  auto r = c.Exec("SELECT COUNT(*) FROM terms WHERE organization_id = ?", {organization_id});
  if (!r.ok()) {
    return r.status();
  }
  return r->rows.empty() ? 0 : r->rows[0].Int(0);
}

}  // namespace dj::org
