// GB 32100-2015, section 5 and appendix: character values, weights and the check character.
#include "services/org/src/credit_code.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"

namespace dj::org {
namespace {

// The 31 characters a code may use, in value order: 0-9 are 0-9, then A=10 ... Y=30 (I, O, Z, S
// and V are left out because they read like 1, 0, 2, 5 and U).
constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr int kModulus = 31;
// 3^i mod 31 for positions 1..17.
constexpr std::array<int, kCreditCodeLength - 1> kWeights = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                                             29, 25, 13, 8,  24, 10, 30, 28};

int ValueOf(char c) {
  const size_t at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

absl::Status Bad(std::string_view field, std::string why) {
  return rpc::InvalidArgument({{std::string(field), std::move(why)}}, "INVALID_CREDIT_CODE");
}

}  // namespace

char CreditCodeCheckCharacter(std::string_view first17) {
  if (first17.size() != kWeights.size()) {
    return '\0';
  }
  int sum = 0;
  for (size_t i = 0; i < first17.size(); ++i) {
    const int v = ValueOf(first17[i]);
    if (v < 0) {
      return '\0';
    }
    sum += v * kWeights[i];
  }
  const int check = (kModulus - sum % kModulus) % kModulus;  // 31 -> 0
  return kAlphabet[check];
}

absl::StatusOr<std::string> NormalizeCreditCode(std::string_view code, std::string_view field) {
  // Length in characters, so a pasted full-width or Chinese character reads as what it is.
  int chars = 0;
  for (unsigned char c : code) {
    chars += (c & 0xc0) != 0x80 ? 1 : 0;
  }
  if (chars != kCreditCodeLength) {
    return Bad(field, absl::StrCat("must be 18 characters (统一社会信用代码), got ", chars));
  }
  std::string out;
  out.reserve(code.size());
  for (size_t i = 0; i < code.size(); ++i) {
    const char c = Upper(code[i]);
    if (ValueOf(c) < 0) {
      return Bad(field, absl::StrCat("bad character at position ", i + 1,
                                     ": only 0-9 and A-Z without I, O, Z, S, V are used"));
    }
    out.push_back(c);
  }
  const char check = CreditCodeCheckCharacter(std::string_view(out).substr(0, 17));
  if (out.back() != check) {
    return Bad(field, absl::StrCat("check character should be ", std::string(1, check), ", got ",
                                   std::string(1, out.back())));
  }
  return out;
}

}  // namespace dj::org
