// DeployTarget: where a rendered deployment is applied (Akash through the
// Console API or the provider-services CLI, or a local podman container),
// and how the orchestrator learns that the new revision is running.
//
// The orchestrator owns time: it calls Apply once, then polls CheckRollout
// with its own (injectable) clock and deadline until `done` or timeout
// (→ ROLLOUT_FAILURE). Targets never sleep except inside a bounded retry
// backoff or a bounded wait that is part of applying (bids, health), and
// those waits go through an injected clock so tests are fast.
//
//   SHAPIN_ASSIGN_OR_RETURN(ApplyResult applied, target.Apply(request));
//   RolloutQuery query{.environment = env, .image = pinned,
//                      .target_ref = applied.target_ref,
//                      .previous_revision = applied.previous_revision,
//                      .settings = request.settings};
//   while (clock.Now() < deadline) {
//     SHAPIN_ASSIGN_OR_RETURN(RolloutStatus s, target.CheckRollout(query));
//     if (s.done) break;
//     clock.Sleep(poll_interval);
//   }
//
// Errors: TARGET_FAILURE (ShapinError, ABORTED) when the target refused or
// failed the apply (bad request, auth, a failed transaction, an unhealthy
// container); UNAVAILABLE for transport errors that outlived the retries
// (the orchestrator may try again later); INVALID_ARGUMENT for malformed
// settings; FAILED_PRECONDITION when the environment cannot be applied as
// configured (no dseq and creation not allowed).
#ifndef SHAPIN_DEPLOY_SVC_DEPLOY_TARGET_H_
#define SHAPIN_DEPLOY_SVC_DEPLOY_TARGET_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/git_sha.h"
#include "common/image_ref.h"

namespace shapin::deploy {

// One environment's settings for its target, from configuration; keys are
// documented by each target ("dseq", "provider", "host_port", …). Values
// are strings; a target parses and validates them (INVALID_ARGUMENT naming
// the key).
using TargetSettings = std::map<std::string, std::string>;

struct ApplyRequest {
  std::string environment = {};
  // The rendered manifest (SDL for the Akash targets; the local target
  // does not need it and ignores it).
  std::string manifest = {};
  // repository:<sha>@sha256:… — always pinned by digest.
  ImageRef image;
  GitSha git_sha;
  // What the last successful Apply to this environment returned as
  // target_ref (a dseq, a container id); empty when there was none. The
  // Akash targets use it as the dseq when settings name none.
  std::string previous_target_ref = {};
  TargetSettings settings = {};
};

struct ApplyResult {
  // The target's own handle: the dseq (Akash), the container id (local).
  std::string target_ref = {};
  // Where the service answers: "http://127.0.0.1:41234", lease URIs.
  std::vector<std::string> endpoints = {};
  // The target's revision marker before and after the apply (Akash: the
  // deployment hash; local: the image digest). `previous_revision` is empty
  // for a newly created deployment. Pass both on to CheckRollout.
  std::string previous_revision = {};
  std::string revision = {};
};

struct RolloutQuery {
  std::string environment = {};
  ImageRef image;
  std::string target_ref = {};
  // ApplyResult::previous_revision. When `expect_revision_change` is true
  // and this is non-empty, the rollout is done only once the target's
  // revision differs from it.
  std::string previous_revision = {};
  // False when re-applying the manifest that is already deployed (a forced
  // redeploy of the current SHA): then an unchanged revision is expected
  // and only readiness is checked.
  bool expect_revision_change = true;
  TargetSettings settings = {};
};

struct RolloutStatus {
  // The new revision runs and is ready.
  bool done = false;
  // The revision the target reports now.
  std::string revision = {};
  // Why not done yet, or what is running ("hash unchanged (abc…)",
  // "api: 0/1 replicas available"); for logs and the final error.
  std::string detail = {};
  std::vector<std::string> endpoints = {};
};

// Implementations are thread-safe: the orchestrator serialises deploys per
// environment, but different environments may apply concurrently.
class DeployTarget {
 public:
  virtual ~DeployTarget() = default;

  // The configuration name: "local", "akash-console", "akash-cli".
  virtual absl::string_view Name() const = 0;

  // Checks an environment's settings at startup (unknown keys, bad numbers)
  // so that configuration errors surface before the first deploy.
  virtual absl::Status ValidateSettings(
      const TargetSettings& settings) const = 0;

  // Applies the deployment; returns once the target has accepted it (for
  // the local target: once the new container is healthy and has replaced
  // the previous one). On error nothing that was running before is
  // stopped.
  virtual absl::StatusOr<ApplyResult> Apply(const ApplyRequest& request) = 0;

  // One observation of the rollout; never waits for it. `done == false` is
  // not an error. Errors are for failures to observe (UNAVAILABLE) or a
  // target that cannot converge anymore (TARGET_FAILURE, e.g. the
  // deployment was closed or the container is gone).
  virtual absl::StatusOr<RolloutStatus> CheckRollout(
      const RolloutQuery& query) = 0;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_DEPLOY_TARGET_H_
