// GB 11643-1999 (ISO 7064 MOD 11-2 check character) and mainland phone numbering, as people type
// them: pasted with spaces, in full-width digits from a Chinese input method, with +86.
#include "services/member/src/id_number.h"

#include <array>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"

namespace dj::member {
namespace {

// Weights 2^(18-i) mod 11 for positions 1..17; the check value is (12 - sum mod 11) mod 11,
// written "10X98765432"[sum mod 11].
constexpr std::array<int, kIdNumberLength - 1> kWeights = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                                           3, 7, 9,  10, 5, 8, 4, 2};
constexpr std::string_view kCheckCharacters = "10X98765432";
constexpr int32_t kMinBirthYear = 1900;
constexpr char32_t kInvalid = 0xFFFD;

// One code point per character; a byte that is not valid UTF-8 is one kInvalid, so it counts as
// one character and is refused like any other stray character.
std::vector<char32_t> Decode(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    char32_t cp = 0;
    if (b < 0x80) {
      len = 1;
      cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (ok) {
      out.push_back(cp);
      i += len;
    } else {
      out.push_back(kInvalid);
      ++i;
    }
  }
  return out;
}

size_t CharacterCount(std::string_view s) { return Decode(s).size(); }

bool IsSpace(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == U'\v' || c == U'\f' ||
         c == U'\u00A0' || c == U'\u3000';
}

// Full-width digits (０-９, what a Chinese input method types) as ASCII; anything else unchanged.
char32_t AsciiDigit(char32_t c) {
  return c >= U'０' && c <= U'９' ? static_cast<char32_t>(U'0' + (c - U'０')) : c;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsDigit(char32_t c) { return c >= U'0' && c <= U'9'; }

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) {
      return false;
    }
  }
  return true;
}

int32_t Number(std::string_view digits) {
  int32_t n = 0;
  for (char c : digits) {
    n = n * 10 + (c - '0');
  }
  return n;
}

// 17 digits then a digit or X: what NormalizeIdNumber returns, before the check and the date.
bool HasIdNumberShape(std::string_view s) {
  return s.size() == kIdNumberLength && AllDigits(s.substr(0, kIdNumberLength - 1)) &&
         (IsDigit(s.back()) || s.back() == 'X');
}

// The date of birth at characters 7-14 of a number of the right shape, when it is a real date.
std::optional<time::CivilDate> BirthDateOf(std::string_view s) {
  const time::CivilDate d{Number(s.substr(6, 4)), Number(s.substr(10, 2)), Number(s.substr(12, 2))};
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > time::DaysInMonth(d.year, d.month)) {
    return std::nullopt;
  }
  return d;
}

absl::Status BadIdNumber(std::string_view field, std::string why) {
  return rpc::InvalidArgument({{std::string(field), std::move(why)}}, "INVALID_ID_NUMBER");
}

absl::Status BadPhone(std::string_view field, std::string why) {
  return rpc::InvalidArgument({{std::string(field), std::move(why)}}, "INVALID_PHONE");
}

bool IsMobile(std::string_view s) {
  return s.size() == 11 && AllDigits(s) && s[0] == '1' && s[1] >= '3';
}

// 3 digits for 010 and 02X, 4 for every other area code, 0 when `digits` (starting with 0)
// cannot begin with a mainland area code: 00 dials abroad, and 01X is only 010.
size_t AreaCodeLength(std::string_view digits) {
  if (digits.size() < 3 || digits[0] != '0' || digits[1] == '0') {
    return 0;
  }
  if (digits[1] == '1') {
    return digits[2] == '0' ? 3 : 0;
  }
  return digits[1] == '2' ? 3 : 4;
}

// Where the '-' of a normalized landline is, or 0 when `s` is not one.
size_t LandlineDash(std::string_view s) {
  const size_t dash = s.find('-');
  if (dash == std::string_view::npos || dash < 3) {
    return 0;
  }
  const std::string_view area = s.substr(0, dash);
  const std::string_view local = s.substr(dash + 1);
  if (!AllDigits(area) || !AllDigits(local) || AreaCodeLength(area) != area.size() ||
      local.size() < 7 || local.size() > 8) {
    return 0;
  }
  return dash;
}

}  // namespace

char IdNumberCheckCharacter(std::string_view first17) {
  if (first17.size() != kWeights.size() || !AllDigits(first17)) {
    return '\0';
  }
  int sum = 0;
  for (size_t i = 0; i < first17.size(); ++i) {
    sum += (first17[i] - '0') * kWeights[i];
  }
  return kCheckCharacters[static_cast<size_t>(sum % 11)];
}

absl::StatusOr<std::string> NormalizeIdNumber(std::string_view in, std::string_view field,
                                              const time::CivilDate& today) {
  std::vector<char32_t> chars = Decode(in);
  size_t begin = 0;
  size_t end = chars.size();
  while (begin < end && IsSpace(chars[begin])) {
    ++begin;
  }
  while (end > begin && IsSpace(chars[end - 1])) {
    --end;
  }
  if (end - begin != kIdNumberLength) {
    return BadIdNumber(
        field, absl::StrCat("must be 18 characters (居民身份证号码, GB 11643), got ", end - begin));
  }
  std::string out;
  out.reserve(kIdNumberLength);
  for (size_t i = begin; i < end; ++i) {
    char32_t c = AsciiDigit(chars[i]);
    if (c == U'x' || c == U'Ｘ' || c == U'ｘ') {
      c = U'X';
    }
    const bool last = i + 1 == end;
    if (!IsDigit(c) && !(last && c == U'X')) {
      return BadIdNumber(field, last ? std::string("the last character must be a digit or X")
                                     : absl::StrCat("character ", i - begin + 1,
                                                    " must be a digit (only the last may be X)"));
    }
    out.push_back(static_cast<char>(c));
  }
  // Before the date: a mistyped digit anywhere, the date included, shows up here.
  if (out.back() != IdNumberCheckCharacter(std::string_view(out).substr(0, 17))) {
    return BadIdNumber(field,
                       "the check character does not match (GB 11643): a character is "
                       "mistyped");
  }
  const std::optional<time::CivilDate> birth = BirthDateOf(out);
  if (!birth.has_value()) {
    return BadIdNumber(field, "characters 7-14 are not a real date of birth (YYYYMMDD)");
  }
  if (birth->year < kMinBirthYear) {
    return BadIdNumber(field, "the date of birth it encodes is before 1900");
  }
  if (*birth > today) {
    return BadIdNumber(field, "the date of birth it encodes is after today");
  }
  return out;
}

IdNumberFacts FactsOf(std::string_view normalized) {
  if (!HasIdNumberShape(normalized)) {
    return {};
  }
  const std::optional<time::CivilDate> birth = BirthDateOf(normalized);
  if (!birth.has_value()) {
    return {};
  }
  const bool odd = (normalized[16] - '0') % 2 == 1;
  return {*birth, odd ? Gender::kMale : Gender::kFemale, std::string(normalized.substr(0, 6))};
}

absl::Status CrossCheck(const IdNumberFacts& facts,
                        const std::optional<time::CivilDate>& birth_date, Gender gender,
                        std::string_view birth_field, std::string_view gender_field) {
  std::vector<rpc::FieldViolation> violations;
  if (birth_date.has_value() && *birth_date != facts.birth_date) {
    violations.push_back({std::string(birth_field),
                          "does not match the date of birth in the ID number (characters 7-14)"});
  }
  if (gender != Gender::kUnspecified && gender != facts.gender) {
    violations.push_back({std::string(gender_field),
                          "does not match the gender the ID number encodes (its 17th digit: odd "
                          "male, even female)"});
  }
  if (violations.empty()) {
    return absl::OkStatus();
  }
  return rpc::InvalidArgument(std::move(violations), "ID_NUMBER_MISMATCH");
}

std::string MaskIdNumber(std::string_view normalized) {
  if (!HasIdNumberShape(normalized)) {
    return std::string(CharacterCount(normalized), '*');
  }
  return absl::StrCat(AV(normalized.substr(0, 6)), "********", AV(normalized.substr(14)));
}

std::string MakeIdNumber(std::string_view region6, const time::CivilDate& birth,
                         int32_t sequence3) {
  if (region6.size() != 6 || !AllDigits(region6) || sequence3 < 0 || sequence3 > 999 ||
      birth.year < 0 || birth.year > 9999 || birth.month < 0 || birth.month > 99 || birth.day < 0 ||
      birth.day > 99) {
    return "";
  }
  std::string out(region6);
  const auto append = [&out](int32_t value, int width) {
    std::string digits(static_cast<size_t>(width), '0');
    for (int i = width - 1; i >= 0; --i, value /= 10) {
      digits[static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
    }
    out += digits;
  };
  append(birth.year, 4);
  append(birth.month, 2);
  append(birth.day, 2);
  append(sequence3, 3);
  out.push_back(IdNumberCheckCharacter(out));
  return out;
}

absl::StatusOr<std::string> NormalizePhone(std::string_view in, std::string_view field) {
  constexpr std::string_view kExpected =
      "must be a mobile number (11 digits starting 13-19) or a landline with its area code "
      "(0513-NNNNNNNN)";
  std::string digits;
  bool plus = false;
  for (char32_t c : Decode(in)) {
    c = AsciiDigit(c);
    if (IsDigit(c)) {
      digits.push_back(static_cast<char>(c));
    } else if (c == U'+' || c == U'＋') {
      if (plus || !digits.empty()) {
        return BadPhone(field, "a + may only come first, before 86");
      }
      plus = true;
    } else if (!(IsSpace(c) || c == U'-' || c == U'－' || (c >= U'\u2010' && c <= U'\u2015') ||
                 c == U'(' || c == U')' || c == U'（' || c == U'）')) {
      return BadPhone(field,
                      "may contain only digits, spaces, dashes, parentheses and a leading "
                      "+86 (no extension)");
    }
  }
  if (digits.empty()) {
    return BadPhone(field, std::string(kExpected));
  }
  // 86 never begins a domestic number (mobiles begin with 1, landlines with 0), so it is the
  // country code however it was written.
  bool international = plus;
  if (plus) {
    if (!digits.starts_with("86")) {
      return BadPhone(field, "only mainland China numbers (+86) are accepted");
    }
    digits.erase(0, 2);
  } else if (digits.starts_with("0086")) {
    digits.erase(0, 4);
    international = true;
  } else if (digits.starts_with("86")) {
    digits.erase(0, 2);
    international = true;
  }
  if (digits.empty()) {
    return BadPhone(field, std::string(kExpected));
  }
  // After +86 a landline drops its leading 0, and Beijing's 10 is the only one beginning with 1.
  if (digits[0] == '1' && !(international && digits.starts_with("10"))) {
    if (digits.size() != 11) {
      return BadPhone(field, absl::StrCat("a mobile number has 11 digits, got ", digits.size()));
    }
    if (digits[1] < '3') {
      return BadPhone(field, "a mobile number starts with 13 to 19");
    }
    return digits;
  }
  if (international && digits[0] != '0') {
    digits = absl::StrCat("0", digits);  // not insert(): GCC 12 -Wrestrict false positive
  }
  if (digits[0] != '0') {
    return BadPhone(field, "a landline needs its area code, e.g. 0513-NNNNNNNN");
  }
  if (digits.starts_with("00")) {
    return BadPhone(field, "only mainland China numbers (+86) are accepted");
  }
  const size_t area = AreaCodeLength(digits);
  if (area == 0 && digits.size() >= 3) {
    return BadPhone(field, "the area code is not a mainland one (010, 02X or 03XX-09XX)");
  }
  if (area == 0 || digits.size() < area + 7 || digits.size() > area + 8) {
    return BadPhone(field, "a landline has 7 or 8 digits after its area code (no extension)");
  }
  return absl::StrCat(AV(std::string_view(digits).substr(0, area)), "-",
                      AV(std::string_view(digits).substr(area)));
}

std::string MaskPhone(std::string_view normalized) {
  if (IsMobile(normalized)) {
    return absl::StrCat(AV(normalized.substr(0, 3)), "****", AV(normalized.substr(7)));
  }
  if (const size_t dash = LandlineDash(normalized); dash != 0) {
    const size_t local = normalized.size() - dash - 1;
    return absl::StrCat(AV(normalized.substr(0, dash + 1)), std::string(local - 2, '*'),
                        AV(normalized.substr(normalized.size() - 2)));
  }
  return std::string(CharacterCount(normalized), '*');
}

}  // namespace dj::member
