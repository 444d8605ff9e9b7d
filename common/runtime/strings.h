// Debian's abseil is built with its own absl::string_view (not std::string_view); these convert
// at the boundary so project code can use std::string_view throughout.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace dj {

inline absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view SV(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace dj
