// The unified social credit code check (GB 32100-2015), table-driven: codes worked out by hand
// from the standard's weights (including the check values 0 and Y at the ends of the range),
// then every way a code can be wrong.
#include "services/org/src/credit_code.h"

#include "common/rpc/errors.h"
#include "gtest/gtest.h"

namespace dj::org {
namespace {

TEST(CreditCodeTest, ValidCodesPass) {
  struct Case {
    std::string in;
    std::string normalized;
  };
  const std::vector<Case> cases = {
      {"91350100M000100Y43", "91350100M000100Y43"},  // the standard's own example
      {"11320681014160013P", "11320681014160013P"},  // 机构编制 / 机关, 启东 (320681)
      {"11320681014160021J", "11320681014160021J"},
      {"12320681467000001N", "12320681467000001N"},  // 事业单位
      {"11320681MB1949820K", "11320681MB1949820K"},
      {"113206810141600060", "113206810141600060"},  // 31 - 0: check value 31 becomes 0
      {"11320681014160025Y", "11320681014160025Y"},  // check value 30, the last character
      {"11320681mb1949820k", "11320681MB1949820K"},  // lower case is upper-cased
  };
  for (const Case& c : cases) {
    auto out = NormalizeCreditCode(c.in, "unit.credit_code");
    ASSERT_TRUE(out.ok()) << c.in << ": " << out.status();
    EXPECT_EQ(*out, c.normalized);
    EXPECT_EQ(CreditCodeCheckCharacter(c.normalized.substr(0, 17)), c.normalized.back());
  }
}

TEST(CreditCodeTest, EveryFailureNamesTheFieldAndWhatIsWrong) {
  struct Case {
    std::string in;
    std::string description;
  };
  const std::vector<Case> cases = {
      {"", "must be 18 characters (统一社会信用代码), got 0"},
      {"11320681014160013", "must be 18 characters (统一社会信用代码), got 17"},
      {"11320681014160013PP", "must be 18 characters (统一社会信用代码), got 19"},
      {"1132068101416001３P", "bad character at position 17: only 0-9 and A-Z without I, O, Z, "
                              "S, V are used"},  // a full-width digit is one character
      {"I1320681014160013P", "bad character at position 1: only 0-9 and A-Z without I, O, Z, S, "
                             "V are used"},
      {"11320681O14160013P", "bad character at position 9: only 0-9 and A-Z without I, O, Z, S, "
                             "V are used"},
      {"11320681014160013S", "bad character at position 18: only 0-9 and A-Z without I, O, Z, "
                             "S, V are used"},
      {"11320681-14160013P", "bad character at position 9: only 0-9 and A-Z without I, O, Z, S, "
                             "V are used"},
      {"1132068101416001 P", "bad character at position 17: only 0-9 and A-Z without I, O, Z, "
                             "S, V are used"},
      {"11320681014160013Q", "check character should be P, got Q"},
      {"11320681014160013p0", "must be 18 characters (统一社会信用代码), got 19"},
      {"113206810141600061", "check character should be 0, got 1"},
      {"113206810141600250", "check character should be Y, got 0"},
      {"91350100M000100Y44", "check character should be 3, got 4"},
      {"91350100M000100Y34", "check character should be 0, got 4"},  // transposed digits
  };
  for (const Case& c : cases) {
    absl::Status s = NormalizeCreditCode(c.in, "unit.credit_code").status();
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.in;
    EXPECT_EQ(rpc::Reason(s), "INVALID_CREDIT_CODE") << c.in;
    ASSERT_EQ(rpc::Violations(s).size(), 1u) << c.in;
    EXPECT_EQ(rpc::Violations(s)[0].field, "unit.credit_code") << c.in;
    EXPECT_EQ(rpc::Violations(s)[0].description, c.description) << c.in;
  }
}

TEST(CreditCodeTest, CheckCharacterNeedsSeventeenCharactersOfTheAlphabet) {
  EXPECT_EQ(CreditCodeCheckCharacter("1132068101416001"), '\0');
  EXPECT_EQ(CreditCodeCheckCharacter("11320681014160O13"), '\0');
  EXPECT_EQ(CreditCodeCheckCharacter("11320681014160013"), 'P');
}

}  // namespace
}  // namespace dj::org
