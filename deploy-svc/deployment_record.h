// The deploy-svc domain: one attempt to run an image SHA in an environment.
//
// Every attempt is recorded, failed ones included, so history answers "what
// ran where, when, and why it changed".
#ifndef SHAPIN_DEPLOY_SVC_DEPLOYMENT_RECORD_H_
#define SHAPIN_DEPLOY_SVC_DEPLOYMENT_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/git_sha.h"

namespace shapin::deploy {

enum class DeploymentKind { kDeploy, kRollback };
enum class DeploymentState { kPending, kRunning, kSucceeded, kFailed };

// Database spelling: "deploy" / "rollback"; "pending", "running", ….
absl::string_view DeploymentKindName(DeploymentKind kind);
std::optional<DeploymentKind> ParseDeploymentKind(absl::string_view name);
absl::string_view DeploymentStateName(DeploymentState state);
std::optional<DeploymentState> ParseDeploymentState(absl::string_view name);

struct DeploymentRecord {
  explicit DeploymentRecord(GitSha sha) : image_sha(std::move(sha)) {}

  int64_t deployment_id = 0;
  std::string environment;
  DeploymentKind kind = DeploymentKind::kDeploy;
  GitSha image_sha;
  std::optional<Digest> digest;
  std::string image_ref;
  std::string previous_sha;
  std::string previous_digest;
  DeploymentState state = DeploymentState::kPending;
  std::string error_code;
  std::string error_message;
  std::string signature_status;
  std::string signature_reason;
  std::string provenance_status;
  std::string target;
  std::string target_ref;
  std::vector<std::string> endpoints;
  std::string rendered_manifest;
  std::string rendered_tfvars;
  std::string requested_by;
  std::string reason;
  bool dry_run = false;
  absl::Time created_at;
  std::optional<absl::Time> started_at;
  std::optional<absl::Time> finished_at;
  std::optional<double> duration_seconds;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_DEPLOYMENT_RECORD_H_
