// The phase of a deployment as seen from its stored record, for the live
// view of `shapin deploy` / `shapin rollback`: deploy-svc stores the record
// after each step (RUNNING, then digest and rendered manifest, then the
// target's reference), so the filled-in fields tell how far it got.
//
//   DeploymentPhase(deployment)  // "resolving", "applying", …
#ifndef SHAPIN_CLI_DEPLOYMENT_PHASE_H_
#define SHAPIN_CLI_DEPLOYMENT_PHASE_H_

#include <string>

#include "shapin/v1/deploy.pb.h"

namespace shapin::cli {

// "pending"; while RUNNING: "resolving" (hold, tag → digest, signature,
// render), "applying" (manifest rendered, target not yet answered),
// "checking_rollout" (target applied); "succeeded" / "failed" at the end.
// The names follow DeploymentEvent.phase in deploy.proto.
std::string DeploymentPhase(const shapin::v1::Deployment& d);

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_DEPLOYMENT_PHASE_H_
