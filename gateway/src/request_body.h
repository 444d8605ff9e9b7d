// What the gateway accepts as a request body: RFC 8259 JSON in UTF-8, labelled application/json.
// Pure functions, so the rules are tested without a server; the gateway maps a refused content
// type to 415 and a refused body to 400 INVALID_ARGUMENT.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace dj::gateway {

// A header field value without its optional whitespace (RFC 9110 §5.6.3: spaces and tabs).
std::string_view StripOws(std::string_view s);

// Content-Type of a request that has a body: `application/json`, case-insensitive, with no
// parameter but an optional `charset=utf-8` (case-insensitive, quoted or not). Anything else,
// including no Content-Type at all (nullopt) or any other parameter, is refused with
// INVALID_ARGUMENT and a message saying why (415 at the gateway).
absl::Status CheckJsonContentType(std::optional<std::string_view> content_type);

// The deepest nesting of objects and arrays CheckStrictJson accepts.
inline constexpr int kMaxJsonDepth = 64;

// OK when `body` is exactly one RFC 8259 JSON value (surrounded by optional whitespace) in
// well-formed UTF-8, with no \u escape naming a lone surrogate and nested at most `max_depth`
// deep. Otherwise INVALID_ARGUMENT: "invalid JSON body at byte N: <what>", N counting from 0.
// The message never contains bytes of the body.
absl::Status CheckStrictJson(std::string_view body, int max_depth = kMaxJsonDepth);

}  // namespace dj::gateway
