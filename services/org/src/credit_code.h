// The unified social credit code (统一社会信用代码, GB 32100-2015) of a unit: 18 characters from
// 0-9 and the capitals without I, O, Z, S and V, the last a check character over the first 17.
// Plain C++: no SQL, no gRPC, so the table-driven tests drive it directly.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace dj::org {

inline constexpr int kCreditCodeLength = 18;

// The check character GB 32100 gives for the first 17 characters of a code, or '\0' when
// `first17` is not 17 characters of the code's alphabet (upper case).
char CreditCodeCheckCharacter(std::string_view first17);

// `code` upper-cased and checked: INVALID_ARGUMENT (reason INVALID_CREDIT_CODE) naming `field`
// with the first thing wrong: the length, a character outside the alphabet (by 1-based
// position), or the check character (and what it should be).
absl::StatusOr<std::string> NormalizeCreditCode(std::string_view code, std::string_view field);

}  // namespace dj::org
