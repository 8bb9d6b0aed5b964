// JsonQuote and ParseJson against Python's json module. Every expected string below was printed
// by Debian's /usr/bin/python3 (3.11) with json.dumps(s, ensure_ascii=False) for the writer and
// json.loads(t).encode("utf-8") for the reader, unless a comment says how we differ.
#include "phasesweep/base/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace phasesweep {
namespace {

TEST(JsonQuoteTest, MatchesPythonJsonDumps) {
  EXPECT_EQ(JsonQuote("plain"), R"("plain")");
  EXPECT_EQ(JsonQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonQuote("line\nbreak\ttab\rcr"), R"("line\nbreak\ttab\rcr")");
  EXPECT_EQ(JsonQuote(std::string("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(JsonQuote("caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x98\x80\"");
  EXPECT_EQ(JsonQuote("slash/ok"), R"("slash/ok")");
  EXPECT_EQ(JsonQuote("\x7f"), "\"\x7f\"");  // DEL is not a JSON control character
}

TEST(JsonQuoteTest, BackspaceAndFormFeedUseTheLongForm) {
  // Python writes "\b\f"; we keep "\u0008\u000c", the bytes phasesweep always wrote.
  // python3: json.loads('"\\u0008\\u000c"') == "\b\f"  ->  True
  EXPECT_EQ(JsonQuote("\b\f"), R"("\u0008\u000c")");
}

TEST(JsonQuoteTest, EveryControlCharacterIsEscaped) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string quoted = JsonQuote(std::string(1, static_cast<char>(c)));
    for (char q : quoted) EXPECT_GE(static_cast<unsigned char>(q), 0x20) << "char " << c;
    auto back = ParseJson(quoted);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->text, std::string(1, static_cast<char>(c)));
  }
}

TEST(ParseJsonTest, DecodesEscapesLikePythonJsonLoads) {
  const std::pair<const char*, std::string> cases[] = {
      {R"("\u00e9")", "\xc3\xa9"},
      {R"("\ud83d\ude00")", "\xf0\x9f\x98\x80"},  // a surrogate pair is one code point
      {R"("\u6F22")", "\xe6\xbc\xa2"},            // upper-case hex digits
      {R"("a\/b")", "a/b"},
      {R"("\b\f\n\r\t")", "\x08\x0c\n\r\t"},
      {R"("\u0000")", std::string(1, '\0')},
  };
  for (const auto& [text, want] : cases) {
    auto v = ParseJson(text);
    ASSERT_TRUE(v.ok()) << text << ": " << v.status().message();
    EXPECT_EQ(v->kind, JsonValue::Kind::kString);
    EXPECT_EQ(v->text, want) << text;
  }
}

TEST(ParseJsonTest, RoundTripsWhatJsonQuoteWrites) {
  const std::string s = std::string("k\"\\\n\r\t\b\f\x01 \xc3\xa9\xf0\x9f\x98\x80", 17);
  auto v = ParseJson(JsonQuote(s));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->text, s);
}

TEST(ParseJsonTest, KeepsLiteralsAndRewritesContainersCompactly) {
  auto obj = ParseJsonObject(
      R"( {"lr": 1e-3, "opt":"a\"b\u00e9", "on":true, "dims":[1, 2], "none":null,
          "nested": {"x": [ ], "y" : "\n"}} )");
  ASSERT_TRUE(obj.ok()) << obj.status().message();
  ASSERT_EQ(obj->size(), 6u);
  EXPECT_EQ((*obj)[0].first, "lr");
  EXPECT_EQ((*obj)[0].second.kind, JsonValue::Kind::kNumber);
  EXPECT_EQ((*obj)[0].second.text, "1e-3");
  EXPECT_EQ((*obj)[1].second.text, "a\"b\xc3\xa9");
  EXPECT_EQ((*obj)[2].second.kind, JsonValue::Kind::kBool);
  EXPECT_EQ((*obj)[2].second.text, "true");
  EXPECT_EQ((*obj)[3].second.kind, JsonValue::Kind::kArray);
  EXPECT_EQ((*obj)[3].second.text, "[1,2]");
  ASSERT_EQ((*obj)[3].second.items.size(), 2u);
  EXPECT_EQ((*obj)[3].second.items[1].text, "2");
  EXPECT_EQ((*obj)[4].second.kind, JsonValue::Kind::kNull);
  EXPECT_EQ((*obj)[5].second.text, R"({"x":[],"y":"\n"})");
  ASSERT_EQ((*obj)[5].second.members.size(), 2u);
  EXPECT_EQ((*obj)[5].second.members[1].second.text, "\n");
}

TEST(ParseJsonTest, RejectsWhatPythonRejects) {
  // python3 json.loads raises for each of these.
  for (const char* bad : {"[1,]", "01", "1.", "\"\x01\"", "tru", "{\"a\" 1}", "1 2", "-", ".5",
                          "+1", "'a'", "", "{", "\"abc", "\"\\x\"", "\"\\u12\""}) {
    auto v = ParseJson(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), Status::Code::kInvalidArgument);
    }
  }
}

TEST(ParseJsonTest, IsStricterThanPythonWhereTheTextCouldNotBeOurs) {
  // Python accepts these (NaN; the last duplicate wins; lone surrogates become a str that cannot
  // be encoded as UTF-8). No phasesweep writer produces them, so reading one means a damaged or
  // foreign file.
  for (const char* bad :
       {"NaN", R"({"a":1,"a":2})", R"("\ud800")", R"("\udc00x")", R"("\ud800\u0041")"}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
  auto dup = ParseJson(R"({"a":1,"a":2})");
  EXPECT_NE(dup.status().message().find("duplicate key \"a\""), std::string::npos)
      << dup.status().message();
  EXPECT_NE(dup.status().message().find("at byte 7"), std::string::npos) << dup.status().message();
}

TEST(ParseJsonTest, BoundsNesting) {
  EXPECT_TRUE(ParseJson(std::string(64, '[') + std::string(64, ']')).ok());
  EXPECT_FALSE(ParseJson(std::string(65, '[') + std::string(65, ']')).ok());
}

TEST(ParseJsonObjectTest, WantsOneObject) {
  for (const char* bad :
       {"", "[]", "[1,2]", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":1}x", "{\"a\":01}", "{a:1}"}) {
    EXPECT_FALSE(ParseJsonObject(bad).ok()) << bad;
  }
  auto empty = ParseJsonObject(" {} ");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(JsonNumberTest, NonFiniteIsNull) {
  EXPECT_EQ(JsonNumber(0.5), "0.5");
  EXPECT_EQ(JsonNumber(100.0, DoubleFormat::kShortestG), "1e+02");
  EXPECT_EQ(JsonNumber(0.1, DoubleFormat::kDigits17), "0.10000000000000001");
  for (double v : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    EXPECT_EQ(JsonNumber(v), "null");
    EXPECT_EQ(JsonNumber(v, DoubleFormat::kShortestG), "null");
    EXPECT_EQ(JsonNumber(v, DoubleFormat::kDigits17), "null");
  }
}

}  // namespace
}  // namespace phasesweep
