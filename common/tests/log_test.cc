// log::JsonEscape: JSON string escaping whose output is always valid UTF-8, whatever the input.
#include "common/runtime/utf8.h"
#include "common/runtime/log.h"

#include <string>

#include "gtest/gtest.h"

namespace dj::log {
namespace {

// True when `s` is well-formed UTF-8 (decoded by hand, independently of the code under test).
bool ValidUtf8(const std::string& s) { return utf8::Valid(s); }

TEST(JsonEscape, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonEscape(R"(say "hi" \ bye)"), R"(say \"hi\" \\ bye)");
  EXPECT_EQ(JsonEscape("a\nb\rc\td"), R"(a\nb\rc\td)");
  EXPECT_EQ(JsonEscape(std::string("\x01\x1f\x00", 3)), R"(\u0001\u001f\u0000)");
  EXPECT_EQ(JsonEscape("\x7f"), "\x7f");  // DEL needs no escape
  EXPECT_EQ(JsonEscape(""), "");
}

TEST(JsonEscape, KeepsValidUtf8) {
  for (const std::string s :
       {"党建工作委员会", "é", "\u07ff", "\u0800", "\uffff", "\U00010000", "\U0010ffff", "😀 ok",
        "\xed\x9f\xbf" /* U+D7FF */, "\xee\x80\x80" /* U+E000 */}) {
    EXPECT_EQ(JsonEscape(s), s);
  }
}

TEST(JsonEscape, ReplacesInvalidUtf8) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"\xff", R"(\ufffd)"},                                // never a UTF-8 byte
      {"\xc0\xaf", R"(\ufffd\ufffd)"},                      // overlong '/'
      {"\xc1\xbf", R"(\ufffd\ufffd)"},                      // overlong
      {"\xe0\x80\xaf", R"(\ufffd\ufffd\ufffd)"},            // overlong 3-byte form
      {"\xf0\x80\x80\xaf", R"(\ufffd\ufffd\ufffd\ufffd)"},  // overlong 4-byte form
      {"\xed\xa0\x80", R"(\ufffd\ufffd\ufffd)"},            // a UTF-16 surrogate (U+D800) encoded
      {"\xf4\x90\x80\x80", R"(\ufffd\ufffd\ufffd\ufffd)"},  // above U+10FFFF
      {"\xf5\x80", R"(\ufffd\ufffd)"},
      {"\x80", R"(\ufffd)"},          // a lone continuation byte
      {"a\xe4\xb8", R"(a\ufffd)"},    // truncated at the end: one replacement
      {"\xe4\xb8x", R"(\ufffdx)"},    // truncated before ASCII, which is kept
      {"\xe4\"", R"(\ufffd\")"},      // the quote after it is still escaped
      {"\xf0\x9f\x98", R"(\ufffd)"},  // a 4-byte sequence cut short
      {"x\xc3\xa9\xc3", R"(xé\ufffd)"},
  };
  for (const Case& c : cases) {
    const std::string got = JsonEscape(c.in);
    EXPECT_EQ(got, c.out) << ::testing::PrintToString(c.in);
    EXPECT_TRUE(ValidUtf8(got));
  }
}

TEST(JsonEscape, OutputIsValidUtf8ForEveryByteAndPair) {
  for (int a = 0; a < 256; ++a) {
    EXPECT_TRUE(ValidUtf8(JsonEscape(std::string(1, static_cast<char>(a))))) << a;
    for (int b = 0; b < 256; ++b) {
      const std::string s = {static_cast<char>(a), static_cast<char>(b), '\xbf'};
      ASSERT_TRUE(ValidUtf8(JsonEscape(s))) << a << " " << b;
    }
  }
}

}  // namespace
}  // namespace dj::log
