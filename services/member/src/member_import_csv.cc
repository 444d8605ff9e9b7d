// The CSV reader of the member import: the file's encoding (UTF-8 with or without BOM, GB18030
// through iconv) and RFC 4180 records as rows of cells.
#include <iconv.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "services/member/src/member_import.h"
#include "services/member/src/spreadsheet_cells.h"

namespace dj::member::sheet {

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

// RFC 4180 records, handed to `sink` one by one. Lenient where Excel is (a quote inside an
// unquoted field is a character; text after a closing quote is kept); strict where a file is
// broken (a quote never closed).
absl::Status ReadCsvRows(std::string_view text, const RowSink& sink) {
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
    RETURN_IF_ERROR(sink(record, cells));
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

}  // namespace dj::member::sheet
