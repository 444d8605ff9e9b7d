// ID numbers (GB 11643-1999) and phone numbers, table-driven: numbers whose check characters were
// worked out by hand from the standard's weights (the standard's own examples among them), the
// date edges, every way a number can be wrong, masking, and that no refusal echoes the value.
#include "services/member/src/id_number.h"

#include <string>
#include <string_view>
#include <vector>

#include "common/rpc/errors.h"
#include "gtest/gtest.h"

namespace dj::member {
namespace {

using time::CivilDate;

constexpr CivilDate kToday{2024, 6, 15};
constexpr std::string_view kField = "member.id_number";
constexpr std::string_view kPhoneField = "member.phone";

struct Refusal {
  std::string in;
  std::string description;
};

const std::vector<Refusal>& IdNumberRefusals() {
  static const auto* const kCases = new std::vector<Refusal>{
      {"", "must be 18 characters (居民身份证号码, GB 11643), got 0"},
      {"   ", "must be 18 characters (居民身份证号码, GB 11643), got 0"},
      {"11010119900307123", "must be 18 characters (居民身份证号码, GB 11643), got 17"},
      {"1101011990030712333", "must be 18 characters (居民身份证号码, GB 11643), got 19"},
      {"110101 199003071233", "must be 18 characters (居民身份证号码, GB 11643), got 19"},
      {"11010119900307123３３", "must be 18 characters (居民身份证号码, GB 11643), got 19"},
      {"110101 19900307123", "character 7 must be a digit (only the last may be X)"},
      {"1101011990O3071233", "character 11 must be a digit (only the last may be X)"},
      {"X10101199003071233", "character 1 must be a digit (only the last may be X)"},
      {"11010519491231002X0", "must be 18 characters (居民身份证号码, GB 11643), got 19"},
      {"1101051949123100X2", "character 17 must be a digit (only the last may be X)"},
      {"11010119900307123Y", "the last character must be a digit or X"},
      {"11010119900307123号", "the last character must be a digit or X"},
      {"110101-19900307-12", "character 7 must be a digit (only the last may be X)"},
      {"11010119900307123\xff", "the last character must be a digit or X"},  // not UTF-8
      // Check characters: one off, transposed digits, an X where a digit belongs.
      {"110101199003071234",
       "the check character does not match (GB 11643): a character is mistyped"},
      {"110101199003071323",
       "the check character does not match (GB 11643): a character is mistyped"},
      {"110101199003071X33", "character 16 must be a digit (only the last may be X)"},
      {"11010119900307123X",
       "the check character does not match (GB 11643): a character is mistyped"},
      {"110105194912310020",
       "the check character does not match (GB 11643): a character is mistyped"},
      // Dates (each with a matching check character).
      {"320681202302290033", "characters 7-14 are not a real date of birth (YYYYMMDD)"},
      {"110101190002290011", "characters 7-14 are not a real date of birth (YYYYMMDD)"},
      {"110101200002300028", "characters 7-14 are not a real date of birth (YYYYMMDD)"},
      {"320681199004310011", "characters 7-14 are not a real date of birth (YYYYMMDD)"},
      {"320681199013010010", "characters 7-14 are not a real date of birth (YYYYMMDD)"},
      {"320681199001000018", "characters 7-14 are not a real date of birth (YYYYMMDD)"},
      {"320681189912310018", "the date of birth it encodes is before 1900"},
      {"440524188001010014", "the date of birth it encodes is before 1900"},  // GB 11643's own
      {"320681202406160057", "the date of birth it encodes is after today"},
      {"110101203001010014", "the date of birth it encodes is after today"},
  };
  return *kCases;
}

constexpr std::string_view kPhoneExpected =
    "must be a mobile number (11 digits starting 13-19) or a landline with its area code "
    "(0513-NNNNNNNN)";
constexpr std::string_view kOnlyMainland = "only mainland China numbers (+86) are accepted";
constexpr std::string_view kStrayCharacter =
    "may contain only digits, spaces, dashes, parentheses and a leading +86 (no extension)";
constexpr std::string_view kLandlineLength =
    "a landline has 7 or 8 digits after its area code (no extension)";

const std::vector<Refusal>& PhoneRefusals() {
  static const auto* const kCases = new std::vector<Refusal>{
      {"", std::string(kPhoneExpected)},
      {" - ", std::string(kPhoneExpected)},
      {"+86", std::string(kPhoneExpected)},
      {"0086", std::string(kPhoneExpected)},
      {"1381234567", "a mobile number has 11 digits, got 10"},
      {"138123456789", "a mobile number has 11 digits, got 12"},
      {"+86 138 1234 567", "a mobile number has 11 digits, got 10"},
      {"1３８１２３４５６７", "a mobile number has 11 digits, got 10"},
      {"12812345678", "a mobile number starts with 13 to 19"},
      {"11012345678", "a mobile number starts with 13 to 19"},
      {"10123456789", "a mobile number starts with 13 to 19"},
      {"+86 128 1234 5678", "a mobile number starts with 13 to 19"},
      {"+1 415 555 0100", std::string(kOnlyMainland)},
      {"+852 9123 4567", std::string(kOnlyMainland)},
      {"001 415 555 0100", std::string(kOnlyMainland)},
      {"+86 00 1234 5678", std::string(kOnlyMainland)},
      {"138 1234 5678 ext 12", std::string(kStrayCharacter)},
      {"138.1234.5678", std::string(kStrayCharacter)},
      {"138１２３４５６７８号", std::string(kStrayCharacter)},
      {"138+12345678", "a + may only come first, before 86"},
      {"++86 13812345678", "a + may only come first, before 86"},
      {"85123456", "a landline needs its area code, e.g. 0513-NNNNNNNN"},
      {"011-12345678", "the area code is not a mainland one (010, 02X or 03XX-09XX)"},
      {"05", std::string(kLandlineLength)},
      {"0513-123456", std::string(kLandlineLength)},
      {"0513-123456789", std::string(kLandlineLength)},
      {"0513-12345678-123", std::string(kLandlineLength)},
      {"010-123456", std::string(kLandlineLength)},
  };
  return *kCases;
}

// Every 6 digits in a row of what was typed (full-width digits read as ASCII, separators
// skipped): none of them may appear in an error.
std::vector<std::string> DigitWindows(std::string_view in) {
  std::string digits;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] >= '0' && in[i] <= '9') {
      digits.push_back(in[i]);
    } else if (in.substr(i, 2) == "\xef\xbc" && i + 2 < in.size() &&
               static_cast<unsigned char>(in[i + 2]) >= 0x90 &&
               static_cast<unsigned char>(in[i + 2]) <= 0x99) {
      digits.push_back(static_cast<char>('0' + (static_cast<unsigned char>(in[i + 2]) - 0x90)));
      i += 2;
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i + 6 <= digits.size(); ++i) {
    out.push_back(digits.substr(i, 6));
  }
  return out;
}

void ExpectNoEcho(std::string_view in, const absl::Status& status) {
  const std::string text = status.ToString();
  ASSERT_FALSE(status.ok()) << in;
  for (const std::string& window : DigitWindows(in)) {
    EXPECT_EQ(text.find(window), std::string::npos) << in << " leaks " << window << ": " << text;
  }
  if (in.size() >= 6) {
    EXPECT_EQ(text.find(in), std::string::npos) << in << ": " << text;
  }
}

TEST(IdNumberTest, CheckCharacterFollowsTheStandardsWeights) {
  EXPECT_EQ(IdNumberCheckCharacter("11010519491231002"), 'X');  // GB 11643's examples
  EXPECT_EQ(IdNumberCheckCharacter("44052418800101001"), '4');
  EXPECT_EQ(IdNumberCheckCharacter("11010119900307123"), '3');
  EXPECT_EQ(IdNumberCheckCharacter("32068119850615002"), '5');
  EXPECT_EQ(IdNumberCheckCharacter("00000000000000000"), '1');  // sum 0
  EXPECT_EQ(IdNumberCheckCharacter("1101011990030712"), '\0');
  EXPECT_EQ(IdNumberCheckCharacter("110101199003071233"), '\0');
  EXPECT_EQ(IdNumberCheckCharacter("1101011990030712X"), '\0');
}

TEST(IdNumberTest, ValidNumbersPassNormalized) {
  struct Case {
    std::string in;
    std::string normalized;
  };
  const std::vector<Case> cases = {
      {"110101190001010014", "110101190001010014"},  // the first day accepted
      {"320681202406150051", "320681202406150051"},  // born today
      {"320681200002290040", "320681200002290040"},  // 2000 is a leap year
      {"110101202402290112", "110101202402290112"},
      {"11010519491231002X", "11010519491231002X"},  // GB 11643's example, check X
      {"11010519491231002x", "11010519491231002X"},
      {"32068119880615006X", "32068119880615006X"},
      {"11010119700307008x", "11010119700307008X"},
      {"11010519491231002Ｘ", "11010519491231002X"},
      {"11010519491231002ｘ", "11010519491231002X"},
      {"110101199003071233", "110101199003071233"},
      {"320681198506150025", "320681198506150025"},
      {"320681194910010018", "320681194910010018"},
      {"  110101199003071233  ", "110101199003071233"},
      {"\t110101199003071233\r\n", "110101199003071233"},
      {"\u3000110101199003071233\u3000", "110101199003071233"},  // full-width spaces
      {"\u00a0110101199003071233", "110101199003071233"},
      {"１１０１０１１９９００３０７１２３３", "110101199003071233"},
      {"3206811985０６１５００２５", "320681198506150025"},
  };
  for (const Case& c : cases) {
    auto out = NormalizeIdNumber(c.in, kField, kToday);
    ASSERT_TRUE(out.ok()) << c.in << ": " << out.status();
    EXPECT_EQ(*out, c.normalized);
  }
}

TEST(IdNumberTest, EveryRefusalNamesTheFieldAndWhatIsWrong) {
  for (const Refusal& c : IdNumberRefusals()) {
    const absl::Status s = NormalizeIdNumber(c.in, kField, kToday).status();
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.in;
    EXPECT_EQ(rpc::Reason(s), "INVALID_ID_NUMBER") << c.in;
    ASSERT_EQ(rpc::Violations(s).size(), 1u) << c.in;
    EXPECT_EQ(rpc::Violations(s)[0].field, kField) << c.in;
    EXPECT_EQ(rpc::Violations(s)[0].description, c.description) << c.in;
  }
}

TEST(IdNumberTest, EveryWrongCheckCharacterIsRefused) {
  for (const std::string body : {"11010119900307123", "11010519491231002", "32068119850615002",
                                 "32068119880615006", "11010119000101001"}) {
    const char right = IdNumberCheckCharacter(body);
    ASSERT_NE(right, '\0') << body;
    int refused = 0;
    for (const char c : std::string_view("0123456789X")) {
      auto out = NormalizeIdNumber(body + c, kField, kToday);
      if (c == right) {
        EXPECT_TRUE(out.ok()) << body << c << ": " << out.status();
        continue;
      }
      ++refused;
      ASSERT_FALSE(out.ok()) << body << c;
      EXPECT_EQ(rpc::Violations(out.status())[0].description,
                "the check character does not match (GB 11643): a character is mistyped");
      ExpectNoEcho(body + c, out.status());
    }
    EXPECT_EQ(refused, 10) << body;
  }
}

TEST(IdNumberTest, TodayDecidesWhetherABirthIsInTheFuture) {
  EXPECT_TRUE(NormalizeIdNumber("320681202406160057", kField, {2024, 6, 16}).ok());
  EXPECT_FALSE(NormalizeIdNumber("320681202406160057", kField, {2024, 6, 15}).ok());
  EXPECT_TRUE(NormalizeIdNumber("110101202402290112", kField, {2024, 2, 29}).ok());
  EXPECT_FALSE(NormalizeIdNumber("110101202402290112", kField, {2024, 2, 28}).ok());
}

TEST(IdNumberTest, FactsComeFromTheNumber) {
  struct Case {
    std::string normalized;
    CivilDate birth;
    Gender gender;
    std::string region;
  };
  const std::vector<Case> cases = {
      {"11010519491231002X", {1949, 12, 31}, Gender::kFemale, "110105"},  // 17th digit 2
      {"110101199003071233", {1990, 3, 7}, Gender::kMale, "110101"},      // 3
      {"320681198506150025", {1985, 6, 15}, Gender::kFemale, "320681"},   // 2
      {"320681194910010018", {1949, 10, 1}, Gender::kMale, "320681"},     // 1
      {"110101190001010014", {1900, 1, 1}, Gender::kMale, "110101"},
      {"32068119880615006X", {1988, 6, 15}, Gender::kFemale, "320681"},  // 6
      {"320681202406150051", {2024, 6, 15}, Gender::kMale, "320681"},    // 5
  };
  for (const Case& c : cases) {
    const IdNumberFacts f = FactsOf(c.normalized);
    EXPECT_EQ(f.birth_date, c.birth) << c.normalized;
    EXPECT_EQ(f.gender, c.gender) << c.normalized;
    EXPECT_EQ(f.region_code, c.region) << c.normalized;
  }
  for (const std::string bad : {"", "11010519491231002", "11010519491231002x", "320681202302290033",
                                "1101011990O3071233"}) {
    const IdNumberFacts f = FactsOf(bad);
    EXPECT_EQ(f.birth_date, CivilDate{}) << bad;
    EXPECT_EQ(f.gender, Gender::kUnspecified) << bad;
    EXPECT_EQ(f.region_code, "") << bad;
  }
}

TEST(IdNumberTest, CrossCheckNamesTheFieldThatContradictsTheNumber) {
  const IdNumberFacts facts = FactsOf("320681198506150025");  // 1985-06-15, female
  struct Case {
    std::optional<CivilDate> birth;
    Gender gender;
    std::vector<std::string> fields;  // empty: agrees
  };
  const std::vector<Case> cases = {
      {std::nullopt, Gender::kUnspecified, {}},
      {CivilDate{1985, 6, 15}, Gender::kFemale, {}},
      {CivilDate{1985, 6, 15}, Gender::kUnspecified, {}},
      {std::nullopt, Gender::kFemale, {}},
      {CivilDate{1985, 6, 16}, Gender::kFemale, {"member.birth_date"}},
      {CivilDate{1985, 6, 14}, Gender::kUnspecified, {"member.birth_date"}},
      {CivilDate{1986, 6, 15}, Gender::kUnspecified, {"member.birth_date"}},
      {CivilDate{1985, 6, 15}, Gender::kMale, {"member.gender"}},
      {std::nullopt, Gender::kMale, {"member.gender"}},
      {CivilDate{1958, 6, 15}, Gender::kMale, {"member.birth_date", "member.gender"}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const absl::Status s =
        CrossCheck(facts, c.birth, c.gender, "member.birth_date", "member.gender");
    if (c.fields.empty()) {
      EXPECT_TRUE(s.ok()) << i << ": " << s;
      continue;
    }
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << i;
    EXPECT_EQ(rpc::Reason(s), "ID_NUMBER_MISMATCH") << i;
    const std::vector<rpc::FieldViolation> v = rpc::Violations(s);
    ASSERT_EQ(v.size(), c.fields.size()) << i;
    for (size_t k = 0; k < v.size(); ++k) {
      EXPECT_EQ(v[k].field, c.fields[k]) << i;
    }
    ExpectNoEcho("320681198506150025", s);
    EXPECT_EQ(s.ToString().find("1985"), std::string::npos) << s;  // nor the date of birth
  }
  // Facts of a male number: the gender check goes the other way.
  EXPECT_TRUE(
      CrossCheck(FactsOf("110101199003071233"), CivilDate{1990, 3, 7}, Gender::kMale, "b", "g")
          .ok());
  EXPECT_EQ(rpc::Violations(CrossCheck(FactsOf("110101199003071233"), std::nullopt, Gender::kFemale,
                                       "b", "g"))[0]
                .field,
            "g");
}

TEST(IdNumberTest, MaskingKeepsTheRegionAndTheLastFour) {
  struct Case {
    std::string in;
    std::string masked;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"320681198506150025", "320681********0025"},
      {"11010519491231002X", "110105********002X"},
      {"32068119850615002", "*****************"},      // 17: not a number, all hidden
      {"3206811985061500255", "*******************"},  // 19
      {"11010519491231002x", "******************"},    // not normalized
      {"3206811985061500２５", "******************"},  // counted in characters
      {"1101011990O3071233", "******************"},
      {"身份证", "***"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(MaskIdNumber(c.in), c.masked) << c.in;
  }
}

TEST(IdNumberTest, MakeIdNumberComputesTheCheckCharacter) {
  EXPECT_EQ(MakeIdNumber("110105", {1949, 12, 31}, 2), "11010519491231002X");
  EXPECT_EQ(MakeIdNumber("440524", {1880, 1, 1}, 1), "440524188001010014");
  EXPECT_EQ(MakeIdNumber("320681", {1985, 6, 15}, 2), "320681198506150025");
  EXPECT_EQ(MakeIdNumber("110101", {1900, 1, 1}, 1), "110101190001010014");
  // Every sequence gives a number NormalizeIdNumber accepts, its parity the gender.
  for (int32_t seq = 0; seq <= 999; ++seq) {
    const std::string id = MakeIdNumber("320681", {1990, 2, 28}, seq);
    auto out = NormalizeIdNumber(id, kField, kToday);
    ASSERT_TRUE(out.ok()) << seq << ": " << out.status();
    EXPECT_EQ(*out, id);
    EXPECT_EQ(FactsOf(id).gender, seq % 2 == 1 ? Gender::kMale : Gender::kFemale) << seq;
  }
  // The date is written as given, so a test can make an impossible one with a good check.
  EXPECT_EQ(MakeIdNumber("320681", {2023, 2, 29}, 3), "320681202302290033");
  EXPECT_EQ(MakeIdNumber("32068", {1990, 1, 1}, 1), "");
  EXPECT_EQ(MakeIdNumber("3206811", {1990, 1, 1}, 1), "");
  EXPECT_EQ(MakeIdNumber("32068a", {1990, 1, 1}, 1), "");
  EXPECT_EQ(MakeIdNumber("320681", {1990, 1, 1}, -1), "");
  EXPECT_EQ(MakeIdNumber("320681", {1990, 1, 1}, 1000), "");
  EXPECT_EQ(MakeIdNumber("320681", {10000, 1, 1}, 1), "");
}

TEST(PhoneTest, ValidNumbersPassNormalized) {
  struct Case {
    std::string in;
    std::string normalized;
  };
  const std::vector<Case> cases = {
      {"13012345678", "13012345678"},  // the lowest and highest second digits
      {"19912345678", "19912345678"},
      {"13812345678", "13812345678"},
      {"138 1234 5678", "13812345678"},
      {"138-1234-5678", "13812345678"},
      {"  138 1234-5678 ", "13812345678"},
      {"+86 138 1234 5678", "13812345678"},
      {"+8613812345678", "13812345678"},
      {"+86-138-1234-5678", "13812345678"},
      {"(+86) 13812345678", "13812345678"},
      {"8613812345678", "13812345678"},
      {"008613812345678", "13812345678"},
      {"１３８１２３４５６７８", "13812345678"},
      {"＋８６　１３８　１２３４　５６７８", "13812345678"},
      {"138－1234－5678", "13812345678"},
      {"0513-12345678", "0513-12345678"},
      {"0513 8512 3456", "0513-85123456"},
      {"051385123456", "0513-85123456"},
      {"(0513) 85123456", "0513-85123456"},
      {"（0513）85123456", "0513-85123456"},
      {"0513-1234567", "0513-1234567"},
      {"010-12345678", "010-12345678"},
      {"01012345678", "010-12345678"},
      {"021 6123 4567", "021-61234567"},
      {"020—12345678", "020-12345678"},
      {"０５１３－８５１２３４５６", "0513-85123456"},
      {"+86 10 1234 5678", "010-12345678"},  // the landline's 0 dropped after +86
      {"+86 513 8512 3456", "0513-85123456"},
      {"+86 0513 85123456", "0513-85123456"},
      {"0086 21 61234567", "021-61234567"},
      {"86 21 61234567", "021-61234567"},
  };
  for (const Case& c : cases) {
    auto out = NormalizePhone(c.in, kPhoneField);
    ASSERT_TRUE(out.ok()) << c.in << ": " << out.status();
    EXPECT_EQ(*out, c.normalized) << c.in;
  }
}

TEST(PhoneTest, EveryRefusalNamesTheFieldAndWhatIsWrong) {
  for (const Refusal& c : PhoneRefusals()) {
    const absl::Status s = NormalizePhone(c.in, kPhoneField).status();
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.in;
    EXPECT_EQ(rpc::Reason(s), "INVALID_PHONE") << c.in;
    ASSERT_EQ(rpc::Violations(s).size(), 1u) << c.in;
    EXPECT_EQ(rpc::Violations(s)[0].field, kPhoneField) << c.in;
    EXPECT_EQ(rpc::Violations(s)[0].description, c.description) << c.in;
  }
}

TEST(PhoneTest, MaskingKeepsThePrefixAndTheLastDigits) {
  struct Case {
    std::string in;
    std::string masked;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"13812345678", "138****5678"},
      {"19912345678", "199****5678"},
      {"0513-12345678", "0513-******78"},
      {"0513-1234567", "0513-*****67"},
      {"010-12345678", "010-******78"},
      {"021-6123456", "021-*****56"},
      {"1381234567", "**********"},               // 10 digits
      {"12812345678", "***********"},             // not a mobile prefix
      {"138 1234 5678", "*************"},         // not normalized
      {"+8613812345678", "**************"},       // not normalized
      {"0513-123456", "***********"},             // 6-digit local number
      {"011-12345678", "************"},           // no such area code
      {"05131-2345678", "*************"},         // area code of the wrong length
      {"0513-12345678-1", "***************"},     // extension
      {"１３８１２３４５６７８", "***********"},  // counted in characters
  };
  for (const Case& c : cases) {
    EXPECT_EQ(MaskPhone(c.in), c.masked) << c.in;
  }
}

// Personal data never travels in an error: no refusal contains 6 digits in a row of the input.
TEST(PersonalDataTest, NoRefusalEchoesTheValue) {
  size_t checked = 0;
  for (const Refusal& c : IdNumberRefusals()) {
    ExpectNoEcho(c.in, NormalizeIdNumber(c.in, kField, kToday).status());
    ++checked;
  }
  for (const Refusal& c : PhoneRefusals()) {
    ExpectNoEcho(c.in, NormalizePhone(c.in, kPhoneField).status());
    ++checked;
  }
  EXPECT_EQ(checked, IdNumberRefusals().size() + PhoneRefusals().size());
  // The test's own detector works: a status that did echo would be caught.
  EXPECT_EQ(DigitWindows("138 1234 5678").size(), 6u);
  EXPECT_EQ(DigitWindows("１３８１２３").front(), "138123");
}

}  // namespace
}  // namespace dj::member
