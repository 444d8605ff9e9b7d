// The .xlsx reader of the member import: the zip read from memory with libzip, bounded (declared
// and actual inflated sizes, compression ratio), the workbook's parts found through its
// relationships, shared strings, date styles and the first sheet's cells read with pugixml.
#include <zip.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "pugixml.hpp"
#include "services/member/src/member_import.h"
#include "services/member/src/spreadsheet_cells.h"

namespace dj::member::sheet {
namespace {

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

}  // namespace

absl::Status ReadXlsxRows(std::string_view bytes, const std::function<void(bool)>& date1904,
                          const RowSink& sink) {
  ASSIGN_OR_RETURN(ZipParts zip, ZipParts::Open(bytes));
  ASSIGN_OR_RETURN(WorkbookParts parts, FindParts(zip));
  date1904(parts.date1904);

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
    RETURN_IF_ERROR(sink(previous_row, cells));
  }
  return absl::OkStatus();
}

}  // namespace dj::member::sheet
