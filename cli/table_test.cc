#include "cli/table.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::cli {
namespace {

using ::testing::HasSubstr;

TEST(TableTest, AlignsColumnsAndMarksEmptyCells) {
  Table t({"ID", "STATE", "SHA"});
  t.AddRow({{"7"}, {"succeeded"}, {"3f2a9c1d0b7e"}});
  t.AddRow({{"12"}, {""}, {"9c1d"}});
  t.AddRow({{"3"}});  // short row: padded
  EXPECT_EQ(t.Render(TerminalStyle(false)),
            "ID  STATE      SHA\n"
            "7   succeeded  3f2a9c1d0b7e\n"
            "12  -          9c1d\n"
            "3   -          -\n");
  EXPECT_EQ(t.rows(), 3u);
}

TEST(TableTest, ColourDoesNotSkewAlignment) {
  Table t({"STATE", "ID"});
  t.AddRow({{"failed", Colour::kRed}, {"1"}});
  t.AddRow({{"succeeded", Colour::kGreen}, {"2"}});
  const std::string out = t.Render(TerminalStyle(true));
  // "failed" is padded to "succeeded"'s width + 2 outside the escapes.
  EXPECT_THAT(out, HasSubstr("\x1b[31mfailed\x1b[0m     1"));
  EXPECT_THAT(out, HasSubstr("\x1b[32msucceeded\x1b[0m  2"));
  EXPECT_THAT(out, HasSubstr("\x1b[1mSTATE\x1b[0m"));
  // An empty cell's "-" is never coloured.
  Table e({"ERROR"});
  e.AddRow({{"", Colour::kRed}});
  EXPECT_EQ(e.Render(TerminalStyle(true)), "\x1b[1mERROR\x1b[0m\n-\n");
}

TEST(TableTest, NoTrailingBlanks) {
  Table t({"A", "LONG HEADER"});
  t.AddRow({{"x"}, {"y"}});
  EXPECT_EQ(t.Render(TerminalStyle(false)), "A  LONG HEADER\nx  y\n");
}

TEST(DetailListTest, PadsLabelsAndSkipsEmptyValues) {
  DetailList d;
  d.Add("build", "42");
  d.Add("error", "");
  d.Add("repository", "r");
  EXPECT_EQ(d.Render(TerminalStyle(false)),
            "build:      42\n"
            "repository: r\n");
}

}  // namespace
}  // namespace shapin::cli
