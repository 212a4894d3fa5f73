#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;

using Fields = std::vector<std::pair<std::string, std::string>>;

// Parses one logfmt line the way a log reader would: unquoted values end at a
// space, quoted values understand \" \\ \n \r \t \xNN. nullopt when the line
// is malformed.
std::optional<Fields> ParseLine(absl::string_view line) {
  Fields fields;
  size_t i = 0;
  while (i < line.size()) {
    const size_t eq = line.find('=', i);
    if (eq == absl::string_view::npos || eq == i) return std::nullopt;
    std::string key(line.substr(i, eq - i));
    if (key.find_first_of(" \"") != std::string::npos) return std::nullopt;
    i = eq + 1;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        const char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
        if (c != '\\') {
          value.push_back(c);
          continue;
        }
        if (i >= line.size()) return std::nullopt;
        const char e = line[i++];
        switch (e) {
          case '"':
          case '\\':
            value.push_back(e);
            break;
          case 'n':
            value.push_back('\n');
            break;
          case 'r':
            value.push_back('\r');
            break;
          case 't':
            value.push_back('\t');
            break;
          case 'x': {
            if (i + 2 > line.size()) return std::nullopt;
            value.push_back(static_cast<char>(
                std::stoi(std::string(line.substr(i, 2)), nullptr, 16)));
            i += 2;
            break;
          }
          default:
            return std::nullopt;
        }
      }
      if (!closed) return std::nullopt;
    } else {
      const size_t end = std::min(line.find(' ', i), line.size());
      value = std::string(line.substr(i, end - i));
      if (value.find_first_of("\"=\n") != std::string::npos) {
        return std::nullopt;
      }
      i = end;
    }
    fields.emplace_back(std::move(key), std::move(value));
    if (i == line.size()) break;
    if (line[i] != ' ') return std::nullopt;
    ++i;
  }
  return fields;
}

// Captures the global logger's output; restores the defaults afterwards.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Logger::Global().SetMinLevel(LogLevel::kDebug);
    Logger::Global().SetSink([this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    });
  }
  void TearDown() override {
    Logger::Global().SetSink(nullptr);
    Logger::Global().SetMinLevel(LogLevel::kInfo);
  }

  void ClearLines() {
    absl::MutexLock lock(&mu_);
    lines_.clear();
  }

  std::vector<std::string> Lines() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }

  // The only captured line, parsed; fails the test otherwise.
  Fields OnlyLineFields() {
    std::vector<std::string> lines = Lines();
    EXPECT_THAT(lines, SizeIs(1));
    if (lines.size() != 1) return {};
    std::optional<Fields> fields = ParseLine(lines[0]);
    EXPECT_TRUE(fields.has_value()) << lines[0];
    return fields.value_or(Fields{});
  }

  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

TEST_F(LogTest, FormatsTimestampLevelEventAndFieldsInOrder) {
  const absl::Time before = absl::Now();
  LogInfo("build_published",
          {{"build_id", 42}, {"image_ref", "ghcr.io/a/b:3f2a"}, {"ok", true}});
  const absl::Time after = absl::Now();

  std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0],
              MatchesRegex("ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
                           "[0-9]{2}\\.[0-9]{3}Z level=info "
                           "event=build_published build_id=42 "
                           "image_ref=ghcr.io/a/b:3f2a ok=true"));
  absl::Time ts;
  std::string error;
  ASSERT_TRUE(
      absl::ParseTime(absl::RFC3339_full, lines[0].substr(3, 24), &ts, &error))
      << error;
  EXPECT_GE(ts, absl::FromUnixMillis(absl::ToUnixMillis(before)));
  EXPECT_LE(ts, after);
}

TEST_F(LogTest, QuotesAndEscapesValuesSoTheyParseBack) {
  struct Case {
    std::string value;
    std::string rendered;
  };
  const std::vector<Case> cases = {
      {"plain", "k=plain"},
      {"two words", "k=\"two words\""},
      {"say \"hi\"", "k=\"say \\\"hi\\\"\""},
      {"a=b", "k=\"a=b\""},
      {"line1\nline2", "k=\"line1\\nline2\""},
      {"", "k=\"\""},
      {"back\\slash", "k=back\\slash"},
      {"quoted \\ backslash", "k=\"quoted \\\\ backslash\""},
      {"tab\there", "k=\"tab\\there\""},
      {"cr\r", "k=\"cr\\r\""},
      {std::string("nul\0bell\a", 9), "k=\"nul\\x00bell\\x07\""},
      {"utf8 ✓", "k=\"utf8 ✓\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rendered);
    ClearLines();
    LogInfo("e", {{"k", c.value}});
    std::vector<std::string> lines = Lines();
    ASSERT_THAT(lines, SizeIs(1));
    EXPECT_THAT(lines[0], testing::EndsWith(" event=e " + c.rendered));
    std::optional<Fields> fields = ParseLine(lines[0]);
    ASSERT_TRUE(fields.has_value()) << lines[0];
    EXPECT_THAT(fields->back(), Pair("k", c.value));
  }
}

TEST_F(LogTest, EventNameAndKeysCannotBreakTheLine) {
  LogInfo("bad event", {{"bad key", "v"}, {"x=y", 1}, {"", 2}});
  EXPECT_THAT(OnlyLineFields(),
              ElementsAre(Pair("ts", testing::_), Pair("level", "info"),
                          Pair("event", "bad event"), Pair("bad_key", "v"),
                          Pair("x_y", "1"), Pair("_", "2")));
}

TEST_F(LogTest, FormatsFieldTypes) {
  const std::string owned = "owned";
  const absl::string_view view = "view";
  const int64_t big = -9000000000;
  std::vector<LogField> fields = {{"s", owned}, {"v", view},  {"i", big},
                                  {"d", 1.5},   {"b", false}, {"c", "literal"}};
  Logger::Global().Log(LogLevel::kInfo, "types", fields);
  EXPECT_THAT(Lines(), ElementsAre(testing::EndsWith(
                           "event=types s=owned v=view i=-9000000000 d=1.5 "
                           "b=false c=literal")));
}

TEST_F(LogTest, DropsLevelsBelowMinimum) {
  struct Case {
    LogLevel min;
    std::vector<std::string> expected_levels;
  };
  const std::vector<Case> cases = {
      {LogLevel::kDebug, {"debug", "info", "warning", "error"}},
      {LogLevel::kInfo, {"info", "warning", "error"}},
      {LogLevel::kWarning, {"warning", "error"}},
      {LogLevel::kError, {"error"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expected_levels.front());
    ClearLines();
    Logger::Global().SetMinLevel(c.min);
    LogDebug("e");
    LogInfo("e");
    LogWarning("e");
    LogError("e");
    std::vector<std::string> levels;
    for (const std::string& line : Lines()) {
      std::optional<Fields> fields = ParseLine(line);
      ASSERT_TRUE(fields.has_value()) << line;
      levels.push_back((*fields)[1].second);
    }
    EXPECT_EQ(levels, c.expected_levels);
  }
}

TEST(ParseLogLevelTest, AcceptsTheFourNamesOnly) {
  struct Case {
    absl::string_view text;
    std::optional<LogLevel> expected;
  };
  const std::vector<Case> cases = {
      {"debug", LogLevel::kDebug},     {"info", LogLevel::kInfo},
      {"warning", LogLevel::kWarning}, {"error", LogLevel::kError},
      {"warn", std::nullopt},          {"", std::nullopt},
      {"info ", std::nullopt},         {"fatal", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    LogLevel level = LogLevel::kError;
    const bool ok = ParseLogLevel(c.text, &level);
    ASSERT_EQ(ok, c.expected.has_value());
    if (ok) {
      EXPECT_EQ(level, *c.expected);
    }
  }
}

// Secrets registered here stay registered for the whole binary (there is no
// way to remove one), so every test uses its own.
TEST_F(LogTest, RedactsRegisteredSecretsEverywhere) {
  Logger::Global().AddSecret("s3cr3t-token-A");
  LogInfo("login s3cr3t-token-A",
          {{"password", "s3cr3t-token-A"},
           {"url", "https://u:s3cr3t-token-A@example.com/x"},
           {"twice", "s3cr3t-token-As3cr3t-token-A!"},
           {"unrelated", "s3cr3t-token"}});
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], Not(HasSubstr("s3cr3t-token-A")));
  EXPECT_THAT(OnlyLineFields(),
              ElementsAre(Pair("ts", testing::_), Pair("level", "info"),
                          Pair("event", "login [REDACTED]"),
                          Pair("password", "[REDACTED]"),
                          Pair("url", "https://u:[REDACTED]@example.com/x"),
                          Pair("twice", "[REDACTED]!"),
                          Pair("unrelated", "s3cr3t-token")));
}

TEST_F(LogTest, RedactsSecretsThatNeedQuoting) {
  Logger::Global().AddSecret("pa ss\"word");
  LogInfo("e", {{"v", "x pa ss\"word y"}});
  EXPECT_THAT(OnlyLineFields().back(), Pair("v", "x [REDACTED] y"));
}

TEST_F(LogTest, OverlappingSecretsLeaveNoFragment) {
  Logger::Global().AddSecret("abcd1234");
  Logger::Global().AddSecret("1234wxyz");
  Logger::Global().AddSecret("abcd");
  EXPECT_EQ(Logger::Global().Redact("<abcd1234wxyz> <abcd99>"),
            "<[REDACTED]> <[REDACTED]99>");
}

TEST_F(LogTest, IgnoresEmptyAndShortSecrets) {
  Logger::Global().AddSecret("");
  Logger::Global().AddSecret("xyz");
  EXPECT_EQ(Logger::Global().Redact("xyz is fine"), "xyz is fine");
}

TEST_F(LogTest, RedactsAuthorizationKeyWholeInAnyCase) {
  for (absl::string_view key :
       {"authorization", "Authorization", "AUTHORIZATION"}) {
    SCOPED_TRACE(key);
    ClearLines();
    LogInfo("request", {{key, "Custom abc123 def456"}, {"path", "/v2/"}});
    const std::vector<std::string> lines = Lines();
    ASSERT_THAT(lines, SizeIs(1));
    EXPECT_THAT(lines[0], Not(HasSubstr("abc123")));
    EXPECT_THAT(OnlyLineFields(),
                ElementsAre(Pair("ts", testing::_), Pair("level", "info"),
                            Pair("event", "request"),
                            Pair(std::string(key), "[REDACTED]"),
                            Pair("path", "/v2/")));
  }
}

TEST_F(LogTest, RedactsBearerAndBasicTokensInAnyValue) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"Bearer eyJhbGciOi.x_y-z", "Bearer [REDACTED]"},
      {"header: bearer abc123 rest", "header: bearer [REDACTED] rest"},
      {"BEARER abc123", "BEARER [REDACTED]"},
      {"Basic dXNlcjpwYXNz==", "Basic [REDACTED]"},
      {"basic\tdXNlcjpwYXNz", "basic\t[REDACTED]"},
      {"{\"auth\":\"Bearer tok\"}", "{\"auth\":\"Bearer [REDACTED]\"}"},
      {"Bearer a, Basic b", "Bearer [REDACTED], Basic [REDACTED]"},
      {"Bearer", "Bearer"},
      {"Bearer ", "Bearer "},
      {"Bearer=x", "Bearer=x"},
      {"unbearer abc", "unbearer abc"},
      {"no credentials here", "no credentials here"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(Logger::Global().Redact(c.text), c.expected);
    ClearLines();
    LogInfo("e", {{"detail", c.text}});
    EXPECT_THAT(OnlyLineFields().back(), Pair("detail", c.expected));
  }
}

TEST_F(LogTest, RedactAppliesSecretsAndTokensToFreeText) {
  Logger::Global().AddSecret("hunter2-db-password");
  EXPECT_EQ(
      Logger::Global().Redact("connect failed: password=hunter2-db-password; "
                              "Authorization: Bearer abc"),
      "connect failed: password=[REDACTED]; "
      "Authorization: Bearer [REDACTED]");
}

TEST_F(LogTest, DefaultSinkWritesWholeLinesToStderr) {
  Logger::Global().SetSink(nullptr);
  char path[] = "/tmp/shapin_log_test_XXXXXX";
  const int file = mkstemp(path);
  ASSERT_GE(file, 0);
  unlink(path);
  const int saved_stderr = dup(STDERR_FILENO);
  ASSERT_GE(saved_stderr, 0);
  ASSERT_EQ(dup2(file, STDERR_FILENO), STDERR_FILENO);
  LogWarning("to_stderr", {{"n", 1}});
  Logger::Global().SetMinLevel(LogLevel::kInfo);
  LogDebug("dropped");
  LogInfo("second", {{"v", "two words"}});
  ASSERT_EQ(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
  close(saved_stderr);

  std::string contents(4096, '\0');
  const ssize_t n = pread(file, contents.data(), contents.size(), 0);
  close(file);
  ASSERT_GT(n, 0);
  contents.resize(static_cast<size_t>(n));
  EXPECT_THAT(
      contents,
      MatchesRegex("ts=[^ ]+ level=warning event=to_stderr n=1\n"
                   "ts=[^ ]+ level=info event=second v=\"two words\"\n"));
}

TEST_F(LogTest, ConcurrentLoggingKeepsEveryLineWellFormed) {
  constexpr int kThreads = 16;
  constexpr int kLinesPerThread = 300;
  Logger::Global().AddSecret("concurrent-secret");
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLinesPerThread; ++i) {
        LogInfo("tick", {{"thread", t},
                         {"seq", i},
                         {"text", "a \"quoted\"\nmulti=line value"},
                         {"secret", "x concurrent-secret y"}});
        if (i % 50 == 0) Logger::Global().AddSecret(absl::StrCat("extra-", t));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(kThreads * kLinesPerThread));
  std::vector<int> next_seq(kThreads, 0);
  for (const std::string& line : lines) {
    std::optional<Fields> fields = ParseLine(line);
    ASSERT_TRUE(fields.has_value()) << line;
    ASSERT_THAT(*fields, SizeIs(7)) << line;
    EXPECT_EQ((*fields)[5].second, "a \"quoted\"\nmulti=line value");
    EXPECT_EQ((*fields)[6].second, "x [REDACTED] y");
    const int thread = std::stoi((*fields)[3].second);
    ASSERT_GE(thread, 0);
    ASSERT_LT(thread, kThreads);
    // Each thread's lines arrive in the order it logged them.
    EXPECT_EQ(std::stoi((*fields)[4].second), next_seq[thread]++);
  }
}

}  // namespace
}  // namespace shapin
