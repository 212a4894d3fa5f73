#include "build-svc/build_recovery.h"

#include "build-svc/adapters/worker_directory.h"
#include "common/log.h"

namespace shapin::build {

DeadWorkerRecovery RecoverDeadWorkers(BuildStore& store,
                                      const std::string& work_dir,
                                      int max_attempts) {
  DeadWorkerRecovery r;
  for (const AbandonedWorker& dead : FindAbandonedWorkers(work_dir)) {
    ++r.workers;
    // Processes first: a live orphan could still push or write files.
    absl::StatusOr<int> killed = RemoveAbandonedWorker(dead);
    if (killed.ok()) {
      r.processes_killed += *killed;
    } else {
      LogWarning(
          "dead_worker_files_not_removed",
          {{"worker", dead.worker_id}, {"error", killed.status().message()}});
    }
    absl::StatusOr<int> released = store.EndLeasesOf(dead.worker_id);
    if (released.ok()) {
      r.builds_released += *released;
    } else {
      LogWarning(
          "dead_worker_leases_not_ended",
          {{"worker", dead.worker_id}, {"error", released.status().message()}});
    }
    LogWarning("dead_worker_recovered",
               {{"worker", dead.worker_id},
                {"processes_killed", killed.ok() ? *killed : 0},
                {"builds_released", released.ok() ? *released : 0}});
  }
  if (r.builds_released > 0) {
    absl::StatusOr<int> reaped = store.ReapExpired(max_attempts);
    if (reaped.ok()) {
      r.builds_reaped = *reaped;
    } else {
      LogWarning("dead_worker_builds_not_reaped",
                 {{"error", reaped.status().message()}});
    }
  }
  return r;
}

}  // namespace shapin::build
