// Subprocess runner: the only way shapin starts another program.
//
// argv only, never a shell; the environment is passed by allow-list; a
// deadline (absl::Duration) and a cancel flag kill the child's whole process
// group, so a builder's own children die with it. stdout and stderr are
// captured (bounded, keeping the tail) and optionally streamed line by line.
//
//   SubprocessOptions opts;
//   opts.argv = {"git", "-C", dir, "rev-parse", "HEAD"};
//   opts.timeout = absl::Seconds(30);
//   SHAPIN_ASSIGN_OR_RETURN(SubprocessResult r, RunSubprocess(opts));
//   SHAPIN_RETURN_IF_ERROR(r.CheckSuccess("git rev-parse"));
#ifndef SHAPIN_COMMON_SUBPROCESS_H_
#define SHAPIN_COMMON_SUBPROCESS_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shapin {

enum class OutputStream { kStdout, kStderr };

struct SubprocessOptions {
  // argv[0] is looked up on PATH when it has no '/'.
  std::vector<std::string> argv;
  // Empty: inherit the current directory.
  std::string working_dir;
  // Names of variables copied from this process's environment when set
  // (PATH is always copied unless overridden in `env`).
  std::vector<std::string> env_allow;
  // Variables set explicitly; they win over env_allow.
  std::vector<std::pair<std::string, std::string>> env;
  // Written to the child's stdin, which is then closed. Unset: /dev/null.
  std::optional<std::string> stdin_data;
  // After this the process group gets SIGTERM, then SIGKILL after
  // `kill_grace`.
  absl::Duration timeout = absl::InfiniteDuration();
  absl::Duration kill_grace = absl::Seconds(5);
  // Polled about every 100 ms; when it becomes true the group is killed as
  // on timeout.
  const std::atomic<bool>* cancel = nullptr;
  // Called for every complete line (without '\n') and for a final partial
  // line, from the calling thread.
  std::function<void(OutputStream, absl::string_view line)> on_line;
  // Each stream keeps at most this many bytes: the last ones.
  size_t max_capture_bytes = 1 << 20;
};

struct SubprocessResult {
  int exit_code = -1;      // valid when term_signal == 0
  int term_signal = 0;     // signal that ended the process, 0 if it exited
  bool timed_out = false;
  bool canceled = false;
  std::string stdout_data;  // tail, at most max_capture_bytes
  std::string stderr_data;  // tail, at most max_capture_bytes
  absl::Duration elapsed;

  bool ok() const {
    return term_signal == 0 && exit_code == 0 && !timed_out && !canceled;
  }
  // OK when ok(); otherwise an error naming `what`, how it ended (exit code,
  // signal, timeout → DEADLINE_EXCEEDED, cancel → CANCELLED, else UNKNOWN)
  // and the last lines of stderr (or stdout when stderr is empty).
  absl::Status CheckSuccess(absl::string_view what) const;
};

// Runs the process to completion. Errors only when it could not be started:
// NOT_FOUND when the executable does not exist, INVALID_ARGUMENT for an empty
// argv, INTERNAL for pipe/fork failures. A non-zero exit is a result, not an
// error.
absl::StatusOr<SubprocessResult> RunSubprocess(const SubprocessOptions& options);

}  // namespace shapin

#endif  // SHAPIN_COMMON_SUBPROCESS_H_
