// escape_for_terminal (the one rule for untrusted text on a terminal or in CSV) and the
// JSON helpers: the depth cap, descriptions instead of dumps, output that cannot throw.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "io/json_text.h"
#include "core/text.h"
#include "lorank/terminal_text.h"

namespace lorank {
namespace {

TEST(EscapeForTerminal, ControlBytesBecomeHexEscapes) {
  EXPECT_EQ(escape_for_terminal("x\nlorank: error: FORGED\x1b[2J"),
            "x\\x0alorank: error: FORGED\\x1b[2J");
  EXPECT_EQ(escape_for_terminal(std::string("a\0b\tc\r\x7f", 7)), "a\\x00b\\x09c\\x0d\\x7f");
}

TEST(EscapeForTerminal, C1ControlsAndBidiBecomeUnicodeEscapes) {
  EXPECT_EQ(escape_for_terminal("a\xc2\x85" "b\xc2\x9b" "c"), "a\\u0085b\\u009bc");
  EXPECT_EQ(escape_for_terminal("abc\xe2\x80\xae" "fed\xe2\x81\xa6"), "abc\\u202efed\\u2066");
  EXPECT_EQ(escape_for_terminal("\xe2\x80\xa8"), "\\u2028");
}

TEST(EscapeForTerminal, InvalidUtf8BytesBecomeHexEscapes) {
  EXPECT_EQ(escape_for_terminal("a\xff" "b"), "a\\xffb");
  EXPECT_EQ(escape_for_terminal("\xe2\x80"), "\\xe2\\x80");          // truncated sequence
  EXPECT_EQ(escape_for_terminal("\xc0\xaf"), "\\xc0\\xaf");          // overlong '/'
  EXPECT_EQ(escape_for_terminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
}

TEST(EscapeForTerminal, PrintableTextIsKeptAndEscapingTwiceChangesNothing) {
  const std::string text = "base_model.model.h.0.attn — é … ▁█ \\x41 C:\\dir";
  EXPECT_EQ(escape_for_terminal(text), text);
  const std::string once = escape_for_terminal("a\n\xff\xc2\x85\xe2\x80\xae");
  EXPECT_EQ(escape_for_terminal(once), once);
}

TEST(Printable, CutsAtACharacterBoundaryAndEscapes) {
  EXPECT_EQ(printable("ab\ncd", 200), "ab\\x0acd");
  EXPECT_EQ(printable("aé", 2), "a...");  // 'é' is 2 bytes: not cut in half
  EXPECT_EQ(printable(std::string(300, 'x')).size(), 203u);
}

using Json = nlohmann::ordered_json;

TEST(JsonDepth, SixtyFourLevelsParseAndSixtyFiveAreRefused) {
  bool too_deep = true;
  const Json ok = io::parse_json_capped<Json>(std::string(64, '[') + std::string(64, ']'), too_deep);
  EXPECT_FALSE(too_deep);
  EXPECT_TRUE(ok.is_array());
  const Json no = io::parse_json_capped<Json>(std::string(65, '[') + std::string(65, ']'), too_deep);
  EXPECT_TRUE(too_deep);
  EXPECT_TRUE(no.is_discarded());
  const std::string deep_object = R"({"a":)" + std::string(64, '[') + std::string(64, ']') + "}";
  io::parse_json_capped<Json>(deep_object, too_deep);
  EXPECT_TRUE(too_deep) << "an object level counts as a level";
}

TEST(JsonDepth, AHundredThousandLevelsAreRefusedWithoutRecursing) {
  bool too_deep = false;
  const std::string text = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_TRUE(io::parse_json_capped<Json>(text, too_deep).is_discarded());
  EXPECT_TRUE(too_deep);
  EXPECT_EQ(io::json_too_deep_message(), "JSON nested deeper than 64 levels");
}

TEST(DescribeJson, ContainersByTypeAndSizeScalarsShort) {
  EXPECT_EQ(io::describe_json(Json::parse("[1,2,3]")), "an array of 3 elements");
  EXPECT_EQ(io::describe_json(Json::parse("[[1]]")), "an array of 1 element");
  EXPECT_EQ(io::describe_json(Json::parse(R"({"a":1,"b":[]})")), "an object of 2 keys");
  EXPECT_EQ(io::describe_json(Json(std::string(5000, 'x'))), "a string of 5000 bytes");
  EXPECT_EQ(io::describe_json(Json("LO\nHA")), "\"LO\\x0aHA\"");
  EXPECT_EQ(io::describe_json(Json(-3)), "-3");
  EXPECT_EQ(io::describe_json(Json(2.5)), "2.5");
  EXPECT_EQ(io::describe_json(Json(true)), "true");
  EXPECT_EQ(io::describe_json(Json(nullptr)), "null");
}

TEST(DumpJson, InvalidUtf8BecomesReplacementCharacterInsteadOfThrowing) {
  const Json j = {{"path", std::string("/tmp/bad\xff" "name")}};
  std::string text;
  EXPECT_NO_THROW(text = io::dump_json(j, -1));
  EXPECT_EQ(text, "{\"path\":\"/tmp/bad\xef\xbf\xbdname\"}");
}

TEST(DumpJsonShallow, MatchesNlohmannForShallowConfigsAndCompactsDeeperLevels) {
  const Json config = Json::parse(
      R"({"r":8,"target_modules":["q","v"],"rank_pattern":{"^a":2},"e":[],"o":{},"n":null})");
  EXPECT_EQ(io::dump_json_shallow(config), config.dump(2));
  const Json deep = Json::parse(R"({"x":[[1,[2]],{"k":[3]}]})");
  EXPECT_EQ(io::dump_json_shallow(deep), "{\n  \"x\": [\n    [1,[2]],\n    {\"k\":[3]}\n  ]\n}");
}

}  // namespace
}  // namespace lorank
