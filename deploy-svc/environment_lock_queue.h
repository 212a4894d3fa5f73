// EnvironmentLockQueue: waiting for an environment's cross-process lock,
// first come first served within this process.
//
// The lock itself (a PostgreSQL advisory lock) only offers "try". Run()
// queues the callers of this process per environment: only the caller at
// the head tries the lock, again after a jittered backoff (50 ms doubling to
// 500 ms) while another process holds it; the others sleep until their turn.
// So waiting holds no database connection, ten waiters do not all poll, and
// callers of one process run in arrival order (callers of different
// processes are not ordered among themselves). Waiting ends at
// `LockWait::max_wait`, shortly before `LockWait::deadline`, or when
// `LockWait::cancelled` says so.
//
//   EnvironmentLockQueue queue;
//   absl::Status s = queue.Run(
//       "production", {.max_wait = absl::Minutes(10)},
//       [&]() -> LockTry { /* try the lock; if taken, run the work */ },
//       [&] { return HolderOf("production"); });
#ifndef SHAPIN_DEPLOY_SVC_ENVIRONMENT_LOCK_QUEUE_H_
#define SHAPIN_DEPLOY_SVC_ENVIRONMENT_LOCK_QUEUE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "deploy-svc/deployment_store.h"

namespace shapin::deploy {

// One try at the cross-process lock.
struct LockTry {
  // The lock was taken and the work ran (and the lock was released).
  bool acquired = false;
  // The work's result when acquired; otherwise non-OK only when trying
  // failed (database unreachable), which ends the wait with this status.
  absl::Status status = absl::OkStatus();
};

// "deployment 7 (3f2a…) has been in progress for 42s", or "another
// deployment is in progress" when none is known.
std::string DescribeLockHolder(const LockHolder& holder);

class EnvironmentLockQueue {
 public:
  // Calls `try_lock` at this caller's turn until it acquires or the wait
  // ends; returns the acquiring try's status. When the wait ends without the
  // lock: ABORTED "environment X is busy: <holder>; waited <d>
  // (deploy.lock_wait)", or CANCELLED when `wait.cancelled` returned true.
  // `holder` (best effort) names the holder for that message and for
  // `wait.on_wait`.
  absl::Status Run(const std::string& environment, const LockWait& wait,
                   absl::FunctionRef<LockTry()> try_lock,
                   absl::FunctionRef<LockHolder()> holder);

 private:
  bool IsHead(const std::string& environment, uint64_t ticket)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  uint64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  // Tickets of the callers of each environment, in arrival order; the
  // front one is trying the lock or holding it.
  std::map<std::string, std::deque<uint64_t>> queues_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_ENVIRONMENT_LOCK_QUEUE_H_
