// Free-text fields every service takes from users: trimming and validation.
#include "common/rpc/text.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"

namespace dj::rpc {

std::string TrimDisplayName(std::string_view name) {
  auto is_space_at = [&](size_t i, bool from_end) -> size_t {
    // Returns the byte length of a space at i (or ending at i when from_end), else 0.
    const std::string_view ideographic = "\xE3\x80\x80";  // U+3000
    if (!from_end) {
      if (name[i] == ' ' || name[i] == '\t' || name[i] == '\n' || name[i] == '\r') {
        return 1;
      }
      return name.substr(i, 3) == ideographic ? 3 : 0;
    }
    if (name[i] == ' ' || name[i] == '\t' || name[i] == '\n' || name[i] == '\r') {
      return 1;
    }
    return i >= 2 && name.substr(i - 2, 3) == ideographic ? 3 : 0;
  };
  size_t begin = 0;
  while (begin < name.size()) {
    size_t n = is_space_at(begin, false);
    if (n == 0) {
      break;
    }
    begin += n;
  }
  size_t end = name.size();
  while (end > begin) {
    size_t n = is_space_at(end - 1, true);
    if (n == 0) {
      break;
    }
    end -= n;
  }
  return std::string(name.substr(begin, end - begin));
}

absl::Status ValidateText(std::string_view text, std::string_view field, int max_chars,
                          bool required) {
  const std::string f(field);
  if (text.empty()) {
    return required ? rpc::InvalidArgument({{f, "required"}}) : absl::OkStatus();
  }
  int chars = 0;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    if (len == 0 || i + len > text.size()) {
      return rpc::InvalidArgument({{f, "is not valid UTF-8"}});
    }
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) {
        return rpc::InvalidArgument({{f, "is not valid UTF-8"}});
      }
    }
    if (c < 0x20 || c == 0x7f) {
      return rpc::InvalidArgument({{f, "must not contain control characters"}});
    }
    i += len;
    ++chars;
  }
  if (chars > max_chars) {
    return rpc::InvalidArgument(
        {{f, absl::StrCat("must be at most ", max_chars, " characters, got ", chars)}});
  }
  return absl::OkStatus();
}

std::string Etag(int64_t version) { return absl::StrCat("v", version); }

}  // namespace dj::rpc
