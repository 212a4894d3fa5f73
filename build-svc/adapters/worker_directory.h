// WorkerDirectory: the part of build.work_dir that belongs to one build-svc
// process, and the clean-up of what dead processes left there.
//
// Each process works in <work_dir>/<worker id>/ and holds an exclusive
// flock on its `.owner` file for as long as it lives. The kernel drops the
// lock when the process dies, even by SIGKILL, so a directory whose lock can
// be taken belongs to a dead worker: its builder processes (buildah and the
// RUN steps it chroots into that directory) are orphans, and its workspaces
// and buildah storage are garbage. Several build-svc processes may share a
// work_dir; none ever touches a live one's directory.
//
//   SHAPIN_ASSIGN_OR_RETURN(WorkerDirectory mine,
//                           WorkerDirectory::Claim(work_dir, worker_id));
//   for (const AbandonedWorker& dead : FindAbandonedWorkers(work_dir)) {
//     (void)RemoveAbandonedWorker(dead);  // kills its processes, deletes
//   }
//   pipeline_options.work_dir = mine.path();
#ifndef SHAPIN_BUILD_SVC_ADAPTERS_WORKER_DIRECTORY_H_
#define SHAPIN_BUILD_SVC_ADAPTERS_WORKER_DIRECTORY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shapin::build {

class WorkerDirectory {
 public:
  // Creates <work_dir>/<worker_id> and locks it. FAILED_PRECONDITION when
  // another live process holds it; INTERNAL for file-system errors.
  static absl::StatusOr<WorkerDirectory> Claim(const std::string& work_dir,
                                               const std::string& worker_id);
  WorkerDirectory(WorkerDirectory&& other) noexcept;
  WorkerDirectory& operator=(WorkerDirectory&&) = delete;
  // Unlocks and removes the directory (whatever builds left in it).
  ~WorkerDirectory();

  const std::string& path() const { return path_; }

 private:
  WorkerDirectory(std::string path, int lock_fd)
      : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::string path_;
  int lock_fd_ = -1;
};

struct AbandonedWorker {
  std::string worker_id = "";  // the directory's name
  std::string path = "";
};

// Worker directories under `work_dir` whose owner is gone. Never fails: an
// unreadable work_dir has none.
std::vector<AbandonedWorker> FindAbandonedWorkers(const std::string& work_dir);

// SIGKILLs every process whose command line, working directory or root is
// inside the directory (the orphaned builder and its children), then
// removes it. Never deletes through a mount point: anything still mounted
// there is detached first, and the directory is left in place (error) when
// that fails. Returns how many processes were killed.
absl::StatusOr<int> RemoveAbandonedWorker(const AbandonedWorker& worker);

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_ADAPTERS_WORKER_DIRECTORY_H_
