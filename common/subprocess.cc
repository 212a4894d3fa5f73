#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace shapin {
namespace {

// How often the cancel flag is checked.
constexpr absl::Duration kCancelPollInterval = absl::Milliseconds(100);
// After the direct child is gone, how long to keep reading pipes that some
// other process (a grandchild) still holds open.
constexpr absl::Duration kDrainWindow = absl::Milliseconds(200);
// Without a pidfd, how often to check whether the child has exited.
constexpr absl::Duration kReapPollInterval = absl::Milliseconds(10);
constexpr size_t kReadChunkBytes = 64 * 1024;
// on_line gets a line in pieces of at most this size, so a child that never
// writes '\n' cannot grow memory without bound.
constexpr size_t kMaxLineBytes = 1 << 20;
// CheckSuccess quotes at most this much of the output.
constexpr int kTailLines = 20;
constexpr size_t kTailBytes = 2048;
constexpr absl::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

std::string ErrnoText(int err) {
  char buf[256];
  // GNU strerror_r: returns a pointer to the message (maybe not into buf).
  std::string text = strerror_r(err, buf, sizeof(buf));
  if (!text.empty()) text[0] = absl::ascii_tolower(text[0]);
  return text;
}

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// The child's stdio sources are dup2'ed onto 0..2 in order; keeping every fd
// we create at 3 or above means no dup2 can clobber a source still needed
// (this process may have been started with 0..2 closed).
absl::Status MoveAboveStdio(UniqueFd* fd) {
  if (fd->get() > STDERR_FILENO) return absl::OkStatus();
  const int moved = fcntl(fd->get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (moved < 0) {
    return absl::InternalError(absl::StrCat("fcntl: ", ErrnoText(errno)));
  }
  fd->reset(moved);
  return absl::OkStatus();
}

// Both ends close-on-exec, so a child started concurrently by another thread
// does not inherit them (which would delay EOF).
absl::Status MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", ErrnoText(errno)));
  }
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  SHAPIN_RETURN_IF_ERROR(MoveAboveStdio(read_end));
  return MoveAboveStdio(write_end);
}

absl::Status SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("fcntl: ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

// Everything the child needs, prepared before fork(): after fork() in a
// multi-threaded process the child may only make async-signal-safe calls, so
// it must not allocate.
struct ExecPlan {
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  // execve() is tried on each in order, as execvp() does, but with the PATH
  // of the child's environment rather than ours.
  std::vector<std::string> candidates;
  const char* working_dir = nullptr;
};

std::vector<std::string> BuildEnvironment(const SubprocessOptions& options) {
  std::map<std::string, std::string> vars;
  auto copy_from_parent = [&vars](const std::string& name) {
    if (const char* value = std::getenv(name.c_str()); value != nullptr) {
      vars[name] = value;
    }
  };
  copy_from_parent("PATH");
  for (const std::string& name : options.env_allow) {
    if (!name.empty() && name.find('=') == std::string::npos) {
      copy_from_parent(name);
    }
  }
  for (const auto& [name, value] : options.env) vars[name] = value;
  std::vector<std::string> env;
  env.reserve(vars.size());
  for (const auto& [name, value] : vars) env.push_back(name + "=" + value);
  return env;
}

absl::StatusOr<ExecPlan> BuildExecPlan(const SubprocessOptions& options) {
  const std::string& program = options.argv[0];
  if (program.empty()) {
    return absl::InvalidArgumentError("subprocess: empty argv[0]");
  }
  for (const std::string& arg : options.argv) {
    if (arg.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("subprocess ", program, ": argument contains NUL"));
    }
  }
  for (const auto& [name, value] : options.env) {
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "subprocess ", program, ": invalid environment variable ", name));
    }
  }

  ExecPlan plan;
  plan.env_storage = BuildEnvironment(options);
  for (const std::string& arg : options.argv) {
    plan.argv.push_back(const_cast<char*>(arg.c_str()));
  }
  plan.argv.push_back(nullptr);
  for (std::string& var : plan.env_storage) plan.envp.push_back(var.data());
  plan.envp.push_back(nullptr);

  if (absl::StrContains(program, '/')) {
    plan.candidates.push_back(program);
  } else {
    absl::string_view path = kDefaultPath;
    for (const std::string& var : plan.env_storage) {
      if (absl::StartsWith(var, "PATH=")) {
        path = absl::string_view(var).substr(5);
      }
    }
    for (absl::string_view dir : absl::StrSplit(path, ':')) {
      // An empty PATH entry means the current directory.
      plan.candidates.push_back(dir.empty() ? program
                                            : absl::StrCat(dir, "/", program));
    }
  }
  if (!options.working_dir.empty()) {
    plan.working_dir = options.working_dir.c_str();
  }
  return plan;
}

// What the child reports through the exec-error pipe when it fails before
// or at exec.
enum class ChildStage : int32_t { kSetup = 1, kChdir = 2, kExec = 3 };
struct ChildFailure {
  ChildStage stage;
  int32_t error;
};

struct ChildFds {
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  int report_fd;
};

[[noreturn]] void FailInChild(int report_fd, ChildStage stage, int error) {
  const ChildFailure failure{stage, error};
  // A single write of a few bytes to a pipe is atomic.
  [[maybe_unused]] ssize_t n = write(report_fd, &failure, sizeof(failure));
  _exit(127);
}

// Runs in the forked child: async-signal-safe calls only.
[[noreturn]] void RunChild(const ExecPlan& plan, ChildFds fds) {
  // Signal handlers and ignored signals (a server often ignores SIGPIPE)
  // must not leak into the program, nor must the blocked mask: the parent
  // blocked everything around fork(), and a server may block SIGTERM for a
  // signal-handling thread.
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &default_action, nullptr);
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);

  // Own process group, so a timeout can kill the program's children too.
  if (setpgid(0, 0) != 0) FailInChild(fds.report_fd, ChildStage::kSetup, errno);

  if (dup2(fds.stdin_fd, STDIN_FILENO) < 0 ||
      dup2(fds.stdout_fd, STDOUT_FILENO) < 0 ||
      dup2(fds.stderr_fd, STDERR_FILENO) < 0) {
    FailInChild(fds.report_fd, ChildStage::kSetup, errno);
  }
  // Keep the report pipe (close-on-exec) at 3 and close everything above,
  // so the program inherits nothing but stdio.
  constexpr int kReportFd = STDERR_FILENO + 1;
  int report_fd = fds.report_fd;
  if (report_fd != kReportFd) {
    if (dup3(report_fd, kReportFd, O_CLOEXEC) < 0) {
      FailInChild(report_fd, ChildStage::kSetup, errno);
    }
    report_fd = kReportFd;
  }
  if (close_range(kReportFd + 1, ~0U, 0) != 0) {
    // Kernels before 5.9: close one by one.
    struct rlimit limit;
    int max_fd = 65536;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
        limit.rlim_cur != RLIM_INFINITY &&
        limit.rlim_cur < static_cast<rlim_t>(max_fd)) {
      max_fd = static_cast<int>(limit.rlim_cur);
    }
    for (int fd = kReportFd + 1; fd < max_fd; ++fd) close(fd);
  }

  if (plan.working_dir != nullptr && chdir(plan.working_dir) != 0) {
    FailInChild(report_fd, ChildStage::kChdir, errno);
  }

  // Like execvp: a missing file moves on to the next PATH entry; EACCES is
  // remembered but the search goes on; anything else is final.
  int error = ENOENT;
  bool saw_eacces = false;
  for (const std::string& candidate : plan.candidates) {
    execve(candidate.c_str(), plan.argv.data(), plan.envp.data());
    error = errno;
    if (error == EACCES) {
      saw_eacces = true;
      continue;
    }
    if (error == ENOENT || error == ENOTDIR || error == ESTALE ||
        error == ENODEV || error == ETIMEDOUT) {
      continue;
    }
    break;
  }
  if (saw_eacces && (error == ENOENT || error == ENOTDIR)) error = EACCES;
  FailInChild(report_fd, ChildStage::kExec, error);
}

absl::Status ChildFailureToStatus(const SubprocessOptions& options,
                                  const ChildFailure& failure) {
  const std::string& program = options.argv[0];
  const int err = failure.error;
  switch (failure.stage) {
    case ChildStage::kChdir: {
      std::string message =
          absl::StrCat("subprocess ", program, ": working directory ",
                       options.working_dir, ": ", ErrnoText(err));
      if (err == ENOENT || err == ENOTDIR) {
        return absl::NotFoundError(message);
      }
      if (err == EACCES) return absl::PermissionDeniedError(message);
      return absl::InternalError(message);
    }
    case ChildStage::kExec: {
      std::string message =
          absl::StrCat("subprocess ", program, ": exec: ", ErrnoText(err));
      if (err == ENOENT || err == ENOTDIR) {
        if (!absl::StrContains(program, '/')) {
          absl::StrAppend(&message, " (searched PATH)");
        }
        return absl::NotFoundError(message);
      }
      if (err == EACCES) return absl::PermissionDeniedError(message);
      if (err == ENOEXEC) return absl::FailedPreconditionError(message);
      return absl::InternalError(message);
    }
    case ChildStage::kSetup:
      break;
  }
  return absl::InternalError(
      absl::StrCat("subprocess ", program, ": child setup: ", ErrnoText(err)));
}

// Writing to a pipe whose reader is gone raises SIGPIPE, which would kill a
// process that did not ignore it. The signal goes to the writing thread, so
// blocking it here is enough; a SIGPIPE this thread caused is consumed
// before the old mask comes back.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;
  ~ScopedSigpipeBlock() {
    if (raised_ && !was_pending_) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGPIPE);
      const struct timespec zero = {0, 0};
      while (sigtimedwait(&set, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  void NoteEpipe() { raised_ = true; }

 private:
  sigset_t old_mask_;
  bool was_pending_ = false;
  bool raised_ = false;
};

// Accumulates one output stream: a bounded tail for the result, and lines
// for on_line.
class StreamCollector {
 public:
  StreamCollector(OutputStream stream, const SubprocessOptions& options)
      : stream_(stream),
        max_capture_(options.max_capture_bytes),
        on_line_(options.on_line ? &options.on_line : nullptr) {}

  void Append(absl::string_view chunk) {
    if (max_capture_ > 0) {
      capture_.append(chunk.data(), chunk.size());
      // Trim only once the buffer is twice the limit: trimming on every
      // chunk would move up to max_capture_ bytes per read.
      if (capture_.size() >= 2 * max_capture_ + kReadChunkBytes) TrimCapture();
    }
    if (on_line_ != nullptr) SplitLines(chunk);
  }

  // Flushes a final unterminated line.
  void Finish() {
    if (on_line_ != nullptr && !partial_line_.empty()) {
      (*on_line_)(stream_, partial_line_);
      partial_line_.clear();
    }
    TrimCapture();
  }

  std::string TakeCapture() { return std::move(capture_); }

 private:
  void TrimCapture() {
    if (capture_.size() > max_capture_) {
      capture_.erase(0, capture_.size() - max_capture_);
    }
  }

  void SplitLines(absl::string_view chunk) {
    while (!chunk.empty()) {
      const size_t newline = chunk.find('\n');
      if (newline == absl::string_view::npos) {
        partial_line_.append(chunk.data(), chunk.size());
        if (partial_line_.size() >= kMaxLineBytes) {
          (*on_line_)(stream_, partial_line_);
          partial_line_.clear();
        }
        return;
      }
      if (partial_line_.empty()) {
        (*on_line_)(stream_, chunk.substr(0, newline));
      } else {
        partial_line_.append(chunk.data(), newline);
        (*on_line_)(stream_, partial_line_);
        partial_line_.clear();
      }
      chunk.remove_prefix(newline + 1);
    }
  }

  const OutputStream stream_;
  const size_t max_capture_;
  const std::function<void(OutputStream, absl::string_view)>* const on_line_;
  std::string capture_;
  std::string partial_line_;
};

int PollTimeoutMillis(absl::Time now, absl::Time wake) {
  if (wake == absl::InfiniteFuture()) return -1;
  if (wake <= now) return 0;
  const int64_t millis =
      absl::ToInt64Milliseconds(absl::Ceil(wake - now, absl::Milliseconds(1)));
  return static_cast<int>(std::min<int64_t>(millis, INT_MAX));
}

// Forks and execs; returns the child's pid once it has exec'ed (or the
// reason it could not).
absl::StatusOr<pid_t> Spawn(const SubprocessOptions& options,
                            const ExecPlan& plan, ChildFds fds,
                            UniqueFd report_read, UniqueFd report_write) {
  // With every signal blocked across fork(), no handler of ours runs in the
  // child before it resets them.
  sigset_t all;
  sigset_t old_mask;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old_mask);
  const pid_t pid = fork();
  if (pid == 0) {
    fds.report_fd = report_write.get();
    RunChild(plan, fds);
  }
  const int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("subprocess ", options.argv[0],
                                            ": fork: ", ErrnoText(fork_errno)));
  }
  // Also set from this side, so the group exists before we might signal it;
  // fails harmlessly (EACCES) once the child has exec'ed.
  setpgid(pid, pid);

  // EOF means the exec succeeded (close-on-exec closed the write end).
  report_write.reset();
  ChildFailure failure;
  size_t got = 0;
  while (got < sizeof(failure)) {
    const ssize_t n =
        read(report_read.get(), reinterpret_cast<char*>(&failure) + got,
             sizeof(failure) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got == 0) return pid;
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (got < sizeof(failure)) {
    return absl::InternalError(absl::StrCat("subprocess ", options.argv[0],
                                            ": short report from child"));
  }
  return ChildFailureToStatus(options, failure);
}

UniqueFd OpenPidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
#else
  (void)pid;
  return UniqueFd();
#endif
}

// The parent's side of a running child: feeds stdin, drains stdout/stderr,
// enforces deadline and cancel, and reaps.
class Supervisor {
 public:
  Supervisor(const SubprocessOptions& options, pid_t pid, UniqueFd stdin_write,
             UniqueFd stdout_read, UniqueFd stderr_read, absl::Time start)
      : options_(options),
        pid_(pid),
        pidfd_(OpenPidfd(pid)),
        stdin_write_(std::move(stdin_write)),
        stdout_read_(std::move(stdout_read)),
        stderr_read_(std::move(stderr_read)),
        deadline_(start + options.timeout),
        stdout_(OutputStream::kStdout, options),
        stderr_(OutputStream::kStderr, options) {}

  absl::Status Run(SubprocessResult* result) {
    ScopedSigpipeBlock sigpipe_block;
    std::vector<char> buffer(kReadChunkBytes);
    for (;;) {
      Reap();
      const absl::Time now = absl::Now();
      EnforceLimits(now, result);
      const bool pipes_open = stdout_read_.valid() || stderr_read_.valid();
      if (reaped_ && (!pipes_open || now >= reap_time_ + kDrainWindow)) break;

      pollfd fds[4];
      nfds_t count = 0;
      auto add = [&](const UniqueFd& fd, short events) {
        if (fd.valid()) fds[count++] = {fd.get(), events, 0};
      };
      add(stdin_write_, POLLOUT);
      add(stdout_read_, POLLIN);
      add(stderr_read_, POLLIN);
      if (!reaped_) add(pidfd_, POLLIN);
      const int ready = poll(fds, count, PollTimeoutMillis(now, NextWake(now)));
      if (ready < 0) {
        if (errno == EINTR) continue;
        const int poll_errno = errno;
        KillGroup(SIGKILL);
        while (!reaped_) Reap(/*block=*/true);
        return absl::InternalError(
            absl::StrCat("subprocess ", options_.argv[0],
                         ": poll: ", ErrnoText(poll_errno)));
      }
      for (nfds_t i = 0; i < count; ++i) {
        if (fds[i].revents == 0) continue;
        if (fds[i].fd == stdin_write_.get()) {
          WriteStdin(&sigpipe_block);
        } else if (fds[i].fd == stdout_read_.get()) {
          ReadInto(&stdout_read_, &stdout_, &buffer);
        } else if (fds[i].fd == stderr_read_.get()) {
          ReadInto(&stderr_read_, &stderr_, &buffer);
        }
      }
    }
    if (kill_stage_ != KillStage::kNone) {
      // The program is gone; whatever else is left in its group (say a
      // grandchild that ignored SIGTERM) goes too.
      KillGroup(SIGKILL);
    }
    stdout_.Finish();
    stderr_.Finish();
    result->stdout_data = stdout_.TakeCapture();
    result->stderr_data = stderr_.TakeCapture();
    if (status_lost_) {
      result->exit_code = -1;
    } else if (WIFSIGNALED(wait_status_)) {
      result->term_signal = WTERMSIG(wait_status_);
    } else {
      result->exit_code = WEXITSTATUS(wait_status_);
    }
    return absl::OkStatus();
  }

 private:
  enum class KillStage { kNone, kTermSent, kKillSent };

  void Reap(bool block = false) {
    if (reaped_) return;
    int status = 0;
    const pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (r < 0 && errno == ECHILD) {
      // Someone else reaped it (SIGCHLD set to SIG_IGN does that): the exit
      // status is lost, which the result reports as exit code -1.
      status_lost_ = true;
    } else if (r != pid_) {
      return;
    }
    reaped_ = true;
    wait_status_ = status;
    reap_time_ = absl::Now();
    // Nobody is left to read the rest of stdin (a grandchild might, but
    // waiting for that could take forever).
    stdin_write_.reset();
  }

  void KillGroup(int sig) { kill(-pid_, sig); }

  void EnforceLimits(absl::Time now, SubprocessResult* result) {
    if (reaped_) return;
    if (kill_stage_ == KillStage::kNone) {
      if (now >= deadline_) {
        result->timed_out = true;
      } else if (options_.cancel != nullptr && options_.cancel->load()) {
        result->canceled = true;
      } else {
        return;
      }
      KillGroup(SIGTERM);
      kill_stage_ = KillStage::kTermSent;
      term_time_ = now;
      stdin_write_.reset();
      return;
    }
    if (kill_stage_ == KillStage::kTermSent &&
        now >= term_time_ + options_.kill_grace) {
      KillGroup(SIGKILL);
      kill_stage_ = KillStage::kKillSent;
    }
  }

  absl::Time NextWake(absl::Time now) const {
    if (reaped_) return reap_time_ + kDrainWindow;
    absl::Time wake = absl::InfiniteFuture();
    if (kill_stage_ == KillStage::kNone) {
      wake = deadline_;
      if (options_.cancel != nullptr) {
        wake = std::min(wake, now + kCancelPollInterval);
      }
    } else if (kill_stage_ == KillStage::kTermSent) {
      wake = term_time_ + options_.kill_grace;
    }
    if (!pidfd_.valid()) {
      // No exit notification: while a pipe is open its EOF usually marks
      // the exit; otherwise check often.
      const bool pipes_open = stdout_read_.valid() || stderr_read_.valid();
      wake = std::min(
          wake, now + (pipes_open ? kCancelPollInterval : kReapPollInterval));
    }
    return wake;
  }

  void WriteStdin(ScopedSigpipeBlock* sigpipe_block) {
    const std::string& data = *options_.stdin_data;
    while (stdin_offset_ < data.size()) {
      const ssize_t n = write(stdin_write_.get(), data.data() + stdin_offset_,
                              data.size() - stdin_offset_);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        // EPIPE: the program stopped reading; not an error of ours.
        if (errno == EPIPE) sigpipe_block->NoteEpipe();
        break;
      }
      stdin_offset_ += static_cast<size_t>(n);
    }
    stdin_write_.reset();
  }

  static void ReadInto(UniqueFd* fd, StreamCollector* collector,
                       std::vector<char>* buffer) {
    for (;;) {
      const ssize_t n = read(fd->get(), buffer->data(), buffer->size());
      if (n > 0) {
        collector->Append(absl::string_view(buffer->data(), n));
        // One chunk per wakeup keeps stdout and stderr fairly interleaved.
        return;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      fd->reset();  // EOF or error.
      return;
    }
  }

  const SubprocessOptions& options_;
  const pid_t pid_;
  UniqueFd pidfd_;
  UniqueFd stdin_write_;
  size_t stdin_offset_ = 0;
  UniqueFd stdout_read_;
  UniqueFd stderr_read_;
  const absl::Time deadline_;
  StreamCollector stdout_;
  StreamCollector stderr_;
  bool reaped_ = false;
  int wait_status_ = 0;
  bool status_lost_ = false;
  absl::Time reap_time_;
  KillStage kill_stage_ = KillStage::kNone;
  absl::Time term_time_;
};

// The last kTailLines lines (at most kTailBytes) of `text`.
std::string OutputTail(absl::string_view text) {
  text = absl::StripTrailingAsciiWhitespace(text);
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() > static_cast<size_t>(kTailLines)) {
    lines.erase(lines.begin(), lines.end() - kTailLines);
  }
  std::string tail = absl::StrJoin(lines, "\n");
  if (tail.size() <= kTailBytes) return tail;
  size_t cut = tail.size() - kTailBytes;
  // Do not start in the middle of a UTF-8 sequence.
  while (cut < tail.size() &&
         (static_cast<unsigned char>(tail[cut]) & 0xc0) == 0x80) {
    ++cut;
  }
  return absl::StrCat("...", absl::string_view(tail).substr(cut));
}

}  // namespace

absl::Status SubprocessResult::CheckSuccess(absl::string_view what) const {
  if (ok()) return absl::OkStatus();
  std::string message(what);
  if (timed_out) {
    absl::StrAppend(
        &message, ": timed out after ",
        absl::FormatDuration(absl::Trunc(elapsed, absl::Milliseconds(1))));
  } else if (canceled) {
    absl::StrAppend(
        &message, ": canceled after ",
        absl::FormatDuration(absl::Trunc(elapsed, absl::Milliseconds(1))));
  } else if (term_signal != 0) {
    absl::StrAppend(&message, ": killed by signal ", term_signal);
    if (const char* name = sigabbrev_np(term_signal); name != nullptr) {
      absl::StrAppend(&message, " (SIG", name, ")");
    }
  } else {
    absl::StrAppend(&message, ": exited with code ", exit_code);
  }
  const bool use_stderr = !absl::StripAsciiWhitespace(stderr_data).empty();
  const std::string tail = OutputTail(use_stderr ? stderr_data : stdout_data);
  if (!tail.empty()) {
    absl::StrAppend(&message, "; ", use_stderr ? "stderr" : "stdout", ": ",
                    tail);
  }
  // Tools echo URLs and arguments that may carry credentials.
  message = Logger::Global().Redact(message);
  if (timed_out) return absl::DeadlineExceededError(message);
  if (canceled) return absl::CancelledError(message);
  return absl::UnknownError(message);
}

absl::StatusOr<SubprocessResult> RunSubprocess(
    const SubprocessOptions& options) {
  if (options.argv.empty()) {
    return absl::InvalidArgumentError("subprocess: empty argv");
  }
  const absl::Time start = absl::Now();
  SubprocessResult result;
  if (options.cancel != nullptr && options.cancel->load()) {
    // Canceled before it started: nothing to run or kill.
    result.canceled = true;
    return result;
  }
  SHAPIN_ASSIGN_OR_RETURN(const ExecPlan plan, BuildExecPlan(options));

  UniqueFd stdin_read, stdin_write;
  if (options.stdin_data.has_value()) {
    SHAPIN_RETURN_IF_ERROR(MakePipe(&stdin_read, &stdin_write));
    SHAPIN_RETURN_IF_ERROR(SetNonBlocking(stdin_write.get()));
  } else {
    stdin_read.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!stdin_read.valid()) {
      return absl::InternalError(
          absl::StrCat("subprocess: open /dev/null: ", ErrnoText(errno)));
    }
    SHAPIN_RETURN_IF_ERROR(MoveAboveStdio(&stdin_read));
  }
  UniqueFd stdout_read, stdout_write, stderr_read, stderr_write;
  UniqueFd report_read, report_write;
  SHAPIN_RETURN_IF_ERROR(MakePipe(&stdout_read, &stdout_write));
  SHAPIN_RETURN_IF_ERROR(MakePipe(&stderr_read, &stderr_write));
  SHAPIN_RETURN_IF_ERROR(MakePipe(&report_read, &report_write));
  SHAPIN_RETURN_IF_ERROR(SetNonBlocking(stdout_read.get()));
  SHAPIN_RETURN_IF_ERROR(SetNonBlocking(stderr_read.get()));

  const ChildFds child_fds{stdin_read.get(), stdout_write.get(),
                           stderr_write.get(), -1};
  SHAPIN_ASSIGN_OR_RETURN(
      const pid_t pid, Spawn(options, plan, child_fds, std::move(report_read),
                             std::move(report_write)));
  // Only the child may hold these now; otherwise EOF would never come.
  stdin_read.reset();
  stdout_write.reset();
  stderr_write.reset();

  Supervisor supervisor(options, pid, std::move(stdin_write),
                        std::move(stdout_read), std::move(stderr_read), start);
  SHAPIN_RETURN_IF_ERROR(supervisor.Run(&result));
  result.elapsed = absl::Now() - start;
  return result;
}

}  // namespace shapin
