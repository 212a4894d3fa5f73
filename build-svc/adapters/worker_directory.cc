#include "build-svc/adapters/worker_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "build-svc/adapters/mount_safe_removal.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace shapin::build {
namespace {

namespace fs = std::filesystem;

constexpr char kOwnerFile[] = ".owner";

bool IsInside(const std::string& path, const std::string& dir) {
  return path == dir || absl::StartsWith(path, absl::StrCat(dir, "/"));
}

std::string ReadLink(const fs::path& link) {
  std::error_code ec;
  fs::path target = fs::read_symlink(link, ec);
  return ec ? "" : target.string();
}

std::string ReadCommandLine(const fs::path& proc_dir) {
  std::ifstream in(proc_dir / "cmdline", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string args = text.str();
  for (char& c : args) {
    if (c == '\0') c = ' ';
  }
  return args;
}

// The process group of `pid` (field 5 of /proc/<pid>/stat), or 0.
pid_t ProcessGroupOf(const fs::path& proc_dir) {
  std::ifstream in(proc_dir / "stat");
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // "pid (comm) state ppid pgrp …"; comm may contain spaces and ')'.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::vector<std::string> fields =
      absl::StrSplit(stat.substr(paren + 1), ' ', absl::SkipEmpty());
  int pgrp = 0;
  if (fields.size() < 3 || !absl::SimpleAtoi(fields[2], &pgrp)) return 0;
  return pgrp;
}

// Processes using `dir`: run from it, chrooted into it, or naming it (the
// builder's --root=<dir>/… flags), and the members of the process groups
// such builders lead (shapin starts every tool as a group leader; its
// children may live in a mount namespace where paths differ).
std::vector<pid_t> ProcessesUsing(const std::string& dir) {
  std::vector<pid_t> found;
  std::set<pid_t> builder_groups;
  std::vector<std::pair<pid_t, pid_t>> all;  // pid, process group
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc", ec)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    if (pid == getpid()) continue;
    const pid_t group = ProcessGroupOf(entry.path());
    all.emplace_back(pid, group);
    const std::string root = ReadLink(entry.path() / "root");
    const std::string cwd = ReadLink(entry.path() / "cwd");
    const bool names_dir =
        absl::StrContains(ReadCommandLine(entry.path()), dir);
    if (names_dir && group == pid) builder_groups.insert(group);
    if ((!root.empty() && root != "/" && IsInside(root, dir)) ||
        (!cwd.empty() && IsInside(cwd, dir)) || names_dir) {
      found.push_back(pid);
    }
  }
  for (const auto& [pid, group] : all) {
    if (builder_groups.count(group) > 0 &&
        std::find(found.begin(), found.end(), pid) == found.end()) {
      found.push_back(pid);
    }
  }
  return found;
}

}  // namespace

absl::StatusOr<WorkerDirectory> WorkerDirectory::Claim(
    const std::string& work_dir, const std::string& worker_id) {
  std::error_code ec;
  const fs::path dir = fs::path(work_dir) / worker_id;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  }
  // Canonical, so it matches what /proc and mountinfo report.
  const std::string path = fs::canonical(dir, ec).string();
  if (ec) {
    return absl::InternalError(absl::StrCat(dir.string(), ": ", ec.message()));
  }
  // Locked under a temporary name and renamed: a process sweeping at the
  // same moment never sees an unlocked `.owner` (the lock follows the file).
  const std::string owner = absl::StrCat(path, "/", kOwnerFile);
  const std::string locking = absl::StrCat(owner, ".new");
  const int fd = open(locking.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", locking, ": ", std::strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0 ||
      rename(locking.c_str(), owner.c_str()) != 0) {
    const int error = errno;
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot lock work directory ", path, ": ", std::strerror(error)));
  }
  return WorkerDirectory(path, fd);
}

WorkerDirectory::WorkerDirectory(WorkerDirectory&& other) noexcept
    : path_(std::move(other.path_)), lock_fd_(other.lock_fd_) {
  other.path_.clear();
  other.lock_fd_ = -1;
}

WorkerDirectory::~WorkerDirectory() {
  if (lock_fd_ < 0) return;
  // Builds remove their own directories; whatever is left is garbage. The
  // lock is kept while deleting so nobody else sweeps the same files.
  if (MountsUnder(path_).empty()) {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  close(lock_fd_);
}

std::vector<AbandonedWorker> FindAbandonedWorkers(const std::string& work_dir) {
  std::vector<AbandonedWorker> abandoned;
  std::error_code ec;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(work_dir, ec)) {
    if (!entry.is_directory(ec)) continue;
    const std::string owner = (entry.path() / kOwnerFile).string();
    const int fd = open(owner.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // not a worker directory
    const bool free = flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd);  // also drops the lock just taken
    if (!free) continue;
    const std::string path = fs::canonical(entry.path(), ec).string();
    if (ec) continue;
    abandoned.push_back(
        {.worker_id = entry.path().filename().string(), .path = path});
  }
  return abandoned;
}

absl::StatusOr<int> RemoveAbandonedWorker(const AbandonedWorker& worker) {
  int killed = 0;
  // A process may fork while we look; killed ones cannot, so a few rounds
  // converge.
  for (int round = 0; round < 5; ++round) {
    std::vector<pid_t> pids = ProcessesUsing(worker.path);
    if (pids.empty()) break;
    for (pid_t pid : pids) {
      if (kill(pid, SIGKILL) == 0) ++killed;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  SHAPIN_RETURN_IF_ERROR(RemoveTreeNotThroughMounts(worker.path));
  return killed;
}

}  // namespace shapin::build
