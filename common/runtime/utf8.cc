// Well-formed UTF-8.
#include "common/runtime/utf8.h"

namespace dj::utf8 {

size_t SequenceLength(std::string_view s, size_t i, size_t* skip) {
  size_t ignored = 0;
  size_t& bad = skip != nullptr ? *skip : ignored;
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;  // the range of the second byte
  if (c < 0x80) {
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    hi = c == 0xED ? 0x9F : 0xBF;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;  // no overlong forms
    hi = c == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
  } else {
    bad = 1;
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    const auto d = i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
    const bool ok = i + k < s.size() && (k == 1 ? d >= lo && d <= hi : (d & 0xC0) == 0x80);
    if (!ok) {
      bad = k;
      return 0;
    }
  }
  return n;
}

bool Valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = SequenceLength(s, i);
    if (n == 0) {
      return false;
    }
    i += n;
  }
  return true;
}

}  // namespace dj::utf8
