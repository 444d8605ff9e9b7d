// Member list import and export, plain C++: CSV in UTF-8 (BOM or not) and GB18030, RFC 4180
// quoting, .xlsx files written by another program (openpyxl, through /usr/bin/python3) and by
// hand (shared strings, rich text, styles, formulas with and without a saved result), every way
// an upload can be hostile or broken (truncated, not a zip, a zip bomb, a 1 MB cell, too many
// rows, wrong encoding), export read back by openpyxl, the CSV injection guard, and a round
// trip export -> import.
#include <stdlib.h>
#include <sys/resource.h>
#include <zip.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <iconv.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/member/src/id_number.h"
#include "services/member/src/member_export.h"
#include "services/member/src/member_import.h"

namespace dj::member {
namespace {

namespace pb = dangjian::member::v1;
using google::protobuf::util::MessageDifferencer;

// A valid ID number whose check character is a digit (openpyxl may store it as an integer).
std::string IdNumber(const time::CivilDate& birth, int32_t sequence) {
  for (int32_t s = sequence;; s += 2) {
    std::string id = MakeIdNumber("320681", birth, s);
    if (id.back() != 'X') {
      return id;
    }
  }
}

const std::string& Id1() {
  static const std::string* const kId = new std::string(IdNumber({1990, 1, 2}, 123));
  return *kId;
}
const std::string& Id2() {
  static const std::string* const kId = new std::string(IdNumber({1985, 12, 31}, 24));
  return *kId;
}

google::type::Date D(int32_t y, int32_t m, int32_t d) {
  google::type::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

std::string Iso(const google::type::Date& d) { return time::ToIso({d.year(), d.month(), d.day()}); }

// The one field violation of a file-level refusal, which must be on "file".
std::string FileProblem(const absl::StatusOr<ParsedImport>& r) {
  if (r.ok()) {
    return "(accepted)";
  }
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  const std::vector<rpc::FieldViolation> v = rpc::Violations(r.status());
  if (v.size() != 1 || v[0].field != "file") {
    ADD_FAILURE() << "expected one violation on \"file\": " << r.status();
    return "";
  }
  return v[0].description;
}

std::string Errors(const ParsedImport& p) {
  std::string out;
  for (const ImportError& e : p.errors) {
    absl::StrAppend(&out, e.row, " [", e.column, "] ", e.reason, "\n");
  }
  return out;
}

// No reason, warning or file-level description names an ID number or a phone number.
void ExpectNoPersonalData(std::string_view text) {
  for (const std::string& id : {Id1(), Id2()}) {
    EXPECT_EQ(text.find(id), std::string_view::npos) << text;
    EXPECT_EQ(text.find(id.substr(0, 10)), std::string_view::npos) << text;
  }
  EXPECT_EQ(text.find("13812345678"), std::string_view::npos) << text;
}

void ExpectNoPersonalData(const ParsedImport& p) {
  ExpectNoPersonalData(Errors(p));
  for (const std::string& w : p.warnings) {
    ExpectNoPersonalData(w);
  }
}

// --- files, programs, zips ---

class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "dj-import-test-XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
    }
    path_ = t;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(std::string_view name) const { return absl::StrCat(path_, "/", AV(name)); }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

constexpr const char* kPython = "/usr/bin/python3";

bool HasOpenpyxl() {
  static const bool kHas =
      std::system(absl::StrCat(kPython, " -c 'import openpyxl' >/dev/null 2>&1").c_str()) == 0;
  return kHas;
}

// Runs `script` with /usr/bin/python3 and `args`; its standard output, or a failure.
std::string RunPython(const TempDir& dir, std::string_view script, std::string_view args) {
  WriteFile(dir.File("script.py"), script);
  const std::string command = absl::StrCat(kPython, " ", dir.File("script.py"), " ", AV(args), " >",
                                           dir.File("stdout"), " 2>", dir.File("stderr"));
  if (std::system(command.c_str()) != 0) {
    ADD_FAILURE() << "python failed: " << ReadFile(dir.File("stderr"));
  }
  return ReadFile(dir.File("stdout"));
}

struct Part {
  std::string name;
  std::string_view data;
};

// A zip archive in memory, written by libzip.
std::string ZipOf(const std::vector<Part>& parts, uint32_t level = 6) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_t* zip = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  EXPECT_NE(zip, nullptr);
  zip_source_keep(buffer);
  for (const Part& p : parts) {
    zip_source_t* s = zip_source_buffer(zip, p.data.data(), p.data.size(), 0);
    const zip_int64_t index = zip_file_add(zip, p.name.c_str(), s, ZIP_FL_ENC_UTF_8);
    EXPECT_GE(index, 0);
    zip_set_file_compression(zip, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, level);
  }
  EXPECT_EQ(zip_close(zip), 0);
  std::string out;
  EXPECT_EQ(zip_source_open(buffer), 0);
  zip_source_seek(buffer, 0, SEEK_END);
  out.resize(static_cast<size_t>(zip_source_tell(buffer)));
  zip_source_seek(buffer, 0, SEEK_SET);
  EXPECT_EQ(zip_source_read(buffer, out.data(), out.size()), static_cast<zip_int64_t>(out.size()));
  zip_source_close(buffer);
  zip_source_free(buffer);
  zip_error_fini(&error);
  return out;
}

constexpr char kMainNs[] = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

// A workbook whose FIRST sheet (in workbook order) is xl/worksheets/sheet2.xml = `sheet`, with
// a decoy sheet1.xml that must not be read.
std::string Workbook(std::string_view sheet, std::string_view shared_strings = "",
                     std::string_view styles = "", bool date1904 = false) {
  static const std::string* const kDecoy = new std::string(absl::StrCat(
      "<worksheet xmlns=\"", kMainNs,
      "\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>decoy</t></is></c></row>"
      "</sheetData></worksheet>"));
  const std::string workbook = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"", kMainNs,
      "\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
      "<workbookPr date1904=\"",
      date1904 ? "1" : "0",
      "\"/><sheets><sheet name=\"名册\" sheetId=\"2\" r:id=\"rId3\"/>"
      "<sheet name=\"decoy\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>");
  const std::string rels =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships "
      "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
      "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
      "relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
      "<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
      "relationships/worksheet\" Target=\"worksheets/sheet2.xml\"/>"
      "<Relationship Id=\"rId4\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
      "relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>"
      "<Relationship Id=\"rId5\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
      "relationships/styles\" Target=\"styles.xml\"/></Relationships>";
  std::vector<Part> parts = {{"xl/workbook.xml", workbook},
                             {"xl/_rels/workbook.xml.rels", rels},
                             {"xl/worksheets/sheet1.xml", *kDecoy},
                             {"xl/worksheets/sheet2.xml", sheet}};
  if (!shared_strings.empty()) {
    parts.push_back({"xl/sharedStrings.xml", shared_strings});
  }
  if (!styles.empty()) {
    parts.push_back({"xl/styles.xml", styles});
  }
  return ZipOf(parts);
}

std::string Inline(std::string_view ref, std::string_view text) {
  return absl::StrCat("<x:c r=\"", AV(ref), "\" t=\"inlineStr\"><x:is><x:t>", AV(text),
                      "</x:t></x:is></x:c>");
}

// A sheet (namespace-prefixed, as the OpenXML SDK writes it) whose header is 姓名, 身份证号,
// 工作单位 and whose row 2 has `cell` in 工作单位 (column C).
std::string OneCellSheet(std::string_view cell) {
  return absl::StrCat("<x:worksheet xmlns:x=\"", kMainNs, "\"><x:sheetData><x:row r=\"1\">",
                      Inline("A1", "姓名"), Inline("B1", "身份证号"), Inline("C1", "工作单位"),
                      "</x:row><x:row r=\"2\">", Inline("A2", "张三"), Inline("B2", Id1()),
                      AV(cell), "</x:row></x:sheetData></x:worksheet>");
}

std::string Iconv(const char* to, const char* from, std::string_view in) {
  iconv_t cd = iconv_open(to, from);
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string out(in.size() * 4 + 8, '\0');
  char* in_ptr = const_cast<char*>(in.data());
  size_t in_left = in.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  EXPECT_NE(iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left), static_cast<size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

// --- CSV ---

std::string MemberCsv(const std::string& eol) {
  return absl::StrCat(
      "姓名,性别,民族,出生日期,身份证号,手机号,学历,工作单位,职务,人员类别,党员类别,申请入党日期,"
      "入党日期,转正日期,党务干部,报到社区,报到日期",
      eol, "张三,男,汉族,1990-01-02,", Id1(),
      ",138 1234 5678,大学本科,市发改委,科员,在职,正式党员,2008/3/1,2010年6月30日,20110630,是,"
      "文峰社区,2020.7.1",
      eol, " 李四 ,女,回族,1985/12/31,", Id2(),
      ",0513-12345678,硕士,,,离退休,预备党员,,2024-02-29 00:00:00,,否,,", eol);
}

void ExpectMemberCsvRows(const ParsedImport& p) {
  ASSERT_TRUE(p.errors.empty()) << Errors(p);
  EXPECT_TRUE(p.warnings.empty());
  ASSERT_EQ(p.rows.size(), 2u);
  const pb::Member& a = p.rows[0].member;
  EXPECT_EQ(p.rows[0].row, 2);
  EXPECT_EQ(a.display_name(), "张三");
  EXPECT_EQ(a.gender(), pb::MALE);
  EXPECT_EQ(a.ethnicity(), "汉族");
  EXPECT_EQ(Iso(a.birth_date()), "1990-01-02");
  EXPECT_EQ(a.id_number(), Id1());
  EXPECT_EQ(a.phone(), "138 1234 5678");  // normalized later by CreateMember's checks
  EXPECT_EQ(a.education(), pb::BACHELOR);
  EXPECT_EQ(a.work_unit(), "市发改委");
  EXPECT_EQ(a.job_title(), "科员");
  EXPECT_EQ(a.category(), pb::IN_SERVICE);
  EXPECT_EQ(a.stage(), pb::FULL);
  EXPECT_EQ(Iso(a.application_date()), "2008-03-01");
  EXPECT_EQ(Iso(a.join_date()), "2010-06-30");
  EXPECT_EQ(Iso(a.full_member_date()), "2011-06-30");
  EXPECT_TRUE(a.party_affairs_cadre());
  EXPECT_EQ(a.residence_community(), "文峰社区");
  EXPECT_EQ(Iso(a.community_report_date()), "2020-07-01");
  const pb::Member& b = p.rows[1].member;
  EXPECT_EQ(p.rows[1].row, 3);
  EXPECT_EQ(b.display_name(), "李四");  // trimmed
  EXPECT_EQ(b.gender(), pb::FEMALE);
  EXPECT_EQ(b.education(), pb::MASTER);
  EXPECT_EQ(b.category(), pb::RETIRED);
  EXPECT_EQ(b.stage(), pb::PROBATIONARY);
  EXPECT_EQ(Iso(b.join_date()), "2024-02-29");
  EXPECT_FALSE(b.has_full_member_date());
  EXPECT_FALSE(b.has_application_date());
  EXPECT_FALSE(b.party_affairs_cadre());
  EXPECT_EQ(p.columns.at("id_number"), "身份证号");
}

TEST(ParseMemberCsv, Utf8WithAndWithoutBomLfAndCrlf) {
  for (const char* bom : {"", "\xEF\xBB\xBF"}) {
    for (const char* eol : {"\n", "\r\n"}) {
      SCOPED_TRACE(absl::StrCat("bom ", std::strlen(bom), " eol ", std::strlen(eol)));
      absl::StatusOr<ParsedImport> r = ParseMemberCsv(absl::StrCat(bom, MemberCsv(eol)));
      ASSERT_TRUE(r.ok()) << r.status();
      ExpectMemberCsvRows(*r);
    }
  }
}

TEST(ParseMemberCsv, Gb18030AsChineseExcelSavesIt) {
  const std::string gb = Iconv("GB18030", "UTF-8", MemberCsv("\r\n"));
  ASSERT_NE(gb, MemberCsv("\r\n"));
  absl::StatusOr<ParsedImport> r = ParseMemberCsv(gb);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectMemberCsvRows(*r);
  // And through the content sniffing entry point, whatever the name says.
  r = ParseMemberFile(gb, "名册.csv");
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectMemberCsvRows(*r);
}

TEST(ParseMemberCsv, Rfc4180Quoting) {
  const std::string csv = absl::StrCat(
      "姓名,身份证号,工作单位,职务\r\n", "\"王, 五\",", Id1(),
      ",\"某某公司\r\n第一车间\",\"他说\"\"好\"\"\"\r\n", "赵六,\"", Id2(), "\",\"a\"\"b\",\n",
      "\"\",,,\r\n",             // blank: skipped
      "孙七,", Id1(), ",last");  // no line end at the end of the file
  absl::StatusOr<ParsedImport> r = ParseMemberCsv(csv);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->errors.empty()) << Errors(*r);
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->rows[0].row, 2);
  EXPECT_EQ(r->rows[0].member.display_name(), "王, 五");
  EXPECT_EQ(r->rows[0].member.work_unit(), "某某公司\r\n第一车间");
  EXPECT_EQ(r->rows[0].member.job_title(), "他说\"好\"");
  EXPECT_EQ(r->rows[1].row, 3);  // the line break inside quotes does not start a row
  EXPECT_EQ(r->rows[1].member.id_number(), Id2());
  EXPECT_EQ(r->rows[1].member.work_unit(), "a\"b");
  EXPECT_EQ(r->rows[2].row, 5);
  EXPECT_EQ(r->rows[2].member.work_unit(), "last");
}

TEST(ParseMemberCsv, HeadersByAliasSpacesMarksTitleRowsAndUnknownColumns) {
  const std::string csv =
      absl::StrCat("某某党支部党员花名册,,,,\n", ",,,,\n",
                   "*姓  名,公民身份号码（必填）,联系电话,发展阶段,备注,党籍状态\n", "张三,", Id1(),
                   ",13812345678,入党积极分子,爱好书法,正常\n");
  absl::StatusOr<ParsedImport> r = ParseMemberCsv(csv);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->errors.empty()) << Errors(*r);
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].row, 4);
  EXPECT_EQ(r->rows[0].member.display_name(), "张三");
  EXPECT_EQ(r->rows[0].member.id_number(), Id1());
  EXPECT_EQ(r->rows[0].member.phone(), "13812345678");
  EXPECT_EQ(r->rows[0].member.stage(), pb::ACTIVIST);
  EXPECT_EQ(r->columns.at("id_number"), "公民身份号码（必填）");
  EXPECT_EQ(ImportColumnFor(*r, "member.id_number"), "公民身份号码（必填）");
  EXPECT_EQ(ImportColumnFor(*r, "member.organization"), "member.organization");
  // 备注 is reported, 党籍状态 (an export's output-only column) is not.
  ASSERT_EQ(r->warnings.size(), 2u) << absl::StrJoin(r->warnings, "\n");
  EXPECT_EQ(r->warnings[0], "rows 1-2 above the header row were skipped");
  EXPECT_EQ(r->warnings[1], "column E (备注) is not a member field: ignored");
  ExpectNoPersonalData(*r);
}

TEST(ParseMemberCsv, FileLevelRefusals) {
  struct Case {
    std::string name;
    std::string bytes;
    std::string problem;  // a part of the description
  };
  const std::string header = "姓名,身份证号\n";
  std::string many_rows = header;
  for (int32_t i = 0; i < kMaxImportRows + 1; ++i) {
    absl::StrAppend(&many_rows, "张", i, ",", Id1(), "\n");
  }
  const std::vector<Case> cases = {
      {"empty", "", "is empty"},
      {"only blank lines", "\n\r\n,,\n", "has no rows"},
      {"missing required header", "姓名,手机号\n张三,13812345678\n",
       "has no column 身份证号 / id_number in its header row (row 1)"},
      {"both required missing", "备注\nx\n",
       "has no column 姓名 / display_name, 身份证号 / id_number"},
      {"duplicate column",
       absl::StrCat("姓名,身份证号,公民身份号码\n张三,", Id1(), ",", Id1(), "\n"),
       "has two columns for 身份证号 / id_number: B and C"},
      {"neither UTF-8 nor GB18030", absl::StrCat(header, "张三,\x80\xFF\x80\n"),
       "is neither UTF-8 nor GB18030"},
      {"UTF-8 BOM but not UTF-8", absl::StrCat("\xEF\xBB\xBF", header, "\xC3\x28\n"),
       "starts with a UTF-8 byte order mark but is not valid UTF-8"},
      {"UTF-16", "\xFF\xFE\x53\x59", "is UTF-16"},
      {"quote never closed", absl::StrCat(header, "张三,\"", Id1(), "\n"),
       "has a quoted field opened in row 2 that is never closed"},
      {"too many rows", many_rows, "has more than 50000 member rows"},
      {"too large", std::string(kMaxImportFileBytes + 1, 'a'), "is larger than 20 MB"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string problem = FileProblem(ParseMemberCsv(c.bytes));
    EXPECT_NE(problem.find(c.problem), std::string::npos) << problem;
    ExpectNoPersonalData(problem);
  }
}

TEST(ParseMemberCsv, CellErrorsNameRowAndColumnNotTheValue) {
  const std::string big(kMaxCellBytes + 1, 'x');
  const std::string csv =
      absl::StrCat("姓名,身份证号,性别,学历,人员类别,党员类别,出生日期,党务干部,工作单位\n",
                   "张三,", Id1(), ",未知,幼儿园,群众,党员,1990-02-30,也许,市委\n", "李四,", Id2(),
                   ",女,本科,在职,正式党员,7/1/2020,否,", big, "\n", "王五,", Id1(),
                   ",男,高中,学生,发展对象,1990-01-01,1,\"", big, "\"\n");
  absl::StatusOr<ParsedImport> r = ParseMemberCsv(csv);
  ASSERT_TRUE(r.ok()) << r.status();
  struct Expected {
    int32_t row;
    std::string column;
    std::string reason;
  };
  const std::vector<Expected> expected = {
      {2, "性别", "性别 / gender: must be 男 or 女"},
      {2, "学历",
       "学历 / education: must be one of 小学, 初中, 高中, 中专, 大专, 大学本科, "
       "硕士研究生, 博士研究生"},
      {2, "人员类别", "人员类别 / category: must be one of 在职, 离退休, 学生, 其他"},
      {2, "党员类别",
       "党员类别 / stage: must be one of 正式党员, 预备党员, 发展对象, "
       "入党积极分子, 入党申请人"},
      {2, "出生日期",
       "出生日期 / birth_date: not a date: write it as 2020-07-01, 2020/7/1, "
       "2020年7月1日 or 20200701"},
      {2, "党务干部", "党务干部 / party_affairs_cadre: must be 是 or 否"},
      {3, "出生日期",
       "出生日期 / birth_date: not a date: write it as 2020-07-01, 2020/7/1, "
       "2020年7月1日 or 20200701"},
      {3, "工作单位", "the cell is over 1 MB"},
      {4, "工作单位", "the cell is over 1 MB"},
  };
  ASSERT_EQ(r->errors.size(), expected.size()) << Errors(*r);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r->errors[i].row, expected[i].row) << i;
    EXPECT_EQ(r->errors[i].column, expected[i].column) << i;
    EXPECT_EQ(r->errors[i].reason, expected[i].reason) << i;
  }
  // The rows are still there (CreateMember's checks are reported for them too).
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->rows[0].member.gender(), pb::GENDER_UNSPECIFIED);
  EXPECT_TRUE(r->rows[1].member.work_unit().empty());
  EXPECT_EQ(r->rows[2].member.education(), pb::SENIOR_SECONDARY);
  EXPECT_TRUE(r->rows[2].member.party_affairs_cadre());
}

TEST(ParseImportDate, Forms) {
  struct Case {
    std::string in;
    std::string want;  // "" when refused
  };
  const std::vector<Case> cases = {
      {"2020-07-01", "2020-07-01"},
      {"2020/7/1", "2020-07-01"},
      {"2020.7.1", "2020-07-01"},
      {"2020年7月1日", "2020-07-01"},
      {"2020年7月1", "2020-07-01"},
      {"20200701", "2020-07-01"},
      {" 2024-02-29 ", "2024-02-29"},
      {"2020-07-01 00:00:00", "2020-07-01"},
      {"2020-07-01T08:00:00Z", "2020-07-01"},
      {"2023-02-29", ""},
      {"2020-13-01", ""},
      {"2020-00-10", ""},
      {"2020-7", ""},
      {"7/1/2020", ""},
      {"2020-07/01", ""},
      {"20201301", ""},
      {"2020-07-01 noon", ""},
      {"", ""},
      {"2020-07-01-02", ""},
      {"02020-07-01", ""},
  };
  for (const Case& c : cases) {
    google::type::Date d;
    const bool ok = ParseImportDate(c.in, &d);
    EXPECT_EQ(ok, !c.want.empty()) << c.in;
    if (ok) {
      EXPECT_EQ(Iso(d), c.want) << c.in;
    }
  }
}

TEST(ExcelSerialDate, The1900And1904Systems) {
  struct Case {
    double serial;
    bool date1904;
    std::string want;  // "" when refused
  };
  const std::vector<Case> cases = {
      {0, false, ""},
      {1, false, "1900-01-01"},
      {59, false, "1900-02-28"},
      {60, false, ""},  // Excel's 1900-02-29, which never was
      {61, false, "1900-03-01"},
      {43831, false, "2020-01-01"},
      {44013, false, "2020-07-01"},
      {44013.75, false, "2020-07-01"},  // a time of day is dropped
      {2958465, false, "9999-12-31"},
      {2958466, false, ""},
      {-1, false, ""},
      {0, true, "1904-01-01"},
      {42551, true, "2020-07-01"},
  };
  for (const Case& c : cases) {
    google::type::Date d;
    const bool ok = ExcelSerialDate(c.serial, c.date1904, &d);
    EXPECT_EQ(ok, !c.want.empty()) << c.serial;
    if (ok) {
      EXPECT_EQ(Iso(d), c.want) << c.serial;
    }
  }
}

// --- xlsx written by openpyxl ---

constexpr std::string_view kOpenpyxlScript = R"PY(
import datetime, re, sys, zipfile
import openpyxl
out, id1, id2 = sys.argv[1], sys.argv[2], sys.argv[3]
wb = openpyxl.Workbook()
ws = wb.active
ws.title = '党员'
ws.append(['某某支部党员名册'])
ws.append(['姓名', '性别', '出生日期', '公民身份号码', '联系电话', '学历', '人员类别', '发展阶段',
           '入党日期', '转正日期', '党务干部', '工作单位', '报到日期', '备注'])
ws.append(['张三', '男', datetime.date(1990, 1, 2), id1, 13812345678, '本科', '在职', '正式党员',
           datetime.date(2019, 6, 30), datetime.datetime(2020, 6, 30, 0, 0), True, '=1+1',
           '2020年7月1日', '备注'])
ws.append(['李四', '女', datetime.date(1985, 12, 31), int(id2), '0513-12345678', '硕士', '离退休',
           '预备党员', datetime.date(2024, 2, 29), None, False, '某单位', 20200701, None])
wb.save(out + '/no_cache.xlsx')
# The same file with the formula's result saved, as Excel would have done.
src = zipfile.ZipFile(out + '/no_cache.xlsx')
dst = zipfile.ZipFile(out + '/cached.xlsx', 'w', zipfile.ZIP_DEFLATED)
for item in src.infolist():
    data = src.read(item.filename)
    if item.filename == 'xl/worksheets/sheet1.xml':
        pattern = (r'<c r="L3"([^>]*)><f>([^<]*)</f><v\s*/>'
                   r'|<c r="L3"([^>]*)><f>([^<]*)</f><v></v>')
        def saved(m):
            formula = m.group(2) or m.group(4)
            return '<c r="L3" t="str"><f>%s</f><v>某某公司</v>' % formula
        text, n = re.subn(pattern, saved, data.decode('utf-8'))
        assert n == 1, data
        data = text.encode('utf-8')
    dst.writestr(item, data)
dst.close()
)PY";

TEST(ParseMemberXlsx, WrittenByOpenpyxl) {
  if (!HasOpenpyxl()) {
    GTEST_SKIP() << "/usr/bin/python3 has no openpyxl";
  }
  TempDir dir;
  RunPython(dir, kOpenpyxlScript, absl::StrCat(dir.File(""), " ", Id1(), " ", Id2()));
  for (const bool cached : {false, true}) {
    SCOPED_TRACE(cached ? "cached.xlsx" : "no_cache.xlsx");
    const std::string bytes = ReadFile(dir.File(cached ? "cached.xlsx" : "no_cache.xlsx"));
    ASSERT_FALSE(bytes.empty());
    absl::StatusOr<ParsedImport> r = ParseMemberFile(bytes, "members.xlsx");
    ASSERT_TRUE(r.ok()) << r.status();
    ExpectNoPersonalData(*r);
    // openpyxl writes an integer past 2^53 as a float ("3.206811985123103e+17"): digits lost,
    // as when Excel stores an ID number as a number.
    const std::vector<ImportError>& e = r->errors;
    ASSERT_EQ(e.size(), cached ? 1u : 2u) << Errors(*r);
    if (!cached) {
      EXPECT_EQ(e[0].row, 3);
      EXPECT_EQ(e[0].column, "工作单位");
      EXPECT_NE(e[0].reason.find("a formula without a saved result"), std::string::npos);
    }
    EXPECT_EQ(e.back().row, 4);
    EXPECT_EQ(e.back().column, "公民身份号码");
    EXPECT_EQ(e.back().reason,
              "身份证号 / id_number: stored as a number, which loses digits: format the column "
              "as text and type the numbers again");
    ASSERT_EQ(r->warnings.size(), 2u);
    EXPECT_EQ(r->warnings[1], "column N (备注) is not a member field: ignored");
    ASSERT_EQ(r->rows.size(), 2u);
    const pb::Member& a = r->rows[0].member;
    EXPECT_EQ(r->rows[0].row, 3);
    EXPECT_EQ(a.display_name(), "张三");
    EXPECT_EQ(a.gender(), pb::MALE);
    EXPECT_EQ(Iso(a.birth_date()), "1990-01-02");
    EXPECT_EQ(a.id_number(), Id1());
    EXPECT_EQ(a.phone(), "13812345678");  // a number cell
    EXPECT_EQ(a.education(), pb::BACHELOR);
    EXPECT_EQ(a.category(), pb::IN_SERVICE);
    EXPECT_EQ(a.stage(), pb::FULL);
    EXPECT_EQ(Iso(a.join_date()), "2019-06-30");
    EXPECT_EQ(Iso(a.full_member_date()), "2020-06-30");  // a datetime
    EXPECT_TRUE(a.party_affairs_cadre());                // a boolean cell
    EXPECT_EQ(a.work_unit(), cached ? "某某公司" : "");
    EXPECT_EQ(Iso(a.community_report_date()), "2020-07-01");  // text
    const pb::Member& b = r->rows[1].member;
    EXPECT_EQ(r->rows[1].row, 4);
    EXPECT_TRUE(b.id_number().empty());
    EXPECT_EQ(b.phone(), "0513-12345678");
    EXPECT_EQ(b.education(), pb::MASTER);
    EXPECT_EQ(Iso(b.join_date()), "2024-02-29");
    EXPECT_FALSE(b.has_full_member_date());
    EXPECT_FALSE(b.party_affairs_cadre());
    EXPECT_EQ(Iso(b.community_report_date()), "2020-07-01");  // the number 20200701
  }
}

// --- xlsx written by hand: the parts of the format openpyxl does not write ---

TEST(ParseMemberXlsx, SharedStringsRichTextStylesFormulasAndErrors) {
  const std::string shared =
      absl::StrCat("<sst xmlns=\"", kMainNs, "\" count=\"4\" uniqueCount=\"4\">",
                   "<si><t>姓名</t></si>", "<si><t>身份证号</t></si>",
                   "<si><r><rPr><b/></rPr><t>张</t></r><r><t xml:space=\"preserve\">三 </t></r>"
                   "<rPh sb=\"0\" eb=\"1\"><t>ZHANG</t></rPh></si>",
                   "<si><t>正式党员</t></si></sst>");
  const std::string styles = absl::StrCat(
      "<styleSheet xmlns=\"", kMainNs,
      "\"><numFmts count=\"1\"><numFmt numFmtId=\"176\" "
      "formatCode=\"yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;\"/></numFmts>"
      "<cellXfs count=\"3\"><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/><xf numFmtId=\"176\"/>"
      "</cellXfs></styleSheet>");
  const std::string sheet = absl::StrCat(
      "<x:worksheet xmlns:x=\"", kMainNs, "\"><x:sheetData>",
      "<x:row r=\"1\"><x:c r=\"A1\" t=\"s\"><x:v>0</x:v></x:c><x:c r=\"B1\" "
      "t=\"s\"><x:v>1</x:v></x:c>",
      Inline("C1", "党员类别"), Inline("D1", "入党日期"), Inline("E1", "转正日期"),
      Inline("F1", "党务干部"), Inline("G1", "工作单位"), Inline("H1", "手机号"), "</x:row>",
      // Row 2: rich text, a shared string enum, date styles (built-in 14 and a custom Chinese
      // one), a boolean, a string formula with its saved result, a phone as a number.
      "<x:row r=\"2\"><x:c r=\"A2\" t=\"s\"><x:v>2</x:v></x:c>", Inline("B2", Id1()),
      "<x:c r=\"C2\" t=\"s\"><x:v>3</x:v></x:c><x:c r=\"D2\" s=\"1\"><x:v>44013</x:v></x:c>"
      "<x:c r=\"E2\" s=\"2\"><x:v>44378</x:v></x:c><x:c r=\"F2\" t=\"b\"><x:v>1</x:v></x:c>"
      "<x:c r=\"G2\" t=\"str\"><x:f>\"某\"&amp;\"公司\"</x:f><x:v>某公司</x:v></x:c>"
      "<x:c r=\"H2\"><x:v>13812345678</x:v></x:c><x:c r=\"Z2\"><x:v>1</x:v></x:c></x:row>",
      // Row 3 is missing. Row 4: an ID number Excel stored as a number (digits lost), a date
      // typed as 20210701, a formula without a result, an error value, an OOXML escape, cells
      // left out (missing cells are empty), no cell references at all after the first.
      "<x:row r=\"4\">", Inline("A4", "李四"),
      "<x:c r=\"B4\"><x:v>3.20681199001011E+17</x:v></x:c><x:c><x:v>1</x:v></x:c>"
      "<x:c r=\"D4\"><x:v>20210701</x:v></x:c><x:c r=\"E4\" s=\"2\"><x:f>TODAY()</x:f></x:c>"
      "<x:c r=\"F4\" t=\"e\"><x:v>#N/A</x:v></x:c>",
      Inline("G4", "A_x0026_B"), "</x:row>", "<x:row r=\"5\">", Inline("A5", " "),
      "</x:row>",  // blank: skipped
      "</x:sheetData></x:worksheet>");
  absl::StatusOr<ParsedImport> r = ParseMemberXlsx(Workbook(sheet, shared, styles));
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectNoPersonalData(*r);
  ASSERT_EQ(r->rows.size(), 2u);
  const pb::Member& a = r->rows[0].member;
  EXPECT_EQ(a.display_name(), "张三");
  EXPECT_EQ(a.id_number(), Id1());
  EXPECT_EQ(a.stage(), pb::FULL);
  EXPECT_EQ(Iso(a.join_date()), "2020-07-01");
  EXPECT_EQ(Iso(a.full_member_date()), "2021-07-01");
  EXPECT_TRUE(a.party_affairs_cadre());
  EXPECT_EQ(a.work_unit(), "某公司");
  EXPECT_EQ(a.phone(), "13812345678");
  const pb::Member& b = r->rows[1].member;
  EXPECT_EQ(r->rows[1].row, 4);
  EXPECT_EQ(b.display_name(), "李四");
  EXPECT_TRUE(b.id_number().empty());
  EXPECT_EQ(b.stage(), pb::STAGE_UNSPECIFIED);  // "1" in C4 (by position) is not a stage
  EXPECT_EQ(Iso(b.join_date()), "2021-07-01");
  EXPECT_EQ(b.work_unit(), "A&B");
  const std::string errors = Errors(*r);
  ASSERT_EQ(r->errors.size(), 4u) << errors;
  EXPECT_EQ(r->errors[0].column, "身份证号");
  EXPECT_EQ(r->errors[0].reason,
            "身份证号 / id_number: stored as a number, which loses digits: format the column as "
            "text and type the numbers again");
  EXPECT_EQ(r->errors[1].column, "党员类别");
  EXPECT_EQ(r->errors[2].column, "转正日期");
  EXPECT_NE(r->errors[2].reason.find("a formula without a saved result"), std::string::npos);
  EXPECT_EQ(r->errors[3].column, "党务干部");
  EXPECT_EQ(r->errors[3].reason, "holds the error value #N/A: correct the cell or its formula");
  for (const ImportError& e : r->errors) {
    EXPECT_EQ(e.row, 4);
    EXPECT_EQ(e.reason.find("3.2068"), std::string::npos);
    EXPECT_EQ(e.reason.find("320681"), std::string::npos);
  }
}

TEST(ParseMemberXlsx, Date1904WorkbookAndAnExactNumberIdNumber) {
  const std::string sheet = absl::StrCat(
      "<worksheet xmlns=\"", kMainNs, "\"><sheetData><row r=\"1\">",
      absl::StrReplaceAll(
          Inline("A1", "姓名") + Inline("B1", "身份证号") + Inline("C1", "入党日期"), {{"x:", ""}}),
      "</row><row r=\"2\">", absl::StrReplaceAll(Inline("A2", "张三"), {{"x:", ""}}),
      // An ID number as a number cell written with all its digits (no exponent): exact.
      "<c r=\"B2\" t=\"n\"><v>", Id1(), "</v></c>",
      "<c r=\"C2\" s=\"1\"><v>42551</v></c></row></sheetData></worksheet>");
  const std::string styles = absl::StrCat("<styleSheet xmlns=\"", kMainNs,
                                          "\"><cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/>"
                                          "</cellXfs></styleSheet>");
  absl::StatusOr<ParsedImport> r = ParseMemberXlsx(Workbook(sheet, "", styles, true));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 1u) << Errors(*r);
  EXPECT_EQ(Iso(r->rows[0].member.join_date()), "2020-07-01");
  EXPECT_EQ(r->rows[0].member.id_number(), Id1());
}

TEST(ParseMemberXlsx, CellOverOneMegabyte) {
  const std::string big(kMaxCellBytes + 1, 'x');
  const std::string shared =
      absl::StrCat("<sst xmlns=\"", kMainNs, "\"><si><t>", big, "</t></si></sst>");
  for (const std::string& cell :
       {Inline("C2", big), std::string("<x:c r=\"C2\" t=\"s\"><x:v>0</x:v></x:c>")}) {
    absl::StatusOr<ParsedImport> r = ParseMemberXlsx(Workbook(OneCellSheet(cell), shared));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->errors.size(), 1u) << Errors(*r);
    EXPECT_EQ(r->errors[0].row, 2);
    EXPECT_EQ(r->errors[0].column, "工作单位");
    EXPECT_EQ(r->errors[0].reason, "the cell is over 1 MB");
  }
}

// A few hundred KB of sheet may refer to one large shared string thousands of times and put
// cells at the last column: what is kept and copied stays bounded by the fields' limits.
TEST(ParseMemberXlsx, AmplificationIsBounded) {
  const std::string big(900 * 1024, 'x');  // under the 1 MB cell limit
  const std::string shared = absl::StrCat("<sst xmlns=\"", kMainNs, "\"><si><t>", big,
                                          "</t></si><si><t>", Id1(), "</t></si></sst>");
  std::string rows;
  constexpr int32_t kRows = 5000;
  for (int32_t r = 2; r <= kRows + 1; ++r) {
    absl::StrAppend(&rows, "<row r=\"", r, "\"><c r=\"A", r, "\" t=\"s\"><v>0</v></c><c r=\"B", r,
                    "\" t=\"s\"><v>1</v></c><c r=\"C", r, "\" t=\"s\"><v>0</v></c><c r=\"XFD", r,
                    "\" t=\"inlineStr\"><is><t> </t></is></c></row>");
  }
  for (int32_t r = kRows + 2; r <= kRows + 20001; ++r) {  // blank rows reaching column XFD
    absl::StrAppend(&rows, "<row r=\"", r, "\"><c r=\"XFD", r,
                    "\" t=\"inlineStr\"><is><t> </t></is></c></row>");
  }
  const std::string sheet =
      absl::StrCat("<worksheet xmlns=\"", kMainNs, "\"><sheetData><row r=\"1\">",
                   "<c r=\"A1\" t=\"inlineStr\"><is><t>姓名</t></is></c>",
                   "<c r=\"B1\" t=\"inlineStr\"><is><t>身份证号</t></is></c>",
                   "<c r=\"C1\" t=\"inlineStr\"><is><t>工作单位</t></is></c></row>", rows,
                   "</sheetData></worksheet>");
  absl::StatusOr<ParsedImport> r = ParseMemberXlsx(Workbook(sheet, shared));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), static_cast<size_t>(kRows));
  ASSERT_EQ(r->errors.size(), 2u * kRows);
  EXPECT_EQ(r->errors[0].reason, "姓名 / display_name: must be at most 50 characters");
  EXPECT_EQ(r->errors[1].reason, "工作单位 / work_unit: must be at most 100 characters");
  EXPECT_EQ(r->rows[0].member.id_number(), Id1());
  EXPECT_TRUE(r->rows[0].member.display_name().empty());
}

// A workbook whose sheet is `size` zero bytes, compressed (deflate makes ~1000:1 of zeros). The
// zeros come from calloc, so the test does not touch 200 MB of memory either.
std::string ZeroBomb(size_t size) {
  std::unique_ptr<char, decltype(&free)> zeros(static_cast<char*>(calloc(size, 1)), &free);
  const std::string_view data(zeros.get(), size);
  return ZipOf({{"xl/workbook.xml",
                 absl::StrCat("<workbook xmlns=\"", kMainNs,
                              "\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/"
                              "2006/relationships\"><sheets><sheet name=\"a\" sheetId=\"1\" "
                              "r:id=\"rId1\"/></sheets></workbook>")},
                {"xl/_rels/workbook.xml.rels",
                 "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
                 "relationships\"><Relationship Id=\"rId1\" Type=\"x/worksheet\" "
                 "Target=\"worksheets/sheet1.xml\"/></Relationships>"},
                {"xl/worksheets/sheet1.xml", data}},
               1);
}

// Rewrites the uncompressed size of the zip's last entry, in its local header and in the
// central directory, to `size`: a bomb that lies about what it holds.
void LieAboutSize(std::string& zip, uint32_t size) {
  auto put32 = [&](size_t at) {
    for (int i = 0; i < 4; ++i) {
      zip[at + static_cast<size_t>(i)] = static_cast<char>((size >> (8 * i)) & 0xFF);
    }
  };
  const size_t central = zip.rfind(std::string_view("PK\x01\x02", 4));
  const size_t local = zip.rfind(std::string_view("PK\x03\x04", 4));
  ASSERT_NE(central, std::string::npos);
  ASSERT_NE(local, std::string::npos);
  put32(central + 24);
  put32(local + 22);
}

// The peak resident memory of this process so far, in KB.
long PeakKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(ParseMemberXlsx, ZipBombs) {
  // 200 MB declared: refused from the directory, before inflating anything.
  std::string bomb = ZeroBomb(200u << 20);
  ASSERT_LT(bomb.size(), 1u << 20);
  const long peak = PeakKb();
  EXPECT_NE(FileProblem(ParseMemberFile(bomb, "")).find("inflates to more than 100 MB"),
            std::string::npos);
  // The same bytes claiming 1 KB: inflating stops at the first chunk past the claim.
  LieAboutSize(bomb, 1024);
  const std::string lied = FileProblem(ParseMemberXlsx(bomb));
  EXPECT_TRUE(lied.find("zip bomb") != std::string::npos ||
              lied.find("damaged") != std::string::npos)
      << lied;
  EXPECT_LT(PeakKb() - peak, 20 * 1024) << "the bomb was inflated";
  // 30 MB of zeros is under the size limit but no real sheet compresses 1000:1.
  EXPECT_NE(FileProblem(ParseMemberXlsx(ZeroBomb(30u << 20))).find("refused as a zip bomb"),
            std::string::npos);
}

TEST(ParseMemberXlsx, BrokenFiles) {
  const std::string good = Workbook(OneCellSheet(Inline("C2", "某单位")));
  ASSERT_TRUE(ParseMemberXlsx(good).ok());
  std::string random = "PK\x03\x04";
  uint32_t x = 12345;
  for (int i = 0; i < 4096; ++i) {
    x = x * 1103515245u + 12345u;
    random.push_back(static_cast<char>(x >> 24));
  }
  struct Case {
    std::string name;
    std::string bytes;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"truncated to half", good.substr(0, good.size() / 2), "is not a readable .xlsx workbook"},
      {"last bytes cut", good.substr(0, good.size() - 5), "is not a readable .xlsx workbook"},
      {"random bytes after PK", random, "is not a readable .xlsx workbook"},
      {"a zip without a workbook", ZipOf({{"hello.txt", "hi"}}), "no xl/workbook.xml"},
      {"sheet not well-formed", Workbook("<worksheet><sheetData><row r=\"1\">"),
       "is not well-formed XML"},
      {"rows out of order",
       Workbook(absl::StrCat("<worksheet><sheetData><row r=\"3\"/><row r=\"2\"/>",
                             "</sheetData></worksheet>")),
       "row numbers out of order"},
      {"a bad cell reference",
       Workbook("<worksheet><sheetData><row r=\"1\"><c r=\"AAAA1\"><v>1</v></c></row>"
                "</sheetData></worksheet>"),
       "a bad cell reference in row 1"},
      {"no header", Workbook("<worksheet><sheetData/></worksheet>"), "has no rows"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string problem = FileProblem(ParseMemberFile(c.bytes, "x.xlsx"));
    EXPECT_NE(problem.find(c.problem), std::string::npos) << problem;
  }
}

TEST(ParseMemberFile, ChoosesByContent) {
  EXPECT_NE(FileProblem(ParseMemberFile("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 rest", "a.xls"))
                .find("is an old .xls workbook"),
            std::string::npos);
  EXPECT_NE(
      FileProblem(ParseMemberFile("姓名,身份证号\n", "members.xlsx")).find("not a zip archive"),
      std::string::npos);
  EXPECT_TRUE(ParseMemberFile(absl::StrCat("姓名,身份证号\n张三,", Id1(), "\n"), "").ok());
  EXPECT_TRUE(ParseMemberFile(Workbook(OneCellSheet("")), "upload").ok());
}

// --- export ---

TEST(WriteCsv, BomCrlfQuotingAndInjectionGuard) {
  const Sheet sheet{.name = "x",
                    .header = {"姓名", "备注"},
                    .rows = {{"=1+1", "+86 138"},
                             {"-5", "@SUM(A1)"},
                             {"\tx", "\ry"},
                             {"a,b", "他说\"好\"\n"},
                             {"'=已有撇号", ""}}};
  EXPECT_EQ(WriteCsv(sheet),
            "\xEF\xBB\xBF姓名,备注\r\n"
            "'=1+1,'+86 138\r\n"
            "'-5,'@SUM(A1)\r\n"
            "'\tx,\"'\ry\"\r\n"
            "\"a,b\",\"他说\"\"好\"\"\n\"\r\n"
            "''=已有撇号,\r\n");
}

constexpr std::string_view kReadBackScript = R"PY(
import json, sys
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.worksheets[0]
rows = [['' if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
types = [c.data_type for c in ws[2]]
print(json.dumps({'title': ws.title, 'rows': rows, 'types': types}, ensure_ascii=False))
)PY";

TEST(WriteXlsx, OpenpyxlReadsTheSameRowsAsText) {
  if (!HasOpenpyxl()) {
    GTEST_SKIP() << "/usr/bin/python3 has no openpyxl";
  }
  const Sheet sheet{
      .name = "党费/2024:06",
      .header = {"姓名", "应交(元)", "备注"},
      .rows = {
          {"=1+1", "-5", "@SUM(A1)"}, {"张三", "12.50", "第一行\n第二行"}, {"", "+86", "a,\"b\""}}};
  absl::StatusOr<std::string> bytes = WriteXlsx(sheet);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_TRUE(bytes->starts_with("PK\x03\x04"));
  TempDir dir;
  WriteFile(dir.File("export.xlsx"), *bytes);
  const std::string json = RunPython(dir, kReadBackScript, dir.File("export.xlsx"));
  google::protobuf::Struct got;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &got).ok()) << json;
  EXPECT_EQ(got.fields().at("title").string_value(), "党费_2024_06");
  const google::protobuf::ListValue& rows = got.fields().at("rows").list_value();
  std::vector<std::vector<std::string>> want = {sheet.header};
  want.insert(want.end(), sheet.rows.begin(), sheet.rows.end());
  ASSERT_EQ(rows.values_size(), static_cast<int>(want.size())) << json;
  for (size_t r = 0; r < want.size(); ++r) {
    const google::protobuf::ListValue& row = rows.values(static_cast<int>(r)).list_value();
    ASSERT_EQ(row.values_size(), static_cast<int>(want[r].size())) << json;
    for (size_t c = 0; c < want[r].size(); ++c) {
      EXPECT_EQ(row.values(static_cast<int>(c)).string_value(), want[r][c]) << r << "," << c;
    }
  }
  // The would-be formulas are string cells ('s'), not formulas ('f').
  const google::protobuf::ListValue& types = got.fields().at("types").list_value();
  ASSERT_EQ(types.values_size(), 3);
  for (const auto& t : types.values()) {
    EXPECT_EQ(t.string_value(), "s");
  }
}

std::vector<pb::Member> SampleMembers() {
  pb::Member a;
  a.set_display_name("张三");
  a.set_gender(pb::MALE);
  a.set_ethnicity("汉族");
  *a.mutable_birth_date() = D(1990, 1, 2);
  a.set_id_number(Id1());
  a.set_phone("+8613812345678");  // starts with '+': guarded in CSV, restored on import
  a.set_education(pb::SENIOR_SECONDARY);
  a.set_work_unit("=某单位");
  a.set_job_title("书记, 主任");
  a.set_category(pb::IN_SERVICE);
  a.set_stage(pb::FULL);
  *a.mutable_application_date() = D(2008, 3, 1);
  *a.mutable_activist_date() = D(2008, 9, 1);
  *a.mutable_candidate_date() = D(2009, 9, 1);
  *a.mutable_join_date() = D(2010, 6, 30);
  *a.mutable_full_member_date() = D(2011, 6, 30);
  a.set_party_affairs_cadre(true);
  a.set_residence_community("'@文峰社区");  // an apostrophe of its own survives
  *a.mutable_community_report_date() = D(2020, 7, 1);
  pb::Member b;
  b.set_display_name("李四");
  b.set_gender(pb::FEMALE);
  b.set_id_number(Id2());
  b.set_category(pb::STUDENT);
  b.set_stage(pb::APPLICANT);
  b.set_education(pb::DOCTORATE);
  *b.mutable_application_date() = D(2024, 2, 29);
  std::vector<pb::Member> out = {a, b};
  for (pb::Member& m : out) {  // exported too, but output only: not imported
    pb::Member with_output = m;
    with_output.set_status(pb::LOST_CONTACT);
    with_output.set_party_standing_years(12);
    m = with_output;
  }
  return out;
}

TEST(MemberSheet, ExportThenImportGivesTheSameMembers) {
  const std::vector<pb::Member> members = SampleMembers();
  const Sheet sheet = MemberSheet(members);
  ASSERT_EQ(sheet.rows.size(), 2u);
  EXPECT_EQ(sheet.rows[0][19], "失联");
  EXPECT_EQ(sheet.rows[0][20], "12");
  EXPECT_EQ(sheet.rows[1][20], "");  // no 党龄 before full membership
  absl::StatusOr<std::string> xlsx = WriteXlsx(sheet);
  ASSERT_TRUE(xlsx.ok()) << xlsx.status();
  for (const bool csv : {true, false}) {
    SCOPED_TRACE(csv ? "csv" : "xlsx");
    absl::StatusOr<ParsedImport> r =
        csv ? ParseMemberFile(WriteCsv(sheet), "members.csv") : ParseMemberFile(*xlsx, "");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->errors.empty()) << Errors(*r);
    EXPECT_TRUE(r->warnings.empty()) << absl::StrJoin(r->warnings, "\n");
    EXPECT_EQ(r->columns.size(), 19u);  // every member field the importer knows
    ASSERT_EQ(r->rows.size(), members.size());
    for (size_t i = 0; i < members.size(); ++i) {
      pb::Member want = members[i];
      want.clear_status();
      want.clear_party_standing_years();
      EXPECT_TRUE(MessageDifferencer::Equals(r->rows[i].member, want))
          << r->rows[i].member.DebugString() << "\nwant\n"
          << want.DebugString();
      EXPECT_EQ(r->rows[i].row, static_cast<int32_t>(i) + 2);
    }
  }
}

}  // namespace
}  // namespace dj::member
