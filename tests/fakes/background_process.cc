#include "tests/fakes/background_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace shapin::testing {
namespace {

constexpr absl::Duration kTermGrace = absl::Seconds(3);

// Polls for the child's exit until `deadline`; true once reaped.
bool WaitUntil(pid_t pid, absl::Time deadline) {
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<BackgroundProcess>> BackgroundProcess::Start(
    std::vector<std::string> argv) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = 0;
  const int rc =
      posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return absl::InternalError(
        absl::StrCat("spawn ", argv[0], ": ", strerror(rc)));
  }
  return std::unique_ptr<BackgroundProcess>(new BackgroundProcess(pid, fds[0]));
}

BackgroundProcess::~BackgroundProcess() {
  close(stdout_fd_);
  kill(pid_, SIGTERM);
  if (!WaitUntil(pid_, absl::Now() + kTermGrace)) {
    kill(pid_, SIGKILL);
    WaitUntil(pid_, absl::InfiniteFuture());
  }
}

absl::StatusOr<std::string> BackgroundProcess::ReadLine(
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const size_t newline = buffered_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("no line from the background process");
    }
    pollfd pfd{.fd = stdout_fd_, .events = POLLIN, .revents = 0};
    const int ready = poll(&pfd, 1, absl::ToInt64Milliseconds(left) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buf[4096];
    const ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(
          "the background process closed its stdout (exited?)");
    }
    buffered_.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace shapin::testing
