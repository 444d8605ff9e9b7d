// Free-text fields every service takes from users (names, titles, notes): trimmed and checked
// the same way everywhere; and the etag of a versioned row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace dj::rpc {

// Trims ASCII and ideographic (U+3000) spaces at both ends.
std::string TrimDisplayName(std::string_view name);
// Free text (already trimmed): valid UTF-8, no control characters, at most `max_chars`
// characters (not bytes: MySQL's VARCHAR counts characters); `required`: not empty.
// INVALID_ARGUMENT naming `field` and why.
absl::Status ValidateText(std::string_view text, std::string_view field, int max_chars,
                          bool required);

// "v7": the etag of a row at version 7.
std::string Etag(int64_t version);

}  // namespace dj::rpc
