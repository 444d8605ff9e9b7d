// Reads a branch's member list (党员名册) from a CSV file (UTF-8 with or without BOM, or GB18030
// as Chinese Excel saves it) or an .xlsx workbook into Member messages, with a per-row report of
// what could not be read. Pure: no database, no RPC. The caller validates every row as
// CreateMember does and writes all rows or none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "dangjian/member/v1/member.pb.h"

namespace dj::member {

// Bounds on what an upload may cost; anything beyond them is refused, never partly read.
inline constexpr size_t kMaxImportFileBytes = 20u << 20;           // the file as uploaded
inline constexpr uint64_t kMaxXlsxUncompressedBytes = 100u << 20;  // all parts read, inflated
// Deflate at its best gives ~1000:1 on zeros; real sheets stay near 15:1 (6,400 members written
// by openpyxl: 16.5:1). A part over 8 MB inflated that claims more than this ratio is a zip bomb,
// refused before inflating a byte.
inline constexpr uint64_t kMaxXlsxCompressionRatio = 200;
inline constexpr uint64_t kXlsxRatioCheckFromBytes = 8u << 20;
inline constexpr size_t kMaxCellBytes = 1u << 20;  // one cell's text, UTF-8
inline constexpr int32_t kMaxImportRows = 50000;   // data rows, the header not counted

struct ImportRow {
  int32_t row = 0;  // 1-based spreadsheet row (CSV: record) number
  dangjian::member::v1::Member member;
};

struct ImportError {
  int32_t row = 0;     // 1-based spreadsheet row; 0 for the file as a whole
  std::string column;  // the header text as in the file ("身份证号"), or "" for the row
  std::string reason;  // never contains an ID number or phone number
};

struct ParsedImport {
  // Rows that have at least one non-empty known cell, in file order. A row with an error in
  // `errors` is still here (with that field left unset), so that the caller can report
  // CreateMember's checks for it too; the import as a whole must fail when `errors` is
  // non-empty.
  std::vector<ImportRow> rows;
  std::vector<ImportError> errors;
  // E.g. unknown headers, which are ignored. Never personal data.
  std::vector<std::string> warnings;
  // Member field name ("id_number") -> the header text that column has in this file
  // ("公民身份号码"): to report CreateMember's violations ("member.id_number") by column.
  std::map<std::string, std::string> columns;
};

// The file-level failures (too large, not a zip, a zip bomb, malformed XML, neither UTF-8 nor
// GB18030, a missing required header, too many rows) are INVALID_ARGUMENT with a field violation
// on "file" saying what is wrong. Row-level problems (a date, an enum word, a cell over 1 MB, a
// formula without a cached value) go to ParsedImport::errors.
absl::StatusOr<ParsedImport> ParseMemberCsv(std::string_view bytes);
// The first sheet of the workbook (the order of workbook.xml). Numbers with a date format, and
// numbers in a date column, are Excel serial dates (the 1900 system with its phantom 1900-02-29,
// or 1904 when the workbook says so).
absl::StatusOr<ParsedImport> ParseMemberXlsx(std::string_view bytes);
// Chooses by content: a zip ("PK\3\4") is read as .xlsx, anything else as CSV.
// `filename_or_type` ("members.xls", "application/vnd.ms-excel") only serves to refuse the old
// binary .xls format with a message saying to save as .xlsx or CSV.
absl::StatusOr<ParsedImport> ParseMemberFile(std::string_view bytes,
                                             std::string_view filename_or_type);

// The column to name for a CreateMember violation: "member.id_number" -> the header text of the
// id_number column in this file; the field path itself when it has no column.
std::string ImportColumnFor(const ParsedImport& parsed, std::string_view field_path);

// Text dates as branches write them: "2020-07-01", "2020/7/1", "2020.7.1", "2020年7月1日",
// "20200701", optionally followed by a time ("2020-07-01 00:00:00"). False when not a real date.
bool ParseImportDate(std::string_view text, google::type::Date* out);
// An Excel serial day number as a date; `date1904` for workbooks in the 1904 system. False for
// the 1900 system's nonexistent 1900-02-29 (serial 60), 0 and below, and past 9999-12-31.
bool ExcelSerialDate(double serial, bool date1904, google::type::Date* out);

}  // namespace dj::member
