// Start-up recovery of builds whose build-svc process died on this host.
//
// A build-svc killed mid-build (SIGKILL, OOM, power loss of a container)
// leaves three things behind: its builds RUNNING under a lease nobody
// renews, the builder processes it started (buildah and the RUN steps
// chrooted into its storage), and workspaces plus buildah storage under
// build.work_dir. Leases alone would requeue the builds once they run out;
// on this host we know for certain which workers are dead (their
// WorkerDirectory lock is free), so at start-up their processes are killed,
// their files removed and their builds requeued at once (or failed after
// the last attempt, with the reason, as ReapExpired does). Builds of dead
// workers on other hosts are still left to lease expiry.
//
//   SHAPIN_ASSIGN_OR_RETURN(WorkerDirectory mine, WorkerDirectory::Claim(…));
//   DeadWorkerRecovery r = RecoverDeadWorkers(store, work_dir, 3);
#ifndef SHAPIN_BUILD_SVC_BUILD_RECOVERY_H_
#define SHAPIN_BUILD_SVC_BUILD_RECOVERY_H_

#include <string>

#include "build-svc/build_store.h"

namespace shapin::build {

struct DeadWorkerRecovery {
  int workers = 0;           // dead worker directories found
  int processes_killed = 0;  // their orphaned builder processes
  int builds_released = 0;   // their RUNNING builds, leases ended
  int builds_reaped = 0;     // requeued or failed by ReapExpired
};

// Call after claiming this process's own WorkerDirectory (so it is not
// mistaken for a dead one). Best effort: every step that fails is logged
// and the rest still runs; lease expiry remains the fallback.
DeadWorkerRecovery RecoverDeadWorkers(BuildStore& store,
                                      const std::string& work_dir,
                                      int max_attempts);

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_RECOVERY_H_
