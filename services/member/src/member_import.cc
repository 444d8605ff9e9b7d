// Member list import: CSV and .xlsx bytes -> rows of cells -> Member messages by header, every
// step bounded (file size, inflated size, cell size, row count) so that a hostile upload costs
// at most a known amount of memory and time.
#include "services/member/src/member_import.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/rpc/errors.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/civil_date.h"
#include "services/member/src/spreadsheet_cells.h"

namespace dj::member {

namespace pb = dangjian::member::v1;
// The readers' shared cells and text helpers (spreadsheet_cells.h).
using sheet::AppendUtf8;
using sheet::Cell;
using sheet::CellKind;
using sheet::ColumnCell;
using sheet::ColumnIndex;
using sheet::ColumnLetters;
using sheet::ErrorCell;
using sheet::FileError;
using sheet::IsValidUtf8;
using sheet::Key;
using sheet::kMaxColumns;
using sheet::kMaxSheetRow;
using sheet::OversizeReason;
using sheet::Trim;
using sheet::Utf8Chars;

namespace {

constexpr int32_t kHeaderSearchRows = 10;  // title rows a sheet may have above its header
constexpr size_t kMaxHeaderBytes = 200;

// --- the member fields a sheet may have, by header ---

enum class Kind { kText, kGender, kDate, kIdNumber, kPhone, kEducation, kCategory, kStage, kYesNo };

struct FieldSpec {
  std::string_view field;  // the Member field
  Kind kind;
  bool required;
  std::array<std::string_view, 4> headers;  // as Key() gives them; the first one is canonical
  // CreateMember's limit for text fields; for the others, more than any valid value has.
  size_t max_chars = 40;
};

constexpr FieldSpec kFields[] = {
    {"display_name", Kind::kText, true, {"姓名", "display_name", "name"}, 50},
    {"gender", Kind::kGender, false, {"性别", "gender"}},
    {"ethnicity", Kind::kText, false, {"民族", "ethnicity"}, 20},
    {"birth_date", Kind::kDate, false, {"出生日期", "birth_date"}},
    {"id_number", Kind::kIdNumber, true, {"身份证号", "公民身份号码", "身份证号码", "id_number"}},
    {"phone", Kind::kPhone, false, {"手机号", "联系电话", "手机号码", "phone"}},
    {"education", Kind::kEducation, false, {"学历", "education"}},
    {"work_unit", Kind::kText, false, {"工作单位", "work_unit"}, 100},
    {"job_title", Kind::kText, false, {"职务", "job_title"}, 50},
    {"category", Kind::kCategory, false, {"人员类别", "category"}},
    {"stage", Kind::kStage, false, {"党员类别", "发展阶段", "stage"}},
    {"application_date", Kind::kDate, false, {"申请入党日期", "application_date"}},
    {"activist_date", Kind::kDate, false, {"确定积极分子日期", "activist_date"}},
    {"candidate_date", Kind::kDate, false, {"确定发展对象日期", "candidate_date"}},
    {"join_date", Kind::kDate, false, {"入党日期", "join_date"}},
    {"full_member_date", Kind::kDate, false, {"转正日期", "full_member_date"}},
    {"party_affairs_cadre", Kind::kYesNo, false, {"党务干部", "party_affairs_cadre"}},
    {"residence_community", Kind::kText, false, {"报到社区", "residence_community"}, 100},
    {"community_report_date", Kind::kDate, false, {"报到日期", "community_report_date"}},
};
constexpr int32_t kFieldCount = static_cast<int32_t>(std::size(kFields));

// Columns MemberSheet exports that are output only: skipped on import without a warning.
constexpr std::string_view kOutputOnlyHeaders[] = {"党籍状态", "党龄", "status",
                                                   "party_standing_years"};

constexpr int32_t kIgnored = -1;
constexpr int32_t kOutputOnly = -2;

int32_t FieldOfHeader(const std::string& key) {
  for (int32_t i = 0; i < kFieldCount; ++i) {
    for (std::string_view h : kFields[i].headers) {
      if (!h.empty() && key == h) {
        return i;
      }
    }
  }
  for (std::string_view h : kOutputOnlyHeaders) {
    if (key == h) {
      return kOutputOnly;
    }
  }
  return kIgnored;
}

std::string Label(const FieldSpec& f) { return absl::StrCat(AV(f.headers[0]), " / ", AV(f.field)); }

template <typename E>
struct Word {
  std::string_view key;
  E value;
};

constexpr Word<pb::Gender> kGenders[] = {
    {"男", pb::MALE},   {"男性", pb::MALE},   {"male", pb::MALE},     {"m", pb::MALE},
    {"女", pb::FEMALE}, {"女性", pb::FEMALE}, {"female", pb::FEMALE}, {"f", pb::FEMALE}};
constexpr Word<pb::Education> kEducations[] = {{"小学", pb::PRIMARY},
                                               {"初中", pb::JUNIOR_SECONDARY},
                                               {"高中", pb::SENIOR_SECONDARY},
                                               {"中专", pb::SENIOR_SECONDARY},
                                               {"职高", pb::SENIOR_SECONDARY},
                                               {"技校", pb::SENIOR_SECONDARY},
                                               {"大专", pb::JUNIOR_COLLEGE},
                                               {"专科", pb::JUNIOR_COLLEGE},
                                               {"本科", pb::BACHELOR},
                                               {"大学本科", pb::BACHELOR},
                                               {"大学", pb::BACHELOR},
                                               {"硕士", pb::MASTER},
                                               {"硕士研究生", pb::MASTER},
                                               {"研究生", pb::MASTER},
                                               {"博士", pb::DOCTORATE},
                                               {"博士研究生", pb::DOCTORATE},
                                               {"primary", pb::PRIMARY},
                                               {"junior_secondary", pb::JUNIOR_SECONDARY},
                                               {"senior_secondary", pb::SENIOR_SECONDARY},
                                               {"junior_college", pb::JUNIOR_COLLEGE},
                                               {"bachelor", pb::BACHELOR},
                                               {"master", pb::MASTER},
                                               {"doctorate", pb::DOCTORATE}};
constexpr Word<pb::MemberCategory> kCategories[] = {
    {"在职", pb::IN_SERVICE}, {"在职党员", pb::IN_SERVICE},
    {"离退休", pb::RETIRED},  {"退休", pb::RETIRED},
    {"离休", pb::RETIRED},    {"离退休党员", pb::RETIRED},
    {"学生", pb::STUDENT},    {"学生党员", pb::STUDENT},
    {"其他", pb::OTHER},      {"in_service", pb::IN_SERVICE},
    {"retired", pb::RETIRED}, {"student", pb::STUDENT},
    {"other", pb::OTHER}};
constexpr Word<pb::Stage> kStages[] = {{"正式党员", pb::FULL},
                                       {"预备党员", pb::PROBATIONARY},
                                       {"发展对象", pb::CANDIDATE},
                                       {"入党积极分子", pb::ACTIVIST},
                                       {"积极分子", pb::ACTIVIST},
                                       {"入党申请人", pb::APPLICANT},
                                       {"申请人", pb::APPLICANT},
                                       {"full", pb::FULL},
                                       {"probationary", pb::PROBATIONARY},
                                       {"candidate", pb::CANDIDATE},
                                       {"activist", pb::ACTIVIST},
                                       {"applicant", pb::APPLICANT}};

template <typename E, size_t N>
std::optional<E> Lookup(const Word<E> (&words)[N], std::string_view text) {
  const std::string key = Key(text);
  for (const Word<E>& w : words) {
    if (key == w.key) {
      return w.value;
    }
  }
  return std::nullopt;
}

// The text a cell shows, for a text column: numbers as written without an exponent when they are
// whole, date-formatted numbers as dates.
std::string DisplayText(const Cell& c, bool date1904) {
  switch (c.kind) {
    case CellKind::kText:
      return std::string(c.Text());
    case CellKind::kBool:
      return c.text == "1" ? "TRUE" : "FALSE";
    case CellKind::kDateNumber: {
      google::type::Date d;
      if (ExcelSerialDate(c.number, date1904, &d)) {
        return time::ToIso({d.year(), d.month(), d.day()});
      }
      [[fallthrough]];
    }
    case CellKind::kNumber:
      if (std::floor(c.number) == c.number && std::fabs(c.number) < 1e15) {
        return absl::StrCat(static_cast<int64_t>(c.number));
      }
      return c.text;
    case CellKind::kEmpty:
    case CellKind::kError:
      return "";
  }
  return "";
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Turns a sheet's rows into members, one row at a time, so that nothing but the result grows with
// the file.
class RowMapper {
 public:
  explicit RowMapper(bool date1904) : date1904_(date1904) {}

  void set_date1904(bool v) { date1904_ = v; }

  // `cells`: the row's non-empty cells, by increasing column.
  absl::Status Add(int32_t row, std::vector<ColumnCell>& cells) {
    if (!have_header_) {
      return AddBeforeHeader(row, cells);
    }
    bool blank = true;
    for (const ColumnCell& c : cells) {
      if (c.cell.oversize || (Mapped(c.column) && !IsBlank(c.cell))) {
        blank = false;
      }
    }
    if (blank) {
      return absl::OkStatus();
    }
    if (++data_rows_ > kMaxImportRows) {
      return FileError(absl::StrCat("has more than ", kMaxImportRows,
                                    " member rows: split it into several files"));
    }
    ImportRow out{.row = row, .member = {}};
    for (const ColumnCell& c : cells) {
      if (Mapped(c.column)) {
        Apply(row, c.column, kFields[column_field_[c.column]], c.cell, out.member);
      } else if (c.cell.oversize) {
        // Refused in any column: nobody types a megabyte into a member list.
        Report(row, ColumnName(c.column), c.cell.text);
      }
    }
    out_.rows.push_back(std::move(out));
    return absl::OkStatus();
  }

  absl::StatusOr<ParsedImport> Finish() && {
    if (!have_header_) {
      if (rows_before_header_ == 0) {
        return FileError(
            "has no rows: the first row must hold the column headers (姓名, 身份证号, ...)");
      }
      RETURN_IF_ERROR(TakeHeader(first_row_, first_row_keys_, first_row_texts_));
    }
    return std::move(out_);
  }

 private:
  bool Mapped(int32_t column) const {
    return column < static_cast<int32_t>(column_field_.size()) && column_field_[column] >= 0;
  }

  static bool IsBlank(const Cell& c) {
    return c.kind == CellKind::kEmpty || (c.kind == CellKind::kText && Trim(c.Text()).empty());
  }

  std::string ColumnName(int32_t i) const {
    if (i < static_cast<int32_t>(column_header_.size()) && !column_header_[i].empty()) {
      return column_header_[i];
    }
    return ColumnLetters(i);
  }

  void Report(int32_t row, std::string column, std::string reason) {
    out_.errors.push_back({.row = row, .column = std::move(column), .reason = std::move(reason)});
  }

  absl::Status AddBeforeHeader(int32_t row, std::vector<ColumnCell>& cells) {
    if (std::all_of(cells.begin(), cells.end(),
                    [](const ColumnCell& c) { return IsBlank(c.cell); })) {
      return absl::OkStatus();
    }
    // Dense from here: at most kHeaderSearchRows rows get this far.
    const size_t width = cells.empty() ? 0 : static_cast<size_t>(cells.back().column) + 1;
    std::vector<std::string> keys(width);
    std::vector<std::string> texts(width);
    bool has_required = false;
    for (const ColumnCell& c : cells) {
      if (c.cell.kind == CellKind::kText || c.cell.kind == CellKind::kNumber) {
        // No header is longer; a longer text is not copied (it may be a large shared string).
        const std::string_view text = Trim(c.cell.Text());
        texts[c.column] = Clip(text, kMaxHeaderBytes);
        keys[c.column] = text.size() <= kMaxHeaderBytes ? Key(text) : "";
      }
      const int32_t f = FieldOfHeader(keys[c.column]);
      if (f >= 0 && kFields[f].required) {
        has_required = true;
      }
    }
    ++rows_before_header_;
    if (rows_before_header_ == 1) {
      first_row_ = row;
      first_row_keys_ = keys;
      first_row_texts_ = texts;
    }
    if (has_required) {
      if (rows_before_header_ > 1) {
        out_.warnings.push_back(
            absl::StrCat("rows ", first_row_, "-", row - 1, " above the header row were skipped"));
      }
      return TakeHeader(row, keys, texts);
    }
    if (rows_before_header_ >= kHeaderSearchRows) {
      return TakeHeader(first_row_, first_row_keys_, first_row_texts_);
    }
    return absl::OkStatus();
  }

  absl::Status TakeHeader(int32_t row, const std::vector<std::string>& keys,
                          const std::vector<std::string>& texts) {
    have_header_ = true;
    column_field_.assign(keys.size(), kIgnored);
    column_header_ = texts;
    std::vector<int32_t> column_of(kFieldCount, -1);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].empty()) {
        continue;
      }
      const int32_t f = FieldOfHeader(keys[i]);
      column_field_[i] = f;
      if (f == kIgnored) {
        out_.warnings.push_back(absl::StrCat("column ", ColumnLetters(static_cast<int32_t>(i)),
                                             " (", texts[i], ") is not a member field: ignored"));
        continue;
      }
      if (f < 0) {
        continue;
      }
      if (column_of[f] >= 0) {
        return FileError(absl::StrCat("has two columns for ", Label(kFields[f]), ": ",
                                      ColumnLetters(column_of[f]), " and ",
                                      ColumnLetters(static_cast<int32_t>(i))));
      }
      column_of[f] = static_cast<int32_t>(i);
      out_.columns[std::string(kFields[f].field)] = texts[i];
    }
    std::vector<std::string> missing;
    for (int32_t f = 0; f < kFieldCount; ++f) {
      if (kFields[f].required && column_of[f] < 0) {
        missing.push_back(Label(kFields[f]));
      }
    }
    if (!missing.empty()) {
      return FileError(absl::StrCat("has no column ", absl::StrJoin(missing, ", "),
                                    " in its header row (row ", row,
                                    "): the first row must hold the column headers"));
    }
    return absl::OkStatus();
  }

  std::optional<google::type::Date> DateOf(const Cell& c) const {
    google::type::Date d;
    if (c.kind == CellKind::kDateNumber) {
      return ExcelSerialDate(c.number, date1904_, &d) ? std::optional(d) : std::nullopt;
    }
    if (c.kind == CellKind::kNumber) {
      // A whole number like 20200701 is a date typed without separators; anything else is a
      // serial day number whose date format was lost.
      const std::string digits = DisplayText(c, date1904_);
      if (digits.size() == 8 && AllDigits(digits)) {
        return ParseImportDate(digits, &d) ? std::optional(d) : std::nullopt;
      }
      return ExcelSerialDate(c.number, date1904_, &d) ? std::optional(d) : std::nullopt;
    }
    return ParseImportDate(c.Text(), &d) ? std::optional(d) : std::nullopt;
  }

  void Apply(int32_t row, int32_t column, const FieldSpec& f, const Cell& c, pb::Member& m) {
    if (c.kind == CellKind::kEmpty) {
      return;
    }
    if (c.kind == CellKind::kError) {
      Report(row, ColumnName(column), c.text);
      return;
    }
    auto refuse = [&](std::string_view why) {
      Report(row, ColumnName(column), absl::StrCat(Label(f), ": ", AV(why)));
    };
    // Checked before anything is copied: what a row keeps is bounded by the fields' limits,
    // whatever the cells refer to.
    const std::string_view raw = Trim(c.kind == CellKind::kText ? c.Text() : c.text);
    if (raw.empty()) {
      return;
    }
    if (Utf8Chars(raw.substr(0, f.max_chars * 4 + 1)) > f.max_chars) {
      refuse(absl::StrCat("must be at most ", f.max_chars, " characters"));
      return;
    }
    const std::string text = std::string(Trim(DisplayText(c, date1904_)));
    if (text.empty()) {
      return;
    }
    switch (f.kind) {
      case Kind::kText:
        SetText(f.field, text, m);
        return;
      case Kind::kIdNumber:
        // Excel keeps 15 significant digits: an 18-digit number stored as a number has lost
        // its last ones (3.20681199001011E+17). Exact digits (openpyxl writes them) are fine.
        if ((c.kind == CellKind::kNumber || c.kind == CellKind::kDateNumber) &&
            !AllDigits(c.text)) {
          refuse(
              "stored as a number, which loses digits: format the column as text and type "
              "the numbers again");
          return;
        }
        m.set_id_number(c.kind == CellKind::kText ? text : c.text);
        return;
      case Kind::kPhone:
        m.set_phone(text);
        return;
      case Kind::kDate: {
        const std::optional<google::type::Date> d = DateOf(c);
        if (!d.has_value()) {
          refuse("not a date: write it as 2020-07-01, 2020/7/1, 2020年7月1日 or 20200701");
          return;
        }
        SetDate(f.field, *d, m);
        return;
      }
      case Kind::kGender:
        if (auto v = Lookup(kGenders, text)) {
          m.set_gender(*v);
        } else {
          refuse("must be 男 or 女");
        }
        return;
      case Kind::kEducation:
        if (auto v = Lookup(kEducations, text)) {
          m.set_education(*v);
        } else {
          refuse("must be one of 小学, 初中, 高中, 中专, 大专, 大学本科, 硕士研究生, 博士研究生");
        }
        return;
      case Kind::kCategory:
        if (auto v = Lookup(kCategories, text)) {
          m.set_category(*v);
        } else {
          refuse("must be one of 在职, 离退休, 学生, 其他");
        }
        return;
      case Kind::kStage:
        if (auto v = Lookup(kStages, text)) {
          m.set_stage(*v);
        } else {
          refuse("must be one of 正式党员, 预备党员, 发展对象, 入党积极分子, 入党申请人");
        }
        return;
      case Kind::kYesNo: {
        const std::string key = Key(text);
        if (key == "是" || key == "1" || key == "true" || key == "y" || key == "yes" ||
            key == "√") {
          m.set_party_affairs_cadre(true);
        } else if (key == "否" || key == "0" || key == "false" || key == "n" || key == "no" ||
                   key == "×") {
          m.set_party_affairs_cadre(false);
        } else {
          refuse("must be 是 or 否");
        }
        return;
      }
    }
  }

  static void SetText(std::string_view field, const std::string& v, pb::Member& m) {
    if (field == "display_name") {
      m.set_display_name(v);
    } else if (field == "ethnicity") {
      m.set_ethnicity(v);
    } else if (field == "work_unit") {
      m.set_work_unit(v);
    } else if (field == "job_title") {
      m.set_job_title(v);
    } else if (field == "residence_community") {
      m.set_residence_community(v);
    }
  }

  static void SetDate(std::string_view field, const google::type::Date& d, pb::Member& m) {
    if (field == "birth_date") {
      *m.mutable_birth_date() = d;
    } else if (field == "application_date") {
      *m.mutable_application_date() = d;
    } else if (field == "activist_date") {
      *m.mutable_activist_date() = d;
    } else if (field == "candidate_date") {
      *m.mutable_candidate_date() = d;
    } else if (field == "join_date") {
      *m.mutable_join_date() = d;
    } else if (field == "full_member_date") {
      *m.mutable_full_member_date() = d;
    } else if (field == "community_report_date") {
      *m.mutable_community_report_date() = d;
    }
  }

  bool date1904_;
  bool have_header_ = false;
  int32_t rows_before_header_ = 0;
  int32_t first_row_ = 0;
  std::vector<std::string> first_row_keys_;
  std::vector<std::string> first_row_texts_;
  std::vector<int32_t> column_field_;  // per column: an index into kFields, kIgnored or kOutputOnly
  std::vector<std::string> column_header_;
  int32_t data_rows_ = 0;
  ParsedImport out_;
};

absl::Status CheckSize(std::string_view bytes) {
  if (bytes.size() > kMaxImportFileBytes) {
    return FileError(absl::StrCat("is larger than ", kMaxImportFileBytes >> 20,
                                  " MB: split it into several files"));
  }
  if (bytes.empty()) {
    return FileError("is empty");
  }
  return absl::OkStatus();
}

}  // namespace

bool ParseImportDate(std::string_view text, google::type::Date* out) {
  std::string_view s = Trim(text);
  // A time after the date ("2020-07-01 00:00:00", "2020-07-01T00:00:00") is dropped.
  if (const size_t cut = s.find_first_of(" T"); cut != std::string_view::npos && cut >= 8) {
    const std::string_view time_part = s.substr(cut + 1);
    if (time_part.empty() ||
        time_part.find_first_not_of("0123456789:.Z+-") != std::string_view::npos) {
      return false;
    }
    s = s.substr(0, cut);
  }
  int32_t parts[3] = {0, 0, 0};
  int32_t digits[3] = {0, 0, 0};
  std::string seps[3];
  int32_t n = 0;
  if (s.size() == 8 && AllDigits(s)) {
    parts[0] = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    parts[1] = (s[4] - '0') * 10 + (s[5] - '0');
    parts[2] = (s[6] - '0') * 10 + (s[7] - '0');
  } else {
    size_t i = 0;
    while (i < s.size()) {
      if (n >= 3) {
        return false;
      }
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (++digits[n] > 4) {
          return false;
        }
        parts[n] = parts[n] * 10 + (s[i] - '0');
        ++i;
      }
      if (digits[n] == 0) {
        return false;
      }
      const size_t sep_end = s.find_first_of("0123456789", i);
      seps[n] =
          std::string(s.substr(i, sep_end == std::string_view::npos ? s.size() - i : sep_end - i));
      i = sep_end == std::string_view::npos ? s.size() : sep_end;
      ++n;
    }
    if (n != 3 || digits[0] != 4 || digits[1] > 2 || digits[2] > 2) {
      return false;
    }
    const bool dashes = seps[0] == "-" && seps[1] == "-" && seps[2].empty();
    const bool slashes = seps[0] == "/" && seps[1] == "/" && seps[2].empty();
    const bool dots = seps[0] == "." && seps[1] == "." && seps[2].empty();
    const bool chinese = seps[0] == "年" && seps[1] == "月" && (seps[2] == "日" || seps[2].empty());
    if (!dashes && !slashes && !dots && !chinese) {
      return false;
    }
  }
  const int32_t year = parts[0];
  const int32_t month = parts[1];
  const int32_t day = parts[2];
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > time::DaysInMonth(year, month)) {
    return false;
  }
  out->set_year(year);
  out->set_month(month);
  out->set_day(day);
  return true;
}

bool ExcelSerialDate(double serial, bool date1904, google::type::Date* out) {
  if (!std::isfinite(serial) || serial < 0 || serial > 2958466) {
    return false;
  }
  const int64_t days = static_cast<int64_t>(std::floor(serial));
  absl::StatusOr<time::CivilDate> d;
  if (date1904) {
    d = time::AddDays({1904, 1, 1}, days);
  } else if (days < 1 || days == 60) {
    // Serial 60 is 1900-02-29, which Excel counts (after Lotus 1-2-3) but which never was.
    return false;
  } else if (days < 60) {
    d = time::AddDays({1899, 12, 31}, days);
  } else {
    d = time::AddDays({1899, 12, 30}, days);
  }
  if (!d.ok() || d->year > 9999) {
    return false;
  }
  out->set_year(d->year);
  out->set_month(d->month);
  out->set_day(d->day);
  return true;
}

absl::StatusOr<ParsedImport> ParseMemberCsv(std::string_view bytes) {
  RETURN_IF_ERROR(CheckSize(bytes));
  ASSIGN_OR_RETURN(std::string text, sheet::CsvText(bytes));
  RowMapper mapper(false);
  RETURN_IF_ERROR(sheet::ReadCsvRows(
      text, [&](int32_t row, std::vector<ColumnCell>& cells) { return mapper.Add(row, cells); }));
  return std::move(mapper).Finish();
}

absl::StatusOr<ParsedImport> ParseMemberXlsx(std::string_view bytes) {
  RETURN_IF_ERROR(CheckSize(bytes));
  RowMapper mapper(false);
  RETURN_IF_ERROR(sheet::ReadXlsxRows(
      bytes, [&](bool date1904) { mapper.set_date1904(date1904); },
      [&](int32_t row, std::vector<ColumnCell>& cells) { return mapper.Add(row, cells); }));
  return std::move(mapper).Finish();
}

absl::StatusOr<ParsedImport> ParseMemberFile(std::string_view bytes,
                                             std::string_view filename_or_type) {
  RETURN_IF_ERROR(CheckSize(bytes));
  if (bytes.starts_with("PK\x03\x04") || bytes.starts_with("PK\x05\x06")) {
    return ParseMemberXlsx(bytes);
  }
  if (bytes.starts_with("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) {
    return FileError(
        "is an old .xls workbook or a password-protected one: save it as .xlsx without a "
        "password, or as CSV");
  }
  const std::string type = absl::AsciiStrToLower(AV(filename_or_type));
  if (type.ends_with(".xlsx") || type.find("spreadsheetml") != std::string::npos) {
    return FileError("is not an .xlsx workbook (not a zip archive): save it again as .xlsx");
  }
  return ParseMemberCsv(bytes);
}

std::string ImportColumnFor(const ParsedImport& parsed, std::string_view field_path) {
  std::string_view field = field_path;
  if (field.starts_with("member.")) {
    field.remove_prefix(7);
  }
  const auto it = parsed.columns.find(std::string(field));
  return it == parsed.columns.end() ? std::string(field_path) : it->second;
}

}  // namespace dj::member
