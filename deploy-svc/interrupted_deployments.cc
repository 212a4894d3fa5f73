#include "deploy-svc/interrupted_deployments.h"

#include "common/log.h"

namespace shapin::deploy {

absl::StatusOr<int> FailInterruptedDeployments(
    DeploymentStore& store, const std::vector<std::string>& environments) {
  int failed = 0;
  for (const std::string& environment : environments) {
    // Never waits: a held lock means a live deploy there.
    absl::Status locked = store.WithEnvironmentLock(environment, {}, [&] {
      absl::StatusOr<int> n =
          store.FailAbandoned(environment, kInterruptedDeploymentReason);
      if (!n.ok()) return n.status();
      if (*n > 0) {
        LogWarning("deployments_interrupted",
                   {{"environment", environment}, {"count", *n}});
      }
      failed += *n;
      return absl::OkStatus();
    });
    // ABORTED: a live process holds the lock and is deploying there.
    if (!locked.ok() && !absl::IsAborted(locked)) return locked;
  }
  return failed;
}

}  // namespace shapin::deploy
