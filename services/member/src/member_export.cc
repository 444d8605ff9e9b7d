// Member list and dues sheet export: .xlsx through libxlsxwriter (which writes only to a file,
// so through a private temporary directory) and CSV, cells always as text.
#include "services/member/src/member_export.h"

#include <stdlib.h>
#include <xlsxwriter.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"
#include "common/time/civil_date.h"

namespace dj::member {

namespace pb = dangjian::member::v1;

namespace {

constexpr size_t kMaxXlsxRows = 1048576;  // a worksheet's rows, the header included
constexpr size_t kMaxXlsxColumns = 16384;
constexpr size_t kMaxXlsxCellChars = 32767;  // Excel's limit for one cell
constexpr size_t kMaxSheetNameChars = 31;

size_t Utf8Chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++n;
    }
  }
  return n;
}

// A tab name Excel accepts: no []:*?/\, no apostrophe at either end, 1-31 characters.
std::string SheetName(std::string_view name) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < name.size() && chars < kMaxSheetNameChars;) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    std::string_view ch = name.substr(i, len);
    if (ch.size() == 1 &&
        (std::string_view("[]:*?/\\").find(ch[0]) != std::string_view::npos || c < 0x20)) {
      ch = "_";
    }
    out.append(ch);
    i += len;
    ++chars;
  }
  if (out.starts_with('\'')) {
    out[0] = '_';
  }
  if (out.ends_with('\'')) {
    out.back() = '_';
  }
  return out.empty() ? "Sheet1" : out;
}

// OWASP: a spreadsheet program treats a cell starting with one of these as a formula.
// Apostrophes already leading a cell ("'=x") get one more, so that the importer, which removes
// one, gives the cell back as it was.
bool NeedsInjectionGuard(std::string_view cell) {
  const size_t first = cell.find_first_not_of('\'');
  return first != std::string_view::npos &&
         std::string_view("=+-@\t\r").find(cell[first]) != std::string_view::npos;
}

void AppendCsvCell(std::string_view cell, std::string& out) {
  std::string value;
  if (NeedsInjectionGuard(cell)) {
    value = absl::StrCat("'", AV(cell));
    cell = value;
  }
  if (cell.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(cell);
    return;
  }
  out.push_back('"');
  for (char c : cell) {
    if (c == '"') {
      out.push_back('"');
    }
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendCsvRow(const std::vector<std::string>& row, std::string& out) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) {
      out.push_back(',');
    }
    AppendCsvCell(row[i], out);
  }
  out.append("\r\n");
}

absl::Status CheckCells(const Sheet& sheet) {
  if (sheet.rows.size() + 1 > kMaxXlsxRows) {
    return rpc::InvalidArgument(
        {{"rows", absl::StrCat("a worksheet holds at most ", kMaxXlsxRows - 1,
                               " rows under its header; got ", sheet.rows.size())}});
  }
  auto check_row = [](const std::vector<std::string>& row, size_t number) -> absl::Status {
    if (row.size() > kMaxXlsxColumns) {
      return rpc::InvalidArgument(
          {{"rows", absl::StrCat("row ", number, " has more than ", kMaxXlsxColumns, " columns")}});
    }
    for (size_t col = 0; col < row.size(); ++col) {
      if (Utf8Chars(row[col]) > kMaxXlsxCellChars) {
        return rpc::InvalidArgument(
            {{"rows", absl::StrCat("row ", number, " column ", col + 1, " is over ",
                                   kMaxXlsxCellChars, " characters, more than a cell holds")}});
      }
    }
    return absl::OkStatus();
  };
  if (absl::Status s = check_row(sheet.header, 1); !s.ok()) {
    return s;
  }
  for (size_t r = 0; r < sheet.rows.size(); ++r) {
    if (absl::Status s = check_row(sheet.rows[r], r + 2); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// Removes the temporary directory however WriteXlsx returns.
struct TempDir {
  std::string path;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

std::string Date(bool has, const google::type::Date& d) {
  if (!has || d.year() == 0) {
    return "";
  }
  return time::ToIso({d.year(), d.month(), d.day()});
}

std::string GenderWord(pb::Gender g) {
  switch (g) {
    case pb::MALE:
      return "男";
    case pb::FEMALE:
      return "女";
    default:
      return "";
  }
}

std::string EducationWord(pb::Education e) {
  switch (e) {
    case pb::PRIMARY:
      return "小学";
    case pb::JUNIOR_SECONDARY:
      return "初中";
    case pb::SENIOR_SECONDARY:
      return "高中";
    case pb::JUNIOR_COLLEGE:
      return "大专";
    case pb::BACHELOR:
      return "大学本科";
    case pb::MASTER:
      return "硕士研究生";
    case pb::DOCTORATE:
      return "博士研究生";
    default:
      return "";
  }
}

std::string StageWord(pb::Stage s) {
  switch (s) {
    case pb::APPLICANT:
      return "入党申请人";
    case pb::ACTIVIST:
      return "入党积极分子";
    case pb::CANDIDATE:
      return "发展对象";
    case pb::PROBATIONARY:
      return "预备党员";
    case pb::FULL:
      return "正式党员";
    default:
      return "";
  }
}

std::string StatusWord(pb::MembershipStatus s) {
  switch (s) {
    case pb::NORMAL:
      return "正常";
    case pb::SUSPENDED:
      return "停止党籍";
    case pb::LOST_CONTACT:
      return "失联";
    case pb::MOBILE:
      return "流动党员";
    case pb::LEFT:
      return "出党";
    case pb::DECEASED:
      return "去世";
    default:
      return "";
  }
}

}  // namespace

std::string CategoryWord(pb::MemberCategory c) {
  switch (c) {
    case pb::IN_SERVICE:
      return "在职";
    case pb::RETIRED:
      return "离退休";
    case pb::STUDENT:
      return "学生";
    case pb::OTHER:
      return "其他";
    default:
      return "";
  }
}

absl::StatusOr<std::string> WriteXlsx(const Sheet& sheet) {
  if (absl::Status s = CheckCells(sheet); !s.ok()) {
    return s;
  }
  std::error_code ec;
  std::string dir_template = (std::filesystem::temp_directory_path(ec) / "dj-xlsx-XXXXXX").string();
  if (ec || mkdtemp(dir_template.data()) == nullptr) {  // mode 0700: private to this process' user
    return absl::InternalError("cannot create a temporary directory for the .xlsx export");
  }
  const TempDir dir{dir_template};
  const std::string path = dir.path + "/export.xlsx";

  // constant_memory: each row goes to the temporary directory as it is written, so a large
  // export does not hold the whole sheet twice in memory; strings are written inline.
  lxw_workbook_options options = {
      .constant_memory = LXW_TRUE, .tmpdir = dir_template.data(), .use_zip64 = LXW_FALSE};
  lxw_workbook* workbook = workbook_new_opt(path.c_str(), &options);
  if (workbook == nullptr) {
    return absl::InternalError("cannot start the .xlsx export");
  }
  lxw_worksheet* worksheet = workbook_add_worksheet(workbook, SheetName(sheet.name).c_str());
  lxw_format* bold = workbook_add_format(workbook);
  if (worksheet == nullptr || bold == nullptr) {
    workbook_close(workbook);
    return absl::InternalError("cannot add the worksheet to the .xlsx export");
  }
  format_set_bold(bold);
  lxw_error error = LXW_NO_ERROR;
  auto write_row = [&](const std::vector<std::string>& row, lxw_row_t r, lxw_format* format) {
    for (size_t c = 0; c < row.size() && error == LXW_NO_ERROR; ++c) {
      if (row[c].empty()) {
        continue;
      }
      // Always a string cell, never worksheet_write_formula: "=HYPERLINK(...)" stays text.
      error =
          worksheet_write_string(worksheet, r, static_cast<lxw_col_t>(c), row[c].c_str(), format);
    }
  };
  write_row(sheet.header, 0, bold);
  for (size_t r = 0; r < sheet.rows.size() && error == LXW_NO_ERROR; ++r) {
    write_row(sheet.rows[r], static_cast<lxw_row_t>(r + 1), nullptr);
  }
  if (error == LXW_NO_ERROR) {
    worksheet_freeze_panes(worksheet, 1, 0);
  }
  const lxw_error closed = workbook_close(workbook);  // frees the workbook
  if (error != LXW_NO_ERROR || closed != LXW_NO_ERROR) {
    return absl::InternalError(absl::StrCat("the .xlsx export failed: ",
                                            lxw_strerror(error != LXW_NO_ERROR ? error : closed)));
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return absl::InternalError("cannot read back the .xlsx export");
  }
  return bytes;
}

std::string WriteCsv(const Sheet& sheet) {
  std::string out = "\xEF\xBB\xBF";
  AppendCsvRow(sheet.header, out);
  for (const std::vector<std::string>& row : sheet.rows) {
    AppendCsvRow(row, out);
  }
  return out;
}

Sheet MemberSheet(const std::vector<pb::Member>& members) {
  Sheet sheet;
  sheet.name = "党员名册";
  sheet.header = {"姓名",
                  "性别",
                  "民族",
                  "出生日期",
                  "身份证号",
                  "手机号",
                  "学历",
                  "工作单位",
                  "职务",
                  "人员类别",
                  "党员类别",
                  "申请入党日期",
                  "确定积极分子日期",
                  "确定发展对象日期",
                  "入党日期",
                  "转正日期",
                  "党务干部",
                  "报到社区",
                  "报到日期",
                  "党籍状态",
                  "党龄"};
  sheet.rows.reserve(members.size());
  for (const pb::Member& m : members) {
    sheet.rows.push_back({
        m.display_name(),
        GenderWord(m.gender()),
        m.ethnicity(),
        Date(m.has_birth_date(), m.birth_date()),
        m.id_number(),
        m.phone(),
        EducationWord(m.education()),
        m.work_unit(),
        m.job_title(),
        CategoryWord(m.category()),
        StageWord(m.stage()),
        Date(m.has_application_date(), m.application_date()),
        Date(m.has_activist_date(), m.activist_date()),
        Date(m.has_candidate_date(), m.candidate_date()),
        Date(m.has_join_date(), m.join_date()),
        Date(m.has_full_member_date(), m.full_member_date()),
        m.party_affairs_cadre() ? "是" : "否",
        m.residence_community(),
        Date(m.has_community_report_date(), m.community_report_date()),
        StatusWord(m.status()),
        m.has_full_member_date() ? absl::StrCat(m.party_standing_years()) : "",
    });
  }
  return sheet;
}

}  // namespace dj::member
