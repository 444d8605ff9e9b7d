// The text helpers and cells both spreadsheet readers share (spreadsheet_cells.h).
#include "services/member/src/spreadsheet_cells.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "services/member/src/member_import.h"

namespace dj::member::sheet {

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

// A cell with its 0-based column: rows are passed sparse, so that a cell far to the right (XFD)
// costs no more than one next to the others.

Cell ErrorCell(std::string reason, bool oversize) {
  Cell c;
  c.kind = CellKind::kError;
  c.text = std::move(reason);
  c.oversize = oversize;
  return c;
}

std::string OversizeReason() {
  return absl::StrCat("the cell is over ", kMaxCellBytes / (1 << 20), " MB");
}

}  // namespace dj::member::sheet
