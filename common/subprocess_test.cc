#include "common/subprocess.h"

#include "tests/support/status_matchers.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Lt;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::StartsWith;

// Generous bound for "killed promptly": far below the 30 s the children
// would otherwise run, far above any scheduling noise.
constexpr absl::Duration kPromptly = absl::Seconds(10);


using ::shapin::testing::StatusIs;

SubprocessResult RunOrDie(const SubprocessOptions& options) {
  absl::StatusOr<SubprocessResult> result = RunSubprocess(options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : SubprocessResult{};
}

SubprocessOptions Shell(absl::string_view script) {
  SubprocessOptions options;
  options.argv = {"/bin/sh", "-c", std::string(script)};
  return options;
}

// True once `pid` no longer runs: gone, or a zombie waiting for a reaper
// (PID 1 in a container may never reap it).
bool ProcessGone(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat) return true;
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() ||
         text[paren + 2] == 'Z' || text[paren + 2] == 'X';
}

// Waits (bounded) for a killed process to disappear: SIGKILL delivery is
// asynchronous.
bool EventuallyGone(pid_t pid) {
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (!ProcessGone(pid)) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

pid_t ParsePid(absl::string_view text) {
  int pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) return 0;
  return pid;
}

TEST(SubprocessTest, ReportsExitCodeAndSignal) {
  struct Case {
    std::string name;
    std::vector<std::string> argv;
    int exit_code;
    int term_signal;
  };
  const std::vector<Case> cases = {
      {"true", {"true"}, 0, 0},
      {"false", {"false"}, 1, 0},
      {"exit 3", {"/bin/sh", "-c", "exit 3"}, 3, 0},
      {"exit 255", {"/bin/sh", "-c", "exit 255"}, 255, 0},
      {"killed", {"/bin/sh", "-c", "kill -KILL $$"}, -1, SIGKILL},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SubprocessOptions options;
    options.argv = c.argv;
    const SubprocessResult result = RunOrDie(options);
    EXPECT_EQ(result.exit_code, c.exit_code);
    EXPECT_EQ(result.term_signal, c.term_signal);
    EXPECT_FALSE(result.timed_out);
    EXPECT_FALSE(result.canceled);
    EXPECT_EQ(result.ok(), c.exit_code == 0 && c.term_signal == 0);
  }
}

TEST(SubprocessTest, SeparatesStdoutAndStderr) {
  const SubprocessResult result =
      RunOrDie(Shell("echo out1; echo err1 >&2; echo out2; echo err2 >&2"));
  EXPECT_EQ(result.stdout_data, "out1\nout2\n");
  EXPECT_EQ(result.stderr_data, "err1\nerr2\n");
}

TEST(SubprocessTest, PassesArgvVerbatimWithoutAShell) {
  SubprocessOptions options;
  options.argv = {"printf", "%s|", "two words", "$HOME", "*", "a;b", ""};
  EXPECT_EQ(RunOrDie(options).stdout_data, "two words|$HOME|*|a;b||");
}

TEST(SubprocessTest, FeedsStdin) {
  struct Case {
    std::string name;
    std::string data;
  };
  std::string big;
  for (int i = 0; big.size() < (4 << 20); ++i) absl::StrAppend(&big, i, "\n");
  const std::vector<Case> cases = {
      {"small", "hello\nworld"},
      {"empty", ""},
      // Larger than any pipe buffer: stdin must be written while stdout is
      // read, or both sides block.
      {"4 MiB", big},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SubprocessOptions options;
    options.argv = {"cat"};
    options.stdin_data = c.data;
    options.max_capture_bytes = 8 << 20;
    const SubprocessResult result = RunOrDie(options);
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_TRUE(result.stdout_data == c.data)
        << "got " << result.stdout_data.size() << " bytes, want "
        << c.data.size();
  }
}

TEST(SubprocessTest, StdinDefaultsToDevNull) {
  SubprocessOptions options;
  options.argv = {"cat"};
  options.timeout = absl::Seconds(20);
  const SubprocessResult result = RunOrDie(options);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.stdout_data, "");
}

TEST(SubprocessTest, ChildIgnoringStdinIsNotAnError) {
  // `true` exits without reading; writing the rest gets EPIPE, which must
  // neither kill this process with SIGPIPE nor fail the run.
  SubprocessOptions options;
  options.argv = {"true"};
  options.stdin_data = std::string(1 << 20, 'x');
  const SubprocessResult result = RunOrDie(options);
  EXPECT_EQ(result.exit_code, 0);
}

TEST(SubprocessTest, BuildsEnvironmentFromAllowList) {
  ASSERT_EQ(setenv("SHAPIN_TEST_ALLOWED", "yes", 1), 0);
  ASSERT_EQ(setenv("SHAPIN_TEST_NOT_ALLOWED", "leak", 1), 0);
  ASSERT_EQ(setenv("SHAPIN_TEST_OVERRIDDEN", "parent", 1), 0);
  SubprocessOptions options;
  options.argv = {"env"};
  options.env_allow = {"SHAPIN_TEST_ALLOWED", "SHAPIN_TEST_OVERRIDDEN",
                       "SHAPIN_TEST_UNSET"};
  options.env = {{"SHAPIN_TEST_EXPLICIT", "a b=c"},
                 {"SHAPIN_TEST_OVERRIDDEN", "explicit"}};
  const SubprocessResult result = RunOrDie(options);
  std::vector<std::string> vars =
      absl::StrSplit(result.stdout_data, '\n', absl::SkipEmpty());
  std::sort(vars.begin(), vars.end());
  EXPECT_THAT(
      vars, ElementsAre(absl::StrCat("PATH=", getenv("PATH")),
                        "SHAPIN_TEST_ALLOWED=yes", "SHAPIN_TEST_EXPLICIT=a b=c",
                        "SHAPIN_TEST_OVERRIDDEN=explicit"));
  unsetenv("SHAPIN_TEST_ALLOWED");
  unsetenv("SHAPIN_TEST_NOT_ALLOWED");
  unsetenv("SHAPIN_TEST_OVERRIDDEN");
}

TEST(SubprocessTest, ExplicitPathIsUsedForLookup) {
  SubprocessOptions options;
  options.argv = {"env"};
  options.env = {{"PATH", "/nonexistent-shapin-dir"}};
  EXPECT_THAT(RunSubprocess(options),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("env")));

  options.env = {{"PATH", "/nonexistent-shapin-dir:/usr/bin:/bin"}};
  EXPECT_EQ(RunOrDie(options).stdout_data,
            "PATH=/nonexistent-shapin-dir:/usr/bin:/bin\n");
}

TEST(SubprocessTest, TimeoutKillsTheProcess) {
  SubprocessOptions options;
  options.argv = {"sleep", "30"};
  options.timeout = absl::Milliseconds(200);
  const SubprocessResult result = RunOrDie(options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_FALSE(result.canceled);
  EXPECT_EQ(result.term_signal, SIGTERM);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result.elapsed, Lt(kPromptly));
  EXPECT_THAT(result.CheckSuccess("sleep"),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       StartsWith("sleep: timed out after ")));
}

TEST(SubprocessTest, TimeoutEscalatesToSigkill) {
  // The shell and its sleep both ignore SIGTERM.
  SubprocessOptions options = Shell("trap '' TERM; sleep 30; echo not reached");
  options.timeout = absl::Milliseconds(200);
  options.kill_grace = absl::Milliseconds(300);
  const SubprocessResult result = RunOrDie(options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.term_signal, SIGKILL);
  EXPECT_EQ(result.stdout_data, "");
  EXPECT_THAT(result.elapsed, Lt(kPromptly));
}

TEST(SubprocessTest, TimeoutKillsGrandchildren) {
  // The grandchild holds stdout open, so without the group kill and the
  // drain limit the read would last 30 s.
  SubprocessOptions options = Shell("sleep 30 & echo $!; sleep 30");
  options.timeout = absl::Milliseconds(300);
  const SubprocessResult result = RunOrDie(options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_THAT(result.elapsed, Lt(kPromptly));
  const pid_t grandchild = ParsePid(result.stdout_data);
  ASSERT_GT(grandchild, 0) << result.stdout_data;
  EXPECT_TRUE(EventuallyGone(grandchild)) << "pid " << grandchild;
}

TEST(SubprocessTest, GrandchildIgnoringSigtermIsKilledToo) {
  SubprocessOptions options =
      Shell("(trap '' TERM; sleep 30) & echo $!; sleep 30");
  options.timeout = absl::Milliseconds(300);
  options.kill_grace = absl::Seconds(20);
  const SubprocessResult result = RunOrDie(options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_THAT(result.elapsed, Lt(kPromptly));
  const pid_t grandchild = ParsePid(result.stdout_data);
  ASSERT_GT(grandchild, 0) << result.stdout_data;
  EXPECT_TRUE(EventuallyGone(grandchild)) << "pid " << grandchild;
}

TEST(SubprocessTest, BackgroundGrandchildDoesNotHangANormalExit) {
  // The shell exits at once; its background sleep keeps stdout open.
  const SubprocessResult result = RunOrDie(Shell("sleep 30 & echo $!"));
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_FALSE(result.timed_out);
  EXPECT_THAT(result.elapsed, Lt(kPromptly));
  const pid_t grandchild = ParsePid(result.stdout_data);
  ASSERT_GT(grandchild, 0) << result.stdout_data;
  kill(grandchild, SIGKILL);
}

TEST(SubprocessTest, CancelKillsTheProcess) {
  std::atomic<bool> cancel{false};
  SubprocessOptions options;
  options.argv = {"sleep", "30"};
  options.cancel = &cancel;
  std::thread canceler([&cancel] {
    absl::SleepFor(absl::Milliseconds(200));
    cancel.store(true);
  });
  const SubprocessResult result = RunOrDie(options);
  canceler.join();
  EXPECT_TRUE(result.canceled);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.term_signal, SIGTERM);
  EXPECT_THAT(result.elapsed, Lt(kPromptly));
  EXPECT_THAT(result.CheckSuccess("sleep"),
              StatusIs(absl::StatusCode::kCancelled,
                       StartsWith("sleep: canceled after ")));
}

TEST(SubprocessTest, AlreadyCanceledDoesNotStart) {
  std::atomic<bool> cancel{true};
  SubprocessOptions options = Shell("echo started");
  options.cancel = &cancel;
  const SubprocessResult result = RunOrDie(options);
  EXPECT_TRUE(result.canceled);
  EXPECT_EQ(result.stdout_data, "");
  EXPECT_THAT(result.CheckSuccess("echo"),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("canceled")));
}

TEST(SubprocessTest, StartFailuresAreErrors) {
  char dir_template[] = "/tmp/shapin_subprocess_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string not_executable = dir + "/script";
  std::ofstream(not_executable) << "#!/bin/sh\necho hi\n";
  ASSERT_EQ(chmod(not_executable.c_str(), 0644), 0);

  struct Case {
    std::string name;
    std::vector<std::string> argv;
    std::string working_dir;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"empty argv", {}, "", absl::StatusCode::kInvalidArgument, "empty argv"},
      {"empty program",
       {""},
       "",
       absl::StatusCode::kInvalidArgument,
       "empty argv[0]"},
      {"not on PATH",
       {"shapin-no-such-program", "x"},
       "",
       absl::StatusCode::kNotFound,
       "subprocess shapin-no-such-program: exec: no such file or directory"},
      {"absolute path",
       {"/nonexistent/shapin-prog"},
       "",
       absl::StatusCode::kNotFound,
       "subprocess /nonexistent/shapin-prog: exec: no such file"},
      {"not executable",
       {not_executable},
       "",
       absl::StatusCode::kPermissionDenied,
       "permission denied"},
      {"missing working dir",
       {"true"},
       dir + "/missing",
       absl::StatusCode::kNotFound,
       "working directory " + dir + "/missing"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SubprocessOptions options;
    options.argv = c.argv;
    options.working_dir = c.working_dir;
    EXPECT_THAT(RunSubprocess(options), StatusIs(c.code, HasSubstr(c.message)));
  }
  unlink(not_executable.c_str());
  rmdir(dir.c_str());
}

TEST(SubprocessTest, CaptureKeepsTheTail) {
  std::string expected;
  for (int i = 1; i <= 100000; ++i) absl::StrAppend(&expected, i, "\n");
  struct Case {
    size_t max_bytes;
  };
  for (const Case& c :
       std::vector<Case>{{0}, {1}, {1000}, {100000}, {1 << 20}}) {
    SCOPED_TRACE(c.max_bytes);
    SubprocessOptions options;
    options.argv = {"seq", "1", "100000"};
    options.max_capture_bytes = c.max_bytes;
    const SubprocessResult result = RunOrDie(options);
    const size_t keep = std::min(c.max_bytes, expected.size());
    EXPECT_EQ(result.stdout_data, expected.substr(expected.size() - keep));
  }
}

TEST(SubprocessTest, StreamsLinesInOrderIncludingFinalPartialLine) {
  // The sleep splits "hello" across two reads.
  SubprocessOptions options = Shell(
      "printf 'a\\nb\\n\\n'; printf 'x\\n' >&2; printf 'he'; sleep 0.2; "
      "printf 'llo\\npartial'; printf 'y' >&2");
  std::vector<std::pair<OutputStream, std::string>> lines;
  options.on_line = [&lines](OutputStream stream, absl::string_view line) {
    lines.emplace_back(stream, std::string(line));
  };
  const SubprocessResult result = RunOrDie(options);
  std::vector<std::string> out;
  std::vector<std::string> err;
  for (const auto& [stream, line] : lines) {
    (stream == OutputStream::kStdout ? out : err).push_back(line);
  }
  EXPECT_THAT(out, ElementsAre("a", "b", "", "hello", "partial"));
  EXPECT_THAT(err, ElementsAre("x", "y"));
  EXPECT_EQ(result.stdout_data, "a\nb\n\nhello\npartial");
}

TEST(SubprocessTest, StreamsLinesBeyondTheCaptureBound) {
  SubprocessOptions options;
  options.argv = {"seq", "1", "5000"};
  options.max_capture_bytes = 10;
  int count = 0;
  int last = 0;
  options.on_line = [&](OutputStream, absl::string_view line) {
    ++count;
    EXPECT_TRUE(absl::SimpleAtoi(line, &last));
  };
  const SubprocessResult result = RunOrDie(options);
  EXPECT_EQ(count, 5000);
  EXPECT_EQ(last, 5000);
  EXPECT_EQ(result.stdout_data, "4999\n5000\n");
}

TEST(SubprocessTest, HonoursWorkingDir) {
  char dir_template[] = "/tmp/shapin_subprocess_wd_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  char* real = realpath(dir_template, nullptr);
  ASSERT_NE(real, nullptr);
  const std::string dir = real;
  free(real);

  SubprocessOptions options;
  options.argv = {"pwd", "-P"};
  options.working_dir = dir;
  EXPECT_EQ(RunOrDie(options).stdout_data, dir + "\n");
  rmdir(dir.c_str());
}

TEST(SubprocessTest, ChildRunsInItsOwnProcessGroup) {
  SubprocessOptions options;
  options.argv = {"cat", "/proc/self/stat"};
  const SubprocessResult result = RunOrDie(options);
  // "pid (comm) state ppid pgrp ..."
  const std::string& stat = result.stdout_data;
  const size_t paren = stat.rfind(')');
  ASSERT_NE(paren, std::string::npos) << stat;
  std::vector<std::string> after = absl::StrSplit(stat.substr(paren + 2), ' ');
  ASSERT_GE(after.size(), 3u);
  EXPECT_EQ(ParsePid(after[2]), ParsePid(stat.substr(0, stat.find(' '))));
  EXPECT_NE(ParsePid(after[2]), getpgrp());
}

TEST(SubprocessTest, ChildInheritsOnlyStdio) {
  // An fd without close-on-exec would normally leak into children.
  const int leaky = open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 0);
  SubprocessOptions options;
  options.argv = {"ls", "/proc/self/fd"};
  const SubprocessResult result = RunOrDie(options);
  close(leaky);
  // ls itself has the directory open as fd 3.
  std::vector<std::string> fds =
      absl::StrSplit(result.stdout_data, '\n', absl::SkipEmpty());
  EXPECT_THAT(fds, ElementsAre("0", "1", "2", "3"));
}

TEST(SubprocessTest, ChildGetsDefaultSignalStateAndEmptyMask) {
  // A server typically ignores SIGPIPE and may block SIGTERM in its threads;
  // neither may reach the program, or a timeout's SIGTERM would not work.
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_action;
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &old_action), 0);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigset_t old_mask;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &old_mask), 0);

  SubprocessOptions options;
  options.argv = {"cat", "/proc/self/status"};
  const SubprocessResult result = RunOrDie(options);

  SubprocessOptions sleeper;
  sleeper.argv = {"sleep", "30"};
  sleeper.timeout = absl::Milliseconds(200);
  sleeper.kill_grace = absl::Seconds(20);
  const SubprocessResult killed = RunOrDie(sleeper);

  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGPIPE, &old_action, nullptr);

  EXPECT_THAT(result.stdout_data, HasSubstr("\nSigBlk:\t0000000000000000\n"));
  EXPECT_THAT(result.stdout_data, HasSubstr("\nSigIgn:\t0000000000000000\n"));
  EXPECT_EQ(killed.term_signal, SIGTERM);
  EXPECT_THAT(killed.elapsed, Lt(kPromptly));
}

TEST(SubprocessTest, ReturnsWhenSomeoneElseReapsTheChild) {
  // With SIGCHLD ignored the kernel reaps children itself; the exit status is
  // lost, but the run must still end and keep the output.
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_action;
  ASSERT_EQ(sigaction(SIGCHLD, &ignore, &old_action), 0);
  SubprocessOptions options = Shell("echo done; exit 3");
  options.timeout = absl::Seconds(20);
  const SubprocessResult result = RunOrDie(options);
  sigaction(SIGCHLD, &old_action, nullptr);
  EXPECT_EQ(result.stdout_data, "done\n");
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, -1);
  EXPECT_FALSE(result.ok());
}

TEST(SubprocessResultTest, CheckSuccessDescribesTheFailure) {
  std::string hundred_lines;
  for (int i = 0; i < 100; ++i)
    absl::StrAppend(&hundred_lines, "line", i, "\n");

  struct Case {
    std::string name;
    SubprocessResult result;
    absl::StatusCode code;
    std::vector<std::string> contains;
    std::vector<std::string> lacks;
  };
  auto make = [](int exit_code, int term_signal, bool timed_out, bool canceled,
                 std::string out, std::string err) {
    SubprocessResult r;
    r.exit_code = exit_code;
    r.term_signal = term_signal;
    r.timed_out = timed_out;
    r.canceled = canceled;
    r.stdout_data = std::move(out);
    r.stderr_data = std::move(err);
    r.elapsed = absl::Milliseconds(1500);
    return r;
  };
  const std::vector<Case> cases = {
      {"success",
       make(0, 0, false, false, "out", "warning"),
       absl::StatusCode::kOk,
       {},
       {}},
      {"exit code",
       make(128, 0, false, false, "", "fatal: repository not found\n"),
       absl::StatusCode::kUnknown,
       {"git fetch: exited with code 128; stderr: fatal: repository not "
        "found"},
       {}},
      {"signal",
       make(-1, SIGKILL, false, false, "", ""),
       absl::StatusCode::kUnknown,
       {"git fetch: killed by signal 9 (SIGKILL)"},
       {"stderr", "stdout"}},
      {"timeout",
       make(-1, SIGTERM, true, false, "", "slow\n"),
       absl::StatusCode::kDeadlineExceeded,
       {"git fetch: timed out after 1.5s; stderr: slow"},
       {}},
      {"canceled",
       make(-1, SIGTERM, false, true, "", ""),
       absl::StatusCode::kCancelled,
       {"git fetch: canceled after 1.5s"},
       {}},
      {"stdout when stderr empty",
       make(2, 0, false, false, "usage: x\n", " \n"),
       absl::StatusCode::kUnknown,
       {"exited with code 2; stdout: usage: x"},
       {}},
      {"last lines only",
       make(1, 0, false, false, "", hundred_lines),
       absl::StatusCode::kUnknown,
       {"stderr: line80\nline81\n", "line99"},
       {"line79"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::Status status = c.result.CheckSuccess("git fetch");
    EXPECT_EQ(status.code(), c.code) << status;
    for (const std::string& text : c.contains) {
      EXPECT_THAT(status.message(), HasSubstr(text));
    }
    for (const std::string& text : c.lacks) {
      EXPECT_THAT(status.message(), Not(HasSubstr(text)));
    }
  }
}

TEST(SubprocessResultTest, CheckSuccessBoundsALongTail) {
  SubprocessResult result;
  result.exit_code = 1;
  result.stderr_data = std::string(10000, 'e') + "END\n";
  const absl::Status status = result.CheckSuccess("buildah push");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnknown,
                               AllOf(StartsWith("buildah push: exited with "
                                                "code 1; stderr: ..."),
                                     EndsWith("eeeEND"))));
  EXPECT_THAT(status.message(), SizeIs(Lt(2200u)));
}

}  // namespace
}  // namespace shapin

namespace shapin {
namespace {

TEST(SubprocessRedactionTest, CheckSuccessRedactsRegisteredSecrets) {
  Logger::Global().AddSecret("registry-token-5up3r");
  SubprocessOptions opts;
  opts.argv = {"/bin/sh", "-c",
               "echo 'auth failed for registry-token-5up3r' >&2; exit 3"};
  absl::StatusOr<SubprocessResult> r = RunSubprocess(opts);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::Status s = r->CheckSuccess("login");
  EXPECT_EQ(s.message().find("5up3r"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("[REDACTED]"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("exited with code 3"), absl::string_view::npos);
}

}  // namespace
}  // namespace shapin
