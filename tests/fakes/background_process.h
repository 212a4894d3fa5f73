// BackgroundProcess: a helper program (a fake server) running beside a
// test, for as long as the object lives.
//
// RunSubprocess blocks until the child exits, so fakes that must keep
// serving are started here with posix_spawn instead: argv only, stdout on a
// pipe (the fake announces its port as the first line), stderr inherited
// so that its complaints show up in the test log. The destructor sends
// SIGTERM, then SIGKILL after a grace period, and reaps the child.
//
//   SHAPIN_ASSIGN_OR_RETURN(
//       std::unique_ptr<BackgroundProcess> fake,
//       BackgroundProcess::Start({"node", "server.js", "--api-key", key}));
//   SHAPIN_ASSIGN_OR_RETURN(std::string port,
//                           fake->ReadLine(absl::Seconds(10)));
#ifndef SHAPIN_TESTS_FAKES_BACKGROUND_PROCESS_H_
#define SHAPIN_TESTS_FAKES_BACKGROUND_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shapin::testing {

class BackgroundProcess {
 public:
  // argv[0] is looked up on PATH. INTERNAL when the process cannot be
  // started.
  static absl::StatusOr<std::unique_ptr<BackgroundProcess>> Start(
      std::vector<std::string> argv);
  ~BackgroundProcess();

  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // The next line of the child's stdout, without '\n'. DEADLINE_EXCEEDED
  // when none arrives within `timeout`; UNAVAILABLE when stdout closed
  // (the child exited).
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);

  pid_t pid() const { return pid_; }

 private:
  BackgroundProcess(pid_t pid, int stdout_fd)
      : pid_(pid), stdout_fd_(stdout_fd) {}

  pid_t pid_;
  int stdout_fd_;
  std::string buffered_;
};

}  // namespace shapin::testing

#endif  // SHAPIN_TESTS_FAKES_BACKGROUND_PROCESS_H_
