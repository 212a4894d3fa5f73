#include "cli/deployment_phase.h"

namespace shapin::cli {

std::string DeploymentPhase(const shapin::v1::Deployment& d) {
  switch (d.state()) {
    case shapin::v1::DEPLOYMENT_STATE_SUCCEEDED:
      return "succeeded";
    case shapin::v1::DEPLOYMENT_STATE_FAILED:
      return "failed";
    case shapin::v1::DEPLOYMENT_STATE_RUNNING:
      if (d.digest().empty() || d.rendered_manifest().empty()) {
        return "resolving";
      }
      if (d.target_ref().empty()) return "applying";
      return "checking_rollout";
    default:
      return "pending";
  }
}

}  // namespace shapin::cli
