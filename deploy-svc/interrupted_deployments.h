// Start-up recovery of deployments a dead deploy-svc left unfinished.
//
// A deploy-svc killed mid-deploy leaves its deployment PENDING or RUNNING;
// the environment lock (a PostgreSQL session advisory lock) died with its
// connection. At start-up each configured environment is taken under its
// lock: anything PENDING or RUNNING there cannot belong to a live process
// and is marked FAILED with kInterruptedDeploymentReason, so history says
// what happened and the environment is free. An environment whose lock is
// held is being deployed by another live process and is left alone (the
// next deploy there sweeps it, as every deploy does).
//
//   absl::StatusOr<int> failed =
//       FailInterruptedDeployments(store, {"production", "staging"});
#ifndef SHAPIN_DEPLOY_SVC_INTERRUPTED_DEPLOYMENTS_H_
#define SHAPIN_DEPLOY_SVC_INTERRUPTED_DEPLOYMENTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "deploy-svc/deployment_store.h"

namespace shapin::deploy {

// error_message of a deployment whose deploy-svc stopped while it ran (its
// error_code is TARGET_FAILURE: the target may have been changed).
inline constexpr char kInterruptedDeploymentReason[] =
    "TARGET_FAILURE deploy-svc stopped while this deployment was running";

// How many deployments were marked FAILED. UNAVAILABLE when the database
// cannot be reached; a busy environment is skipped, not an error.
absl::StatusOr<int> FailInterruptedDeployments(
    DeploymentStore& store, const std::vector<std::string>& environments);

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_INTERRUPTED_DEPLOYMENTS_H_
