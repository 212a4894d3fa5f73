#include "cli/command_line.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shapin::cli {
namespace {

using ::shapin::testing::IsOkAndHolds;
using ::shapin::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {.name = "build submit",
       .positionals = {"SHA"},
       .flags = {{.name = "branch", .value_name = "BRANCH"},
                 {.name = "watch"}}},
      {.name = "build list", .flags = {{.name = "limit", .value_name = "N"}}},
      {.name = "deploy",
       .positionals = {"SHA"},
       .flags = {{.name = "env", .value_name = "ENV"}, {.name = "dry-run"}}},
      {.name = "rollback",
       .positionals = {"[SHA]"},
       .flags = {{.name = "reason", .value_name = "TEXT"},
                 {.name = "timeout", .value_name = "D"}}},
  };
  return *commands;
}

const std::vector<FlagSpec>& Globals() {
  static const auto* globals = new std::vector<FlagSpec>{
      {.name = "output", .value_name = "FORMAT"}, {.name = "no-color"}};
  return *globals;
}

absl::StatusOr<Invocation> Parse(std::vector<std::string> args) {
  return ParseCommandLine(Commands(), Globals(), args);
}

TEST(CommandLineTest, ParsesTwoWordCommandWithFlagsAndPositional) {
  absl::StatusOr<Invocation> inv =
      Parse({"build", "submit", "abc", "--branch", "main", "--watch"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command->name, "build submit");
  EXPECT_THAT(inv->positionals, ElementsAre("abc"));
  EXPECT_EQ(inv->Flag("branch", ""), "main");
  EXPECT_TRUE(inv->Bool("watch"));
  EXPECT_FALSE(inv->help);
}

TEST(CommandLineTest, InlineValuesGlobalFlagsAnywhereAndDoubleDash) {
  absl::StatusOr<Invocation> inv =
      Parse({"--output=json", "deploy", "--env=prod", "--dry-run=false", "--",
             "--sha-like"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command->name, "deploy");
  EXPECT_EQ(inv->Flag("output", "table"), "json");
  EXPECT_EQ(inv->Flag("env", ""), "prod");
  EXPECT_TRUE(inv->Has("dry-run"));
  EXPECT_FALSE(inv->Bool("dry-run"));
  EXPECT_THAT(inv->positionals, ElementsAre("--sha-like"));
}

TEST(CommandLineTest, OptionalPositionalMayBeLeftOut) {
  absl::StatusOr<Invocation> inv = Parse({"rollback", "--reason", "5xx"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(inv->positionals.empty());
  EXPECT_EQ(inv->Positional(0), "");
  EXPECT_EQ(inv->Flag("reason", ""), "5xx");
}

TEST(CommandLineTest, HelpForms) {
  struct Case {
    std::vector<std::string> args;
    std::string command;  // "" = general help
  };
  for (const Case& c : std::vector<Case>{
           {{"--help"}, ""},
           {{"-h"}, ""},
           {{"help"}, ""},
           {{"help", "deploy"}, "deploy"},
           {{"deploy", "--help"}, "deploy"},
           {{"build", "submit", "-h"}, "build submit"},
           {{"build", "--help"}, ""},
       }) {
    SCOPED_TRACE(::testing::PrintToString(c.args));
    absl::StatusOr<Invocation> inv = Parse(c.args);
    ASSERT_TRUE(inv.ok()) << inv.status();
    EXPECT_TRUE(inv->help);
    EXPECT_EQ(inv->command ? inv->command->name : "", c.command);
  }
}

TEST(CommandLineTest, ErrorsNameTheProblem) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "no command given (commands: build, deploy, rollback)"},
           {{"depoly", "x"}, "unknown command \"depoly\""},
           {{"build"}, "build: needs a subcommand: submit, list"},
           {{"build", "frobnicate"}, "unknown command \"build frobnicate\""},
           {{"deploy"}, "deploy: missing SHA"},
           {{"deploy", "a", "b"}, "deploy: unexpected argument \"b\""},
           {{"deploy", "a", "--bogus"}, "unknown flag --bogus for \"deploy\""},
           {{"--env", "x", "deploy", "a"}, "unknown flag --env"},
           {{"deploy", "a", "--env"}, "--env: needs a value (ENV)"},
           {{"deploy", "a", "--dry-run=yes"}, "--dry-run: takes no value"},
           {{"deploy", "a", "-e"}, "unknown flag -e"},
           {{"build", "list", "--branch", "x"},
            "unknown flag --branch for \"build list\""},
       }) {
    SCOPED_TRACE(::testing::PrintToString(c.args));
    EXPECT_THAT(Parse(c.args), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr(c.message)));
  }
}

TEST(CommandLineTest, IntAndDurationFlagsAreChecked) {
  absl::StatusOr<Invocation> inv = Parse({"build", "list", "--limit", "7"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_THAT(inv->Int("limit", 20, 1, 100), IsOkAndHolds(7));
  EXPECT_THAT(inv->Int("absent", 20, 1, 100), IsOkAndHolds(20));
  EXPECT_THAT(inv->Int("limit", 20, 10, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--limit: must be a whole number from 10 to "
                                 "100, got \"7\"")));
  inv = Parse({"build", "list", "--limit", "seven"});
  ASSERT_TRUE(inv.ok());
  EXPECT_THAT(
      inv->Int("limit", 20, 1, 100),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got \"seven\"")));

  inv = Parse({"rollback", "--timeout", "90s"});
  ASSERT_TRUE(inv.ok());
  EXPECT_THAT(inv->Duration("timeout", absl::Seconds(1)),
              IsOkAndHolds(absl::Seconds(90)));
  inv = Parse({"rollback", "--timeout", "-1s"});
  ASSERT_TRUE(inv.ok());
  EXPECT_THAT(inv->Duration("timeout", absl::Seconds(1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--timeout: must be a positive duration")));
}

TEST(CommandLineTest, HelpTextListsCommandsAndFlags) {
  std::string list = CommandListHelp(Commands());
  EXPECT_THAT(list, HasSubstr("build submit SHA"));
  EXPECT_THAT(list, HasSubstr("rollback [SHA]"));
  std::string one = CommandHelp(Commands()[2]);
  EXPECT_THAT(one, HasSubstr("usage: shapin deploy SHA [flags]"));
  EXPECT_THAT(one, HasSubstr("--env ENV"));
  EXPECT_THAT(one, HasSubstr("--dry-run"));
}

}  // namespace
}  // namespace shapin::cli
