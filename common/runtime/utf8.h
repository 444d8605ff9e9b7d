// UTF-8 as Unicode defines it well-formed (table 3-7: no overlong forms, no surrogates, nothing
// above U+10FFFF): used by the log's JSON escaping, the gateway's strict bodies and the tests.
#pragma once

#include <cstddef>
#include <string_view>

namespace dj::utf8 {

// The length of the well-formed sequence starting at s[i], or 0 when it is ill-formed; then
// `*skip` (when given) is the length of its maximal ill-formed prefix (at least 1), which one
// U+FFFD replaces (the Unicode "maximal subpart" practice).
size_t SequenceLength(std::string_view s, size_t i, size_t* skip = nullptr);

// Whether all of `s` is well-formed UTF-8.
bool Valid(std::string_view s);

}  // namespace dj::utf8
