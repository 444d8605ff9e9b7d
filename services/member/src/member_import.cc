// Member list import: CSV and .xlsx bytes -> rows of cells -> Member messages by header, every
// step bounded (file size, inflated size, cell size, row count) so that a hostile upload costs
// at most a known amount of memory and time.
#include "services/member/src/member_import.h"

#include <iconv.h>
#include <zip.h>

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
#include "pugixml.hpp"

namespace dj::member {

namespace pb = dangjian::member::v1;

namespace {

constexpr int32_t kMaxColumns = 16384;     // Excel's XFD
constexpr int32_t kMaxSheetRow = 1048576;  // Excel's last row
constexpr int32_t kHeaderSearchRows = 10;  // title rows a sheet may have above its header
constexpr size_t kMaxHeaderBytes = 200;

absl::Status FileError(std::string_view description) {
  return rpc::InvalidArgument({{"file", std::string(description)}});
}

// --- text helpers ---

// The byte length of a whitespace character at the start of `s` (ASCII space, tab, CR, LF,
// U+00A0, U+3000, U+FEFF), else 0.
size_t LeadingSpace(std::string_view s) {
  if (s.empty()) {
    return 0;
  }
  if (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n') {
    return 1;
  }
  if (s.substr(0, 2) == "\xC2\xA0") {
    return 2;
  }
  if (s.substr(0, 3) == "\xE3\x80\x80" || s.substr(0, 3) == "\xEF\xBB\xBF") {
    return 3;
  }
  return 0;
}

size_t TrailingSpace(std::string_view s) {
  if (s.empty()) {
    return 0;
  }
  const char c = s.back();
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
    return 1;
  }
  if (s.size() >= 2 && s.substr(s.size() - 2) == "\xC2\xA0") {
    return 2;
  }
  if (s.size() >= 3 &&
      (s.substr(s.size() - 3) == "\xE3\x80\x80" || s.substr(s.size() - 3) == "\xEF\xBB\xBF")) {
    return 3;
  }
  return 0;
}

std::string_view Trim(std::string_view s) {
  for (size_t n = LeadingSpace(s); n > 0; n = LeadingSpace(s)) {
    s.remove_prefix(n);
  }
  for (size_t n = TrailingSpace(s); n > 0; n = TrailingSpace(s)) {
    s.remove_suffix(n);
  }
  return s;
}

// For matching headers and enum words: no spaces anywhere (forms write "姓  名"), ASCII lower
// case, required-field marks ("*姓名", "姓名（必填）") dropped.
std::string Key(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    if (const size_t n = LeadingSpace(s); n > 0) {
      s.remove_prefix(n);
      continue;
    }
    if (s[0] == '*') {
      s.remove_prefix(1);
      continue;
    }
    if (s.substr(0, 3) == "\xEF\xBC\x8A") {  // full-width asterisk
      s.remove_prefix(3);
      continue;
    }
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(s[0])));
    s.remove_prefix(1);
  }
  for (std::string_view mark : {"(必填)", "（必填）"}) {
    if (out.size() > mark.size() && out.ends_with(mark)) {
      out.resize(out.size() - mark.size());
    }
  }
  return out;
}

size_t Utf8Chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++n;
    }
  }
  return n;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// "A" -> 0, "AA" -> 26; -1 when not 1-3 letters within XFD.
int32_t ColumnIndex(std::string_view letters) {
  if (letters.empty() || letters.size() > 3) {
    return -1;
  }
  int32_t n = 0;
  for (char c : letters) {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(c))) {
      return -1;
    }
    n = n * 26 + (absl::ascii_toupper(static_cast<unsigned char>(c)) - 'A' + 1);
  }
  return n <= kMaxColumns ? n - 1 : -1;
}

std::string ColumnLetters(int32_t index) {
  std::string out;
  for (int32_t n = index + 1; n > 0; n = (n - 1) / 26) {
    out.insert(out.begin(), static_cast<char>('A' + (n - 1) % 26));
  }
  return out;
}

// --- cells, whatever the file format ---

enum class CellKind { kEmpty, kText, kNumber, kBool, kDateNumber, kError };

struct Cell {
  CellKind kind = CellKind::kEmpty;
  std::string text;  // kText: the text; kNumber/kDateNumber: the stored number's text;
                     // kBool: "1" or "0"; kError: why the cell cannot be read
  // kText from the shared string table, shared rather than copied: a small sheet may refer to
  // one large string a million times.
  std::shared_ptr<const std::string> shared;
  double number = 0;
  bool oversize = false;  // kError because the cell is over kMaxCellBytes

  std::string_view Text() const { return shared != nullptr ? *shared : text; }
};

// A cell with its 0-based column: rows are passed sparse, so that a cell far to the right (XFD)
// costs no more than one next to the others.
struct ColumnCell {
  int32_t column = 0;
  Cell cell;
};

Cell ErrorCell(std::string reason, bool oversize = false) {
  Cell c;
  c.kind = CellKind::kError;
  c.text = std::move(reason);
  c.oversize = oversize;
  return c;
}

std::string OversizeReason() {
  return absl::StrCat("the cell is over ", kMaxCellBytes / (1 << 20), " MB");
}

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

// --- CSV ---

// The text as UTF-8: as is when it is valid UTF-8 (a BOM dropped), else decoded from GB18030.
absl::StatusOr<std::string> CsvText(std::string_view bytes) {
  if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) {
    return FileError(
        "is UTF-16 (Excel's \"Unicode text\"): save it as \"CSV UTF-8\" or as .xlsx instead");
  }
  if (bytes.starts_with("\xEF\xBB\xBF")) {
    bytes.remove_prefix(3);
    if (!IsValidUtf8(bytes)) {
      return FileError("starts with a UTF-8 byte order mark but is not valid UTF-8");
    }
    return std::string(bytes);
  }
  if (IsValidUtf8(bytes)) {
    return std::string(bytes);
  }
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return absl::InternalError("iconv has no GB18030 converter");
  }
  // Every GB18030 sequence of n bytes becomes at most 2n bytes of UTF-8.
  std::string out(bytes.size() * 2 + 4, '\0');
  char* in_ptr = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  const size_t r = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
  iconv_close(cd);
  if (r == static_cast<size_t>(-1) || in_left != 0) {
    return FileError(absl::StrCat("is neither UTF-8 nor GB18030 (an invalid byte sequence at byte ",
                                  bytes.size() - in_left,
                                  "): save it as \"CSV UTF-8\" or as .xlsx"));
  }
  out.resize(out.size() - out_left);
  if (out.starts_with("\xEF\xBB\xBF")) {  // GB18030's own BOM (84 31 95 33) decodes to U+FEFF
    out.erase(0, 3);
  }
  return out;
}

// RFC 4180 records, handed to `mapper` one by one. Lenient where Excel is (a quote inside an
// unquoted field is a character; text after a closing quote is kept); strict where a file is
// broken (a quote never closed).
absl::Status ReadCsv(std::string_view text, RowMapper& mapper) {
  // Tab-separated when the first line has tabs and no commas (Excel's "text" export).
  const std::string_view first_line = text.substr(0, text.find_first_of("\r\n"));
  const char sep = first_line.find(',') == std::string_view::npos &&
                           first_line.find('\t') != std::string_view::npos
                       ? '\t'
                       : ',';
  std::vector<ColumnCell> cells;
  Cell cell;
  cell.kind = CellKind::kText;
  int32_t column = 0;
  int32_t record = 1;
  bool quoted = false;         // inside a quoted part
  bool field_started = false;  // any character (or quote) seen in this field
  int32_t quote_record = 0;

  auto end_field = [&]() -> absl::Status {
    if (!cell.oversize) {
      // Undo WriteCsv's guard against CSV injection: "'=..." was "=..." in our export.
      // Leading apostrophes are counted so that a cell that itself began with "'=" survives.
      const size_t quotes = cell.text.find_first_not_of('\'');
      if (quotes != 0 && quotes != std::string::npos &&
          std::string_view("=+-@\t\r").find(cell.text[quotes]) != std::string_view::npos) {
        cell.text.erase(0, 1);
      }
    }
    if (column >= kMaxColumns) {
      return FileError(absl::StrCat("row ", record, " has more than ", kMaxColumns, " columns"));
    }
    if (cell.oversize || !cell.text.empty()) {
      cells.push_back({.column = column, .cell = std::move(cell)});
    }
    ++column;
    cell = Cell();
    cell.kind = CellKind::kText;
    field_started = false;
    return absl::OkStatus();
  };
  auto end_record = [&]() -> absl::Status {
    RETURN_IF_ERROR(end_field());
    RETURN_IF_ERROR(mapper.Add(record, cells));
    cells.clear();
    column = 0;
    ++record;
    return absl::OkStatus();
  };
  auto append = [&](char c) {
    if (cell.oversize) {
      return;
    }
    if (cell.text.size() >= kMaxCellBytes) {
      cell = ErrorCell(OversizeReason(), true);
      return;
    }
    cell.text.push_back(c);
  };

  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          append('"');
          i += 2;
          continue;
        }
        quoted = false;
        ++i;
        continue;
      }
      append(c);
      ++i;
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
      quote_record = record;
      ++i;
      continue;
    }
    if (c == sep) {
      RETURN_IF_ERROR(end_field());
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      RETURN_IF_ERROR(end_record());
      i += (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
      continue;
    }
    field_started = true;
    append(c);
    ++i;
  }
  if (quoted) {
    return FileError(
        absl::StrCat("has a quoted field opened in row ", quote_record, " that is never closed"));
  }
  if (field_started || !cells.empty()) {
    RETURN_IF_ERROR(end_record());
  }
  return absl::OkStatus();
}

// --- xlsx ---

struct ZipDeleter {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

// The parts of a zip archive held in memory, each inflated at most once and all of them
// together at most kMaxXlsxUncompressedBytes.
class ZipParts {
 public:
  static absl::StatusOr<ZipParts> Open(std::string_view bytes) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (src == nullptr) {
      zip_error_fini(&error);
      return absl::InternalError("cannot read the upload as a zip source");
    }
    zip_t* z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error);
    if (z == nullptr) {
      zip_source_free(src);
      const int code = zip_error_code_zip(&error);
      zip_error_fini(&error);
      return FileError(
          absl::StrCat("is not a readable .xlsx workbook (a damaged or truncated zip archive",
                       code == ZIP_ER_NOZIP ? ": no zip directory" : "", ")"));
    }
    zip_error_fini(&error);
    return ZipParts(z);
  }

  // The part `name` inflated, or nullopt when the archive has none.
  absl::StatusOr<std::optional<std::string>> Read(const std::string& name) {
    const zip_int64_t index = zip_name_locate(zip_.get(), name.c_str(), 0);
    if (index < 0) {
      return std::optional<std::string>();
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_.get(), static_cast<zip_uint64_t>(index), 0, &st) != 0 ||
        (st.valid & ZIP_STAT_SIZE) == 0 || (st.valid & ZIP_STAT_COMP_SIZE) == 0) {
      return FileError(absl::StrCat("is a damaged .xlsx workbook (", name, " unreadable)"));
    }
    // The sizes the archive declares: refused before inflating a single byte.
    if (st.size > kMaxXlsxUncompressedBytes - total_) {
      return FileError(absl::StrCat("inflates to more than ", kMaxXlsxUncompressedBytes >> 20,
                                    " MB: too large to import, or a zip bomb"));
    }
    if (st.size > kXlsxRatioCheckFromBytes &&
        (st.comp_size == 0 || st.size / st.comp_size > kMaxXlsxCompressionRatio)) {
      return FileError(absl::StrCat("has a part compressed more than ", kMaxXlsxCompressionRatio,
                                    ":1, which no real workbook has: refused as a zip bomb"));
    }
    std::unique_ptr<zip_file_t, ZipFileCloser> file(
        zip_fopen_index(zip_.get(), static_cast<zip_uint64_t>(index), 0));
    if (file == nullptr) {
      const int code = zip_error_code_zip(zip_get_error(zip_.get()));
      if (code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD || code == ZIP_ER_ENCRNOTSUPP) {
        return FileError("is encrypted: remove the password and upload it again");
      }
      return FileError(absl::StrCat("is a damaged .xlsx workbook (", name, " unreadable)"));
    }
    std::string out;
    out.reserve(static_cast<size_t>(st.size));
    char buffer[64 * 1024];
    for (;;) {
      const zip_int64_t n = zip_fread(file.get(), buffer, sizeof buffer);
      if (n < 0) {
        return FileError(
            absl::StrCat("is a damaged or truncated .xlsx workbook (", name, " is corrupt)"));
      }
      if (n == 0) {
        break;
      }
      // The declared size may lie: what actually comes out is bounded too.
      if (out.size() + static_cast<uint64_t>(n) > st.size) {
        return FileError(absl::StrCat("is a damaged .xlsx workbook or a zip bomb (", name,
                                      " inflates to more than its declared size)"));
      }
      total_ += static_cast<uint64_t>(n);
      if (total_ > kMaxXlsxUncompressedBytes) {
        return FileError(absl::StrCat("inflates to more than ", kMaxXlsxUncompressedBytes >> 20,
                                      " MB: too large to import, or a zip bomb"));
      }
      out.append(buffer, static_cast<size_t>(n));
    }
    return std::optional<std::string>(std::move(out));
  }

 private:
  explicit ZipParts(zip_t* z) : zip_(z) {}

  std::unique_ptr<zip_t, ZipDeleter> zip_;
  uint64_t total_ = 0;
};

// Element names without their namespace prefix ("x:row" -> "row"): some writers use prefixes.
std::string_view LocalName(const pugi::xml_node& n) {
  std::string_view name = n.name();
  const size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c) == local) {
      return c;
    }
  }
  return {};
}

// An attribute by local name ("r:id" matches "id" only when `prefixed`).
pugi::xml_attribute Attr(const pugi::xml_node& n, std::string_view local, bool prefixed = false) {
  for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
    std::string_view name = a.name();
    const size_t colon = name.find(':');
    if (prefixed != (colon != std::string_view::npos)) {
      continue;
    }
    if ((colon == std::string_view::npos ? name : name.substr(colon + 1)) == local) {
      return a;
    }
  }
  return {};
}

absl::StatusOr<pugi::xml_node> ParseXml(std::string& text, const std::string& part,
                                        pugi::xml_document& doc) {
  // pugixml never expands DTD entities, so "billion laughs" documents stay inert.
  const pugi::xml_parse_result r =
      doc.load_buffer_inplace(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!r) {
    return FileError(absl::StrCat("is a damaged .xlsx workbook (", part,
                                  " is not well-formed XML at byte ", r.offset, ")"));
  }
  return doc.document_element();
}

// OOXML writes characters XML cannot hold as _xHHHH_ ("_x000D_" for CR).
std::string DecodeOoxmlEscapes(std::string_view s) {
  if (s.find("_x") == std::string_view::npos) {
    return std::string(s);
  }
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '_' && i + 6 < s.size() && s[i + 1] == 'x' && s[i + 6] == '_') {
      uint32_t cp = 0;
      bool hex = true;
      for (size_t k = 2; k < 6; ++k) {
        const char c = s[i + k];
        if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
          hex = false;
          break;
        }
        cp = cp * 16 + static_cast<uint32_t>(
                           absl::ascii_isdigit(static_cast<unsigned char>(c))
                               ? c - '0'
                               : absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10);
      }
      if (hex && !(cp >= 0xD800 && cp <= 0xDFFF)) {
        AppendUtf8(cp, out);
        i += 7;
        continue;
      }
    }
    out.push_back(s[i]);
    ++i;
  }
  return out;
}

// The text of an <si> or <is>: its <t>, or its rich-text runs' <t>s (phonetic <rPh> left out).
// Stops (and says so) past kMaxCellBytes.
std::string StringItemText(const pugi::xml_node& item, bool* oversize) {
  std::string out;
  auto add = [&](const pugi::xml_node& t) {
    const std::string_view v = t.text().get();
    if (out.size() + v.size() > kMaxCellBytes) {
      *oversize = true;
      return;
    }
    out.append(v);
  };
  for (pugi::xml_node c = item.first_child(); c && !*oversize; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) {
      continue;
    }
    if (LocalName(c) == "t") {
      add(c);
    } else if (LocalName(c) == "r") {
      if (pugi::xml_node t = Child(c, "t")) {
        add(t);
      }
    }
  }
  if (*oversize) {
    return "";
  }
  return DecodeOoxmlEscapes(out);
}

struct SharedString {
  std::shared_ptr<const std::string> text;
  bool oversize = false;
};

bool IsBuiltinDateFormat(int32_t id) {
  return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) ||
         (id >= 50 && id <= 58);
}

// A custom number format shows a date when it has a year, day or month part outside quoted
// text, brackets and escapes ("yyyy年m月d日", "yyyy-mm-dd"); "mm:ss" and "h:mm" are times.
bool IsDateFormatCode(std::string_view code) {
  bool has_time = false;
  bool has_date = false;
  bool has_month = false;
  for (size_t i = 0; i < code.size(); ++i) {
    const char c = static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(code[i])));
    if (c == '"') {
      const size_t end = code.find('"', i + 1);
      i = end == std::string_view::npos ? code.size() : end;
    } else if (c == '[') {
      const size_t end = code.find(']', i + 1);
      i = end == std::string_view::npos ? code.size() : end;
    } else if (c == '\\' || c == '_' || c == '*') {
      ++i;
    } else if (c == 'y' || c == 'd' || c == 'e') {
      has_date = true;
    } else if (c == 'm') {
      has_month = true;
    } else if (c == 'h' || c == 's') {
      has_time = true;
    }
  }
  return has_date || (has_month && !has_time);
}

// Per cell style (the s attribute), whether it formats numbers as dates.
std::vector<bool> DateStyles(const pugi::xml_node& style_sheet) {
  std::vector<std::pair<int32_t, bool>> custom;
  if (pugi::xml_node fmts = Child(style_sheet, "numFmts")) {
    for (pugi::xml_node f = fmts.first_child(); f; f = f.next_sibling()) {
      if (LocalName(f) == "numFmt") {
        custom.emplace_back(Attr(f, "numFmtId").as_int(-1),
                            IsDateFormatCode(Attr(f, "formatCode").as_string()));
      }
    }
  }
  std::vector<bool> out;
  if (pugi::xml_node xfs = Child(style_sheet, "cellXfs")) {
    for (pugi::xml_node xf = xfs.first_child(); xf; xf = xf.next_sibling()) {
      if (xf.type() != pugi::node_element || LocalName(xf) != "xf") {
        continue;
      }
      const int32_t id = Attr(xf, "numFmtId").as_int(0);
      bool is_date = IsBuiltinDateFormat(id);
      for (const auto& [cid, date] : custom) {
        if (cid == id) {
          is_date = date;
        }
      }
      out.push_back(is_date);
    }
  }
  return out;
}

// "xl/worksheets/sheet1.xml" from a relationship target relative to xl/ or absolute.
std::string PartPath(std::string_view target) {
  if (target.starts_with("/")) {
    return std::string(target.substr(1));
  }
  std::string base = "xl/";
  while (target.starts_with("../")) {
    target.remove_prefix(3);
    base.clear();
  }
  return absl::StrCat(AV(base), AV(target));
}

struct WorkbookParts {
  std::string sheet;
  std::string shared_strings = "xl/sharedStrings.xml";
  std::string styles = "xl/styles.xml";
  bool date1904 = false;
};

absl::StatusOr<WorkbookParts> FindParts(ZipParts& zip) {
  ASSIGN_OR_RETURN(std::optional<std::string> workbook, zip.Read("xl/workbook.xml"));
  if (!workbook.has_value()) {
    return FileError("is not an .xlsx workbook (no xl/workbook.xml): save it as .xlsx or CSV");
  }
  pugi::xml_document wdoc;
  ASSIGN_OR_RETURN(pugi::xml_node wroot, ParseXml(*workbook, "xl/workbook.xml", wdoc));
  WorkbookParts parts;
  if (pugi::xml_node pr = Child(wroot, "workbookPr")) {
    parts.date1904 = Attr(pr, "date1904").as_bool(false);
  }
  pugi::xml_node first_sheet = Child(Child(wroot, "sheets"), "sheet");
  const std::string rel_id = Attr(first_sheet, "id", true).as_string();
  if (rel_id.empty()) {
    return FileError("is an .xlsx workbook without sheets");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> rels, zip.Read("xl/_rels/workbook.xml.rels"));
  if (!rels.has_value()) {
    return FileError("is a damaged .xlsx workbook (no xl/_rels/workbook.xml.rels)");
  }
  pugi::xml_document rdoc;
  ASSIGN_OR_RETURN(pugi::xml_node rroot, ParseXml(*rels, "xl/_rels/workbook.xml.rels", rdoc));
  for (pugi::xml_node r = rroot.first_child(); r; r = r.next_sibling()) {
    if (r.type() != pugi::node_element || LocalName(r) != "Relationship" ||
        std::string_view(Attr(r, "TargetMode").as_string()) == "External") {
      continue;
    }
    const std::string_view type = Attr(r, "Type").as_string();
    const std::string_view target = Attr(r, "Target").as_string();
    if (rel_id == Attr(r, "Id").as_string()) {
      parts.sheet = PartPath(target);
    } else if (type.ends_with("/sharedStrings")) {
      parts.shared_strings = PartPath(target);
    } else if (type.ends_with("/styles")) {
      parts.styles = PartPath(target);
    }
  }
  if (parts.sheet.empty()) {
    return FileError("is a damaged .xlsx workbook (its first sheet has no part)");
  }
  return parts;
}

// One <c> element as a Cell.
Cell ReadCell(const pugi::xml_node& c, const std::vector<SharedString>& shared,
              const std::vector<bool>& date_styles) {
  const std::string_view type = Attr(c, "t").as_string();
  const pugi::xml_node f = Child(c, "f");
  const pugi::xml_node v = Child(c, "v");
  const std::string_view value = v ? v.text().get() : "";
  if (type == "inlineStr") {
    bool oversize = false;
    Cell out;
    out.kind = CellKind::kText;
    out.text = StringItemText(Child(c, "is"), &oversize);
    return oversize ? ErrorCell(OversizeReason(), true) : out;
  }
  // A formula keeps its last result in <v>; without one (openpyxl and other generators write
  // none) the value is unknown, and computing Excel formulas is out of the question. An empty
  // <v> of a string formula is an empty result.
  if (f && (!v || (value.empty() && type != "str"))) {
    return ErrorCell(
        "a formula without a saved result: open the file in Excel or WPS and save it again, or "
        "paste the values");
  }
  if (!v) {
    return Cell();
  }
  Cell out;
  if (type == "s") {
    int64_t index = -1;
    if (!absl::SimpleAtoi(AV(value), &index) || index < 0 ||
        index >= static_cast<int64_t>(shared.size())) {
      return ErrorCell("refers to a shared string the workbook does not have");
    }
    const SharedString& s = shared[static_cast<size_t>(index)];
    if (s.oversize) {
      return ErrorCell(OversizeReason(), true);
    }
    out.kind = CellKind::kText;
    out.shared = s.text;
    return out;
  }
  if (value.size() > kMaxCellBytes) {
    return ErrorCell(OversizeReason(), true);
  }
  if (type == "str" || type == "d") {
    out.kind = CellKind::kText;
    out.text = DecodeOoxmlEscapes(value);
    return out;
  }
  if (type == "b") {
    out.kind = CellKind::kBool;
    out.text.push_back(Trim(value) == "1" || Trim(value) == "true" ? '1' : '0');
    return out;
  }
  if (type == "e") {
    return ErrorCell(absl::StrCat("holds the error value ", AV(Clip(value, 16)),
                                  ": correct the cell or its formula"));
  }
  if (!type.empty() && type != "n") {
    return ErrorCell("has a cell type this importer does not know");
  }
  if (!absl::SimpleAtod(AV(Trim(value)), &out.number) || !std::isfinite(out.number)) {
    return ErrorCell("holds a number that is not readable");
  }
  out.text = std::string(Trim(value));
  const int64_t style = Attr(c, "s").as_llong(0);
  out.kind = style >= 0 && style < static_cast<int64_t>(date_styles.size()) &&
                     date_styles[static_cast<size_t>(style)]
                 ? CellKind::kDateNumber
                 : CellKind::kNumber;
  return out;
}

absl::Status ReadXlsx(std::string_view bytes, RowMapper& mapper) {
  ASSIGN_OR_RETURN(ZipParts zip, ZipParts::Open(bytes));
  ASSIGN_OR_RETURN(WorkbookParts parts, FindParts(zip));
  mapper.set_date1904(parts.date1904);

  std::vector<SharedString> shared;
  {
    ASSIGN_OR_RETURN(std::optional<std::string> text, zip.Read(parts.shared_strings));
    if (text.has_value()) {
      pugi::xml_document doc;
      ASSIGN_OR_RETURN(pugi::xml_node root, ParseXml(*text, parts.shared_strings, doc));
      for (pugi::xml_node si = root.first_child(); si; si = si.next_sibling()) {
        if (si.type() == pugi::node_element && LocalName(si) == "si") {
          SharedString s;
          s.text = std::make_shared<const std::string>(StringItemText(si, &s.oversize));
          shared.push_back(std::move(s));
        }
      }
    }
  }
  std::vector<bool> date_styles;
  {
    ASSIGN_OR_RETURN(std::optional<std::string> text, zip.Read(parts.styles));
    if (text.has_value()) {
      pugi::xml_document doc;
      ASSIGN_OR_RETURN(pugi::xml_node root, ParseXml(*text, parts.styles, doc));
      date_styles = DateStyles(root);
    }
  }

  ASSIGN_OR_RETURN(std::optional<std::string> sheet_text, zip.Read(parts.sheet));
  if (!sheet_text.has_value()) {
    return FileError(absl::StrCat("is a damaged .xlsx workbook (", parts.sheet, " is missing)"));
  }
  pugi::xml_document doc;
  ASSIGN_OR_RETURN(pugi::xml_node root, ParseXml(*sheet_text, parts.sheet, doc));
  const pugi::xml_node data = Child(root, "sheetData");
  int32_t previous_row = 0;
  std::vector<ColumnCell> cells;
  for (pugi::xml_node r = data.first_child(); r; r = r.next_sibling()) {
    if (r.type() != pugi::node_element || LocalName(r) != "row") {
      continue;
    }
    const int64_t number = Attr(r, "r") ? Attr(r, "r").as_llong(0) : previous_row + 1;
    if (number <= previous_row || number > kMaxSheetRow) {
      return FileError(absl::StrCat(
          "is a damaged .xlsx workbook (row numbers out of order after row ", previous_row, ")"));
    }
    previous_row = static_cast<int32_t>(number);
    cells.clear();
    int32_t previous_column = -1;
    for (pugi::xml_node c = r.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element || LocalName(c) != "c") {
        continue;
      }
      int32_t column = previous_column + 1;
      if (pugi::xml_attribute ref = Attr(c, "r")) {
        const std::string_view text = ref.as_string();
        const size_t letters = text.find_first_of("0123456789");
        column = ColumnIndex(text.substr(0, letters));
      }
      if (column < 0 || column >= kMaxColumns || column <= previous_column) {
        return FileError(absl::StrCat("is a damaged .xlsx workbook (a bad cell reference in row ",
                                      previous_row, ")"));
      }
      previous_column = column;
      Cell cell = ReadCell(c, shared, date_styles);
      if (cell.kind == CellKind::kEmpty) {
        continue;
      }
      cells.push_back({.column = column, .cell = std::move(cell)});
    }
    RETURN_IF_ERROR(mapper.Add(previous_row, cells));
  }
  return absl::OkStatus();
}

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
  ASSIGN_OR_RETURN(std::string text, CsvText(bytes));
  RowMapper mapper(false);
  RETURN_IF_ERROR(ReadCsv(text, mapper));
  return std::move(mapper).Finish();
}

absl::StatusOr<ParsedImport> ParseMemberXlsx(std::string_view bytes) {
  RETURN_IF_ERROR(CheckSize(bytes));
  RowMapper mapper(false);
  RETURN_IF_ERROR(ReadXlsx(bytes, mapper));
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
