// Debian's abseil is built with its own absl::string_view (not std::string_view); these convert
// at the boundary so project code can use std::string_view throughout.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace dj {

inline absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view SV(absl::string_view s) { return {s.data(), s.size()}; }

// At most `max_bytes` of `s`, cut before a UTF-8 continuation byte, with "..." when cut: for what
// a client sent (a path, a method) on its way into a log line or an audit row, which must stay
// bounded whatever the client sends.
inline std::string Clip(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) {
    return std::string(s);
  }
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) {
    --end;
  }
  return std::string(s.substr(0, end)) + "...";
}

}  // namespace dj
