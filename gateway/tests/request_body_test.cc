// The request-body rules: which Content-Types pass, and the strict RFC 8259 validator, edges first.
#include "gateway/src/request_body.h"

#include <string>

#include "gtest/gtest.h"

namespace dj::gateway {
namespace {

TEST(CheckJsonContentType, AcceptsApplicationJsonInUtf8Only) {
  for (const char* ok : {"application/json", "Application/JSON", "application/json; charset=utf-8",
                         "application/json;charset=UTF-8", "application/json ; charset=\"utf-8\"",
                         "application/json;", " application/json\t"}) {
    EXPECT_TRUE(CheckJsonContentType(ok).ok()) << ok;
  }
  struct Case {
    std::optional<std::string_view> content_type;
    std::string message_part;
  };
  const Case refused[] = {
      {std::nullopt, "needs the header Content-Type"},
      {"", "must be application/json"},
      {"text/plain", "must be application/json"},
      {"application/xml", "must be application/json"},
      {"application/json-patch+json", "must be application/json"},
      {"application/jsonx", "must be application/json"},
      {"application/json; charset=latin1", "must be UTF-8"},
      {"application/json; charset=iso-8859-1", "must be UTF-8"},
      {"application/json; charset=utf-16", "must be UTF-8"},
      {"application/json; charset=", "must be UTF-8"},
      {"application/json; charset=utf-8; charset=utf-8", "must be UTF-8"},
      {"application/json; boundary=x", "takes no parameter but charset"},
      {"application/json; charset", "takes no parameter but charset"},
      {"application/json; charset =utf-8", "takes no parameter but charset"},
  };
  for (const Case& c : refused) {
    absl::Status s = CheckJsonContentType(c.content_type);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
        << std::string(c.content_type.value_or("(none)"));
    EXPECT_NE(std::string(s.message()).find(c.message_part), std::string::npos) << s;
  }
}

TEST(CheckStrictJson, AcceptsRfc8259) {
  for (const std::string ok :
       {R"({})", R"([])", R"({"displayName":"x"})", " \t\r\n{ \"a\" : [ 1 , 2 ] }\n ",
        R"("just a string")", "0", "-0", "-0.5e+10", "1E-2", "123456789012345678901234567890",
        "true", "false", "null", R"({"a":{"b":[null,true,false,{}]}})",
        R"({"a":"\"\\\/\b\f\n\r\t\u0000\u00e9\uFFFF\ud83d\ude00"})", R"({"党建":"工作委员会 😀"})",
        "{\"a\":\"\x7f\"}", R"({"a":1,"a":2})",
        "\"\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\"" /* U+D7FF U+E000 U+10FFFF */}) {
    EXPECT_TRUE(CheckStrictJson(ok).ok()) << ok << ": " << CheckStrictJson(ok);
  }
}

TEST(CheckStrictJson, RefusesLenientJsonSayingWhatAndWhere) {
  struct Case {
    std::string body;
    size_t at;
    std::string what;
  };
  const Case cases[] = {
      // What protobuf's parser takes and RFC 8259 does not.
      {R"({displayName:"x"})", 1, "expected an object key in double quotes"},
      {R"({'displayName':"x"})", 1, "strings must be in double quotes"},
      {R"({"a":'x'})", 5, "strings must be in double quotes"},
      {R"({"a":1,})", 7, "trailing comma before '}'"},
      {R"([1,2,])", 5, "trailing comma before ']'"},
      {"{\"a\":1 // note\n}", 7, "comments are not allowed"},
      {"/* c */ {}", 0, "comments are not allowed"},
      {"{} // after", 3, "comments are not allowed"},
      {R"({"a":NaN})", 5, "expected a value"},
      {R"({"a":Infinity})", 5, "expected a value"},
      {R"({"a":-Infinity})", 6, "a number needs a digit here"},
      {R"({"a":01})", 6, "leading zeros"},
      {R"({"a":-012})", 7, "leading zeros"},
      {R"({"a":+1})", 5, "expected a value"},
      {R"({"a":.5})", 5, "expected a value"},
      {R"({"a":1.})", 7, "a digit after '.'"},
      {R"({"a":1e})", 7, "a digit in its exponent"},
      {R"({"a":0x10})", 6, "expected ',' or '}'"},
      {R"({"a":True})", 5, "expected a value"},
      {R"({"a":nul})", 5, "true, false and null"},
      // Strings.
      {"{\"a\":\"x\xff\"}", 7, "invalid UTF-8 in a string"},
      {"{\"a\":\"\xc0\xaf\"}", 6, "invalid UTF-8"},          // overlong
      {"{\"a\":\"\xed\xa0\x80\"}", 6, "invalid UTF-8"},      // surrogate encoded
      {"{\"a\":\"\xf4\x90\x80\x80\"}", 6, "invalid UTF-8"},  // above U+10FFFF
      {"{\"a\":\"\xe4\xb8\"}", 6, "invalid UTF-8"},          // truncated
      {"{\"\xff\":1}", 2, "invalid UTF-8"},                  // in a key
      {R"({"a":"\ud800"})", 6, "high surrogate without its low surrogate"},
      {R"({"a":"\ud800\u0041"})", 6, "high surrogate without its low surrogate"},
      {R"({"a":"\udc00"})", 6, "lone low surrogate"},
      {R"({"a":"\u12"})", 6, "four hex digits"},
      {R"({"a":"\x41"})", 6, "invalid escape"},
      {R"({"a":"\'"})", 6, "invalid escape"},
      {"{\"a\":\"tab\there\"}", 9, "control character"},
      {"{\"a\":\"line\nbreak\"}", 10, "control character"},
      {std::string("{\"a\":\"\0\"}", 9), 6, "control character"},
      {R"({"a":"open)", 10, "unterminated string"},
      {R"({"a":"\)", 6, "unterminated string"},
      // Structure.
      {"", 0, "unexpected end of the body; expected a value"},
      {"   ", 3, "unexpected end of the body"},
      {R"({"a":1)", 6, "unexpected end of the body; expected ',' or '}'"},
      {R"({"a" 1})", 5, "expected ':' after an object key"},
      {R"({"a":1 "b":2})", 7, "expected ',' or '}'"},
      {R"([1 2])", 3, "expected ',' or ']'"},
      {R"({} {})", 3, "unexpected data after the JSON value"},
      {R"({}x)", 2, "unexpected data after the JSON value"},
      {"\xef\xbb\xbf{}", 0, "expected a value"},  // a byte order mark
      {std::string("{}\0", 3), 2, "unexpected data after the JSON value"},
  };
  for (const Case& c : cases) {
    absl::Status s = CheckStrictJson(c.body);
    const std::string message(s.message());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.body;
    const std::string want = "invalid JSON body at byte " + std::to_string(c.at) + ": ";
    EXPECT_TRUE(message.starts_with(want)) << c.body << " -> " << message;
    EXPECT_NE(message.find(c.what), std::string::npos) << c.body << " -> " << message;
  }
}

TEST(CheckStrictJson, TheMessageNeverEchoesTheBody) {
  for (const std::string body :
       {"{secret:1}", "{\"a\":\"secret\xff\"}", "[\"secret\" secret]", "{\"secret\":secret}"}) {
    absl::Status s = CheckStrictJson(body);
    ASSERT_FALSE(s.ok());
    const std::string message(s.message());
    EXPECT_EQ(message.find("secret"), std::string::npos) << message;
    for (char c : message) {
      EXPECT_LT(static_cast<unsigned char>(c), 0x80) << message;  // ASCII, so valid UTF-8
    }
  }
}

TEST(CheckStrictJson, NestingIsLimited) {
  const auto nested = [](int depth, char open, char close) {
    return std::string(static_cast<size_t>(depth), open) +
           std::string(static_cast<size_t>(depth), close);
  };
  EXPECT_TRUE(CheckStrictJson(nested(kMaxJsonDepth, '[', ']')).ok());
  absl::Status deep = CheckStrictJson(nested(kMaxJsonDepth + 1, '[', ']'));
  EXPECT_EQ(std::string(deep.message()),
            "invalid JSON body at byte 64: objects and arrays nested deeper than 64 levels");
  std::string objects;
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) {
    objects += "{\"a\":";
  }
  objects += "1" + std::string(kMaxJsonDepth + 1, '}');
  EXPECT_FALSE(CheckStrictJson(objects).ok());
  EXPECT_TRUE(CheckStrictJson(nested(3, '[', ']'), 3).ok());
  EXPECT_FALSE(CheckStrictJson(nested(4, '[', ']'), 3).ok());
  // A million brackets fail fast at the limit instead of exhausting the stack.
  EXPECT_FALSE(CheckStrictJson(nested(1000000, '[', ']')).ok());
}

}  // namespace
}  // namespace dj::gateway
