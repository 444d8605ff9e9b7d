// A member's personal identifiers: the mainland resident identity card number (居民身份证号码,
// GB 11643-1999) and phone numbers, normalized, checked, cross-checked and masked for display.
// Plain C++: no SQL, no gRPC. These values are personal data: no error here ever contains them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/time/civil_date.h"

namespace dj::member {

enum class Gender { kUnspecified = 0, kMale = 1, kFemale = 2 };

inline constexpr int kIdNumberLength = 18;

// What a valid ID number encodes.
struct IdNumberFacts {
  time::CivilDate birth_date;
  Gender gender = Gender::kUnspecified;
  std::string region_code;  // the first 6 digits (行政区划代码 of the place of first registration)
};

// The check character (0-9 or X) ISO 7064 MOD 11-2 gives for the first 17 characters of an ID
// number, or '\0' when `first17` is not 17 ASCII digits.
char IdNumberCheckCharacter(std::string_view first17);

// `in` trimmed (ASCII whitespace, U+00A0 and the full-width space U+3000 at either end), with
// full-width digits and Ｘ/ｘ made ASCII and x upper-cased, then checked in this order: 18
// characters, 17 digits then a digit or X, the check character, a real date of birth at 7-14,
// born 1900-01-01 or later and not after `today`. Separators inside are refused. The first thing
// wrong is INVALID_ARGUMENT (reason INVALID_ID_NUMBER) naming `field`; it never contains the
// value or the date of birth.
absl::StatusOr<std::string> NormalizeIdNumber(std::string_view in, std::string_view field,
                                              const time::CivilDate& today);

// The facts a number NormalizeIdNumber accepted encodes: the date of birth, the gender (the 17th
// digit odd is male, even female) and the region. Anything else gives empty facts (a zero date,
// kUnspecified, no region).
IdNumberFacts FactsOf(std::string_view normalized);

// The date of birth and gender a record states must agree with its ID number: INVALID_ARGUMENT
// (reason ID_NUMBER_MISMATCH) with one violation naming `birth_field` and/or `gender_field` for
// each that contradicts it. An absent date of birth or kUnspecified gender is not checked.
absl::Status CrossCheck(const IdNumberFacts& facts,
                        const std::optional<time::CivilDate>& birth_date, Gender gender,
                        std::string_view birth_field, std::string_view gender_field);

// "320681********1234": the region and the last 4 of a normalized number, the date of birth and
// the rest hidden. Anything that is not 17 digits and a digit or X becomes as many '*' as it has
// characters.
std::string MaskIdNumber(std::string_view normalized);

// A valid ID number for tests and demo data: `region6` (6 digits), the date of birth and a
// sequence 0-999 (its parity is the gender: odd male), with its check character. The date is
// written as given, so a test can make a well-checked number with an impossible date. "" when
// `region6` is not 6 digits, `sequence3` is outside 0-999 or a date part does not fit its digits.
std::string MakeIdNumber(std::string_view region6, const time::CivilDate& birth, int32_t sequence3);

// A mainland mobile number, 1[3-9] and 9 more digits, normalized to its 11 digits; or a landline
// with its area code, normalized to "0513-12345678": area codes 010 and 02X have 3 digits, every
// other (03XX-09XX) 4, and the local number 7 or 8 digits. Accepted around the digits: spaces,
// dashes, parentheses (ASCII or full-width), full-width digits and a leading +86, 0086 or 86
// (then a landline's leading 0 may be left out: "+86 513 1234 5678"). Extensions and other
// countries are refused. INVALID_ARGUMENT (reason INVALID_PHONE) naming `field`, never
// containing the value.
absl::StatusOr<std::string> NormalizePhone(std::string_view in, std::string_view field);

// "138****5678" for a normalized mobile number (the first 3 and last 4); a normalized landline
// keeps its area code and last 2 digits: "0513-******78". Anything else becomes as many '*' as
// it has characters.
std::string MaskPhone(std::string_view normalized);

}  // namespace dj::member
