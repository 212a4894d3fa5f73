#include "tests/faults/service_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace shapin::faults {

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    ServiceProcessOptions options) {
  std::unique_ptr<ServiceProcess> p(new ServiceProcess(std::move(options)));
  if (absl::Status s = p->Spawn(); !s.ok()) return s;
  p->channel_ = grpc::CreateChannel(p->options_.grpc_address,
                                    grpc::InsecureChannelCredentials());
  const absl::Time deadline = absl::Now() + p->options_.ready_timeout;
  while (absl::Now() < deadline) {
    if (p->Exited()) {
      return absl::UnavailableError(absl::StrCat(
          p->options_.binary, " exited during start-up:\n", p->LogTail()));
    }
    if (p->channel_->WaitForConnected(std::chrono::system_clock::now() +
                                      std::chrono::milliseconds(200))) {
      return p;
    }
  }
  return absl::UnavailableError(absl::StrCat(
      p->options_.binary, " not serving on ", p->options_.grpc_address,
      " after ", absl::FormatDuration(p->options_.ready_timeout), ":\n",
      p->LogTail()));
}

absl::Status ServiceProcess::Spawn() {
  // Everything prepared before fork(): the child only calls async-signal-
  // safe functions.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    // SHAPIN_* would override the generated configuration.
    if (!absl::StartsWith(*e, "SHAPIN_")) env_strings.push_back(*e);
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = {options_.binary, "--config",
                                   options_.config_path};
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int log_fd = open(options_.log_path.c_str(),
                          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("open ", options_.log_path, ": ", std::strerror(errno)));
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    close(null_fd);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);
  close(log_fd);
  close(null_fd);
  pid_ = pid;
  return absl::OkStatus();
}

bool ServiceProcess::Exited() {
  if (reaped_) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) reaped_ = true;
  return reaped_;
}

void ServiceProcess::Kill() {
  if (Exited()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  reaped_ = true;
}

void ServiceProcess::Stop(absl::Duration grace) {
  if (pid_ <= 0) return;
  kill(-pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + grace;
  while (!Exited() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  // Whatever is left of the group (the service, or orphans after Kill()).
  kill(-pid_, SIGKILL);
  if (!reaped_) {
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
  }
}

ServiceProcess::~ServiceProcess() { Stop(); }

std::string ServiceProcess::LogTail(int lines) const {
  std::ifstream in(options_.log_path);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  return absl::StrJoin(tail, "\n");
}

}  // namespace shapin::faults
