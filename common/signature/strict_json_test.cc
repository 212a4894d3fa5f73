#include "common/signature/strict_json.h"

#include <string>
#include <vector>

#include "common/signature/test_fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::signature {
namespace {

using ::shapin::signature::testing::StatusIs;
using ::testing::HasSubstr;

TEST(StrictJsonTest, AcceptsOrdinaryDocuments) {
  for (const char* text :
       {"{}", "[]", "null", "1", "\"s\"",
        "{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}", " {\"a\" : 1 } \n"}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(ParseStrictJson(text).ok());
  }
}

TEST(StrictJsonTest, RejectsDuplicateKeysAtAnyDepth) {
  struct Case {
    std::string text;
    std::string key;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"a":1,"a":2})", "a"},
           {R"({"critical":{"type":"x","type":"y"}})", "type"},
           {R"([{"k":1},{"x":{"k":1,"k":1}}])", "k"},
           {R"({"a":{},"b":{"c":1},"b":2})", "b"},
       }) {
    SCOPED_TRACE(c.text);
    EXPECT_THAT(ParseStrictJson(c.text),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("duplicate key \"" + c.key + "\"")));
  }
}

TEST(StrictJsonTest, SameKeyInSiblingObjectsIsFine) {
  EXPECT_TRUE(ParseStrictJson(R"([{"a":1},{"a":1}])").ok());
  EXPECT_TRUE(ParseStrictJson(R"({"a":{"a":{"a":1}}})").ok());
}

TEST(StrictJsonTest, RejectsMalformedDeepAndLarge) {
  for (const char* text : {"", "{", "{\"a\":}", "{} {}", "{\"a\":1,}",
                           "\"\xff\"", "{\"a\":1} x", "/* c */ {}", "nul"}) {
    SCOPED_TRACE(text);
    EXPECT_THAT(ParseStrictJson(text),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("invalid JSON")));
  }
  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_THAT(
      ParseStrictJson(deep),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nested deeper")));
  EXPECT_THAT(ParseStrictJson("[1]", kMaxJsonDepth, 2),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit")));
}

TEST(StrictJsonTest, Accessors) {
  nlohmann::json doc = *ParseStrictJson(
      R"({"s":"x","o":{},"a":[],"i":5,"n":-3,"q":"12","bad":"1x","f":1.5,"big":"99999999999999999999"})");
  EXPECT_EQ(*FindString(doc, "s"), "x");
  EXPECT_EQ(FindString(doc, "o"), nullptr);
  EXPECT_NE(FindObject(doc, "o"), nullptr);
  EXPECT_NE(FindArray(doc, "a"), nullptr);
  EXPECT_EQ(FindArray(doc, "o"), nullptr);
  EXPECT_EQ(FindInt64(doc, "i"), 5);
  EXPECT_EQ(FindInt64(doc, "n"), -3);
  EXPECT_EQ(FindInt64(doc, "q"), 12);
  EXPECT_EQ(FindInt64(doc, "bad"), std::nullopt);
  EXPECT_EQ(FindInt64(doc, "f"), std::nullopt);
  EXPECT_EQ(FindInt64(doc, "big"), std::nullopt);
  EXPECT_EQ(FindInt64(doc, "missing"), std::nullopt);
  EXPECT_EQ(FindMember(nlohmann::json::array(), "x"), nullptr);
}

TEST(StrictJsonTest, CanonicalStrings) {
  EXPECT_EQ(CanonicalJsonString("abc"), "\"abc\"");
  EXPECT_EQ(CanonicalJsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(CanonicalJsonString("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
  EXPECT_EQ(CanonicalJsonString(std::string("\x01\x1f", 2)),
            "\"\\u0001\\u001f\"");
  // No HTML escaping, no escaping of '/' or non-ASCII.
  EXPECT_EQ(CanonicalJsonString("</a>&\xc3\xa9"), "\"</a>&\xc3\xa9\"");
}

}  // namespace
}  // namespace shapin::signature
