// The strict request-body rules: the content type, and an RFC 8259 validator (recursive descent
// with a depth limit) run before protobuf's JSON parser, which is lenient (unquoted keys, ...).
#include "gateway/src/request_body.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/runtime/strings.h"
#include "common/runtime/utf8.h"

namespace dj::gateway {

std::string_view StripOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

class Validator final {
 public:
  Validator(std::string_view s, int max_depth) : s_(s), max_depth_(max_depth) {}

  absl::Status Run() {
    SkipSpace();
    if (Value(0)) {
      SkipSpace();
      if (pos_ == s_.size()) {
        return absl::OkStatus();
      }
      Fail(Peek('/') ? "comments are not allowed" : "unexpected data after the JSON value");
    }
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON body at byte ", at_, ": ", what_));
  }

 private:
  // Records the first error (what, and the offset of the byte where it was found).
  bool Fail(std::string what) {
    what_ = std::move(what);
    at_ = pos_;
    return false;
  }
  // An error for "expected `what` here", naming the usual lenient-JSON habits precisely.
  bool Expected(const std::string& what) {
    if (pos_ >= s_.size()) {
      return Fail("unexpected end of the body; expected " + what);
    }
    if (Peek('/')) {
      return Fail("comments are not allowed");
    }
    if (Peek('\'')) {
      return Fail("strings must be in double quotes");
    }
    return Fail("expected " + what);
  }

  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }

  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Value(int depth) {
    if (pos_ >= s_.size()) {
      return Expected("a value");
    }
    switch (s_[pos_]) {
      case '{':
        return Object(depth + 1);
      case '[':
        return Array(depth + 1);
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        if (s_[pos_] == '-' || IsDigit(s_[pos_])) {
          return Number();
        }
        return Expected("a value");
    }
  }

  bool Deeper(int depth) {
    return depth <= max_depth_ ||
           Fail(absl::StrCat("objects and arrays nested deeper than ", max_depth_, " levels"));
  }

  bool Object(int depth) {
    if (!Deeper(depth)) {
      return false;
    }
    ++pos_;  // '{'
    SkipSpace();
    if (Peek('}')) {
      ++pos_;
      return true;
    }
    while (true) {
      if (!Peek('"')) {
        return Expected("an object key in double quotes");
      }
      if (!String()) {
        return false;
      }
      SkipSpace();
      if (!Peek(':')) {
        return Expected("':' after an object key");
      }
      ++pos_;
      SkipSpace();
      if (!Value(depth)) {
        return false;
      }
      SkipSpace();
      if (Peek('}')) {
        ++pos_;
        return true;
      }
      if (!Peek(',')) {
        return Expected("',' or '}'");
      }
      ++pos_;
      SkipSpace();
      if (Peek('}')) {
        return Fail("trailing comma before '}'");
      }
    }
  }

  bool Array(int depth) {
    if (!Deeper(depth)) {
      return false;
    }
    ++pos_;  // '['
    SkipSpace();
    if (Peek(']')) {
      ++pos_;
      return true;
    }
    while (true) {
      if (!Value(depth)) {
        return false;
      }
      SkipSpace();
      if (Peek(']')) {
        ++pos_;
        return true;
      }
      if (!Peek(',')) {
        return Expected("',' or ']'");
      }
      ++pos_;
      SkipSpace();
      if (Peek(']')) {
        return Fail("trailing comma before ']'");
      }
    }
  }

  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) {
      return Fail("expected a value (true, false and null are lower case and spelt out)");
    }
    pos_ += word.size();
    return true;
  }

  bool Digits() {
    if (pos_ >= s_.size() || !IsDigit(s_[pos_])) {
      return false;
    }
    while (pos_ < s_.size() && IsDigit(s_[pos_])) {
      ++pos_;
    }
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number() {
    if (Peek('-')) {
      ++pos_;
    }
    if (Peek('0')) {
      ++pos_;
      if (pos_ < s_.size() && IsDigit(s_[pos_])) {
        return Fail("numbers may not have leading zeros");
      }
    } else if (!Digits()) {
      return Fail("a number needs a digit here");
    }
    if (Peek('.')) {
      ++pos_;
      if (!Digits()) {
        return Fail("a number needs a digit after '.'");
      }
    }
    if (Peek('e') || Peek('E')) {
      ++pos_;
      if (Peek('+') || Peek('-')) {
        ++pos_;
      }
      if (!Digits()) {
        return Fail("a number needs a digit in its exponent");
      }
    }
    return true;
  }

  // Four hex digits at s_[at], or -1.
  int32_t Hex4(size_t at) const {
    if (at + 4 > s_.size()) {
      return -1;
    }
    int32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const int d = HexValue(s_[at + k]);
      if (d < 0) {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  bool Escape() {
    if (pos_ + 1 >= s_.size()) {
      return Fail("unterminated string");
    }
    switch (s_[pos_ + 1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        pos_ += 2;
        return true;
      case 'u':
        break;
      default:
        return Fail("invalid escape in a string");
    }
    const int32_t u = Hex4(pos_ + 2);
    if (u < 0) {
      return Fail("\\u must be followed by four hex digits");
    }
    if (u >= 0xDC00 && u <= 0xDFFF) {
      return Fail("a \\u escape names a lone low surrogate");
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
      const int32_t low = s_.substr(pos_ + 6, 2) == "\\u" ? Hex4(pos_ + 8) : -1;
      if (low < 0xDC00 || low > 0xDFFF) {
        return Fail("a \\u escape names a high surrogate without its low surrogate");
      }
      pos_ += 12;
      return true;
    }
    pos_ += 6;
    return true;
  }

  bool String() {
    ++pos_;  // '"'
    while (true) {
      if (pos_ >= s_.size()) {
        return Fail("unterminated string");
      }
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (!Escape()) {
          return false;
        }
        continue;
      }
      if (c < 0x20) {
        return Fail("a control character in a string must be escaped");
      }
      const size_t n = utf8::SequenceLength(s_, pos_);
      if (n == 0) {
        return Fail("invalid UTF-8 in a string");
      }
      pos_ += n;
    }
  }

  std::string_view s_;
  int max_depth_;
  size_t pos_ = 0;
  size_t at_ = 0;
  std::string what_;
};

}  // namespace

absl::Status CheckJsonContentType(std::optional<std::string_view> content_type) {
  if (!content_type.has_value()) {
    return absl::InvalidArgumentError(
        "a request with a body needs the header Content-Type: application/json");
  }
  std::vector<std::string_view> parts;  // the media type, then each parameter
  for (std::string_view rest = *content_type;;) {
    const size_t semicolon = rest.find(';');
    parts.push_back(StripOws(rest.substr(0, semicolon)));
    if (semicolon == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(semicolon + 1);
  }
  if (!absl::EqualsIgnoreCase(AV(parts[0]), "application/json")) {
    return absl::InvalidArgumentError("the body must be application/json");
  }
  bool charset = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string_view p = parts[i];
    if (p.empty()) {
      continue;  // "application/json;" (RFC 9110 allows empty parameters)
    }
    const size_t eq = p.find('=');
    if (eq == std::string_view::npos || !absl::EqualsIgnoreCase(AV(p.substr(0, eq)), "charset")) {
      return absl::InvalidArgumentError(
          "Content-Type application/json takes no parameter but charset=utf-8");
    }
    std::string_view value = p.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (charset || !absl::EqualsIgnoreCase(AV(value), "utf-8")) {
      return absl::InvalidArgumentError("the body must be UTF-8 (charset=utf-8, or no charset)");
    }
    charset = true;
  }
  return absl::OkStatus();
}

absl::Status CheckStrictJson(std::string_view body, int max_depth) {
  return Validator(body, max_depth).Run();
}

}  // namespace dj::gateway
