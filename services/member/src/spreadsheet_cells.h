// The cells of a spreadsheet whatever its format (internal to the member import: the CSV and
// .xlsx readers produce them, the row mapper turns them into members), the text helpers both
// readers share, and the .xlsx reader (member_import_xlsx.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dj::member::sheet {

inline constexpr int32_t kMaxColumns = 16384;     // Excel's XFD
inline constexpr int32_t kMaxSheetRow = 1048576;  // Excel's last row

absl::Status FileError(std::string_view description);

// The byte length of a whitespace character at the start of `s` (ASCII space, tab, CR, LF,
// U+00A0, U+3000, U+FEFF), else 0.
size_t LeadingSpace(std::string_view s);

size_t TrailingSpace(std::string_view s);

std::string_view Trim(std::string_view s);

// For matching headers and enum words: no spaces anywhere (forms write "姓  名"), ASCII lower
// case, required-field marks ("*姓名", "姓名（必填）") dropped.
std::string Key(std::string_view s);

size_t Utf8Chars(std::string_view s);

bool IsValidUtf8(std::string_view s);

void AppendUtf8(uint32_t cp, std::string& out);

// "A" -> 0, "AA" -> 26; -1 when not 1-3 letters within XFD.
int32_t ColumnIndex(std::string_view letters);

std::string ColumnLetters(int32_t index);

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

Cell ErrorCell(std::string reason, bool oversize = false);

std::string OversizeReason();

// A sheet's rows as read: each row's number (1-based) and its non-empty cells by increasing
// column; an error stops the reading.
using RowSink = std::function<absl::Status(int32_t row, std::vector<ColumnCell>& cells)>;

// A CSV file's text in UTF-8: UTF-8 (a BOM dropped) as it is, else GB18030 (as Chinese Excel
// saves it) converted; a file that is neither, or UTF-16, is refused naming "file".
absl::StatusOr<std::string> CsvText(std::string_view bytes);
// RFC 4180 records of `text` (comma or tab separated), handed to `sink` one by one
// (member_import_csv.cc).
absl::Status ReadCsvRows(std::string_view text, const RowSink& sink);

// Reads the first worksheet of an .xlsx file (bounded: inflated size, compression ratio, cell
// size); `date1904` is told the workbook's date system before the first row.
absl::Status ReadXlsxRows(std::string_view bytes, const std::function<void(bool)>& date1904,
                          const RowSink& sink);

}  // namespace dj::member::sheet
