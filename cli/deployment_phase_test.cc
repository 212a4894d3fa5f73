#include "cli/deployment_phase.h"

#include "gtest/gtest.h"

namespace shapin::cli {
namespace {

namespace v1 = ::shapin::v1;

TEST(DeploymentPhaseTest, FollowsTheFieldsEachStepStores) {
  v1::Deployment d;
  d.set_state(v1::DEPLOYMENT_STATE_PENDING);
  EXPECT_EQ(DeploymentPhase(d), "pending");
  d.set_state(v1::DEPLOYMENT_STATE_RUNNING);
  EXPECT_EQ(DeploymentPhase(d), "resolving");
  d.set_digest("sha256:aa");
  EXPECT_EQ(DeploymentPhase(d), "resolving");
  d.set_rendered_manifest("version: \"2.0\"");
  EXPECT_EQ(DeploymentPhase(d), "applying");
  d.set_target_ref("container 1");
  EXPECT_EQ(DeploymentPhase(d), "checking_rollout");
  d.set_state(v1::DEPLOYMENT_STATE_SUCCEEDED);
  EXPECT_EQ(DeploymentPhase(d), "succeeded");
  d.set_state(v1::DEPLOYMENT_STATE_FAILED);
  EXPECT_EQ(DeploymentPhase(d), "failed");
}

}  // namespace
}  // namespace shapin::cli
