// DeployPipeline: Deploy and Rollback, from SHA to a verified rollout.
//
//   validate → environment lock (queued) → hold check → resolve in the
//   canonical repository (HEAD; MISSING_TAG / POLICY_VIOLATION) → digest
//   guard → signature (soft) → render SDL pinned to repository:sha@sha256:…
//   → (dry_run stops here) → apply through the environment's target → poll
//   the rollout → health and version checks → SUCCEEDED
//
// Every attempt past validation is recorded, failures included, with the
// error code. One deployment at a time per environment (a PostgreSQL
// advisory lock): concurrent Deploy/Rollback calls to one environment are
// queued and run one after another — in arrival order within one deploy-svc
// process — each waiting up to `lock_wait` (deploy.lock_wait), never past
// its call's deadline, and not after its caller went away. A caller that
// gives up gets ABORTED naming the running deployment and how long it
// waited; nothing is recorded for it. Waiting is measured apart from the
// deploy (shapin_deploy_waiting, shapin_deploy_lock_wait_seconds). Dry runs
// take no lock, so they neither wait nor block.
// Rollback redeploys a SHA from the rollback catalog — never building — and
// holds the environment so the next automatic Deploy cannot undo it.
//
//   DeployArgs args(sha);
//   args.environment = "production";
//   args.call = {.deadline = rpc_deadline, .cancelled = [&] { return gone; }};
//   absl::StatusOr<DeploymentRecord> d = pipeline.Deploy(args);
#ifndef SHAPIN_DEPLOY_SVC_DEPLOY_PIPELINE_H_
#define SHAPIN_DEPLOY_SVC_DEPLOY_PIPELINE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/bounded_cache.h"
#include "common/config.h"
#include "deploy-svc/deploy_metrics.h"
#include "deploy-svc/deploy_policy.h"
#include "deploy-svc/deploy_target.h"
#include "deploy-svc/deployment_store.h"
#include "deploy-svc/http_probe.h"
#include "deploy-svc/image_resolver.h"
#include "deploy-svc/signature_verifier.h"

namespace shapin::deploy {

// One configured environment, ready to deploy to.
struct Environment {
  EnvironmentConfig config = {};
  std::string template_yaml = "";
  DeployTarget* target = nullptr;  // not owned
};

struct DeployPipelineOptions {
  std::string canonical_repository;
  SignatureMode signature_mode = SignatureMode::kSoft;
  // Distinct SHAs behind shapin_signed_deployments_ratio.
  int coverage_window = 20;
  // Between rollout observations.
  absl::Duration poll_interval = absl::Seconds(2);
  // Injectable for tests; default absl::SleepFor.
  std::function<void(absl::Duration)> sleep = nullptr;
  // How long a Deploy or Rollback waits for its environment's lock
  // (deploy.lock_wait); zero = ABORTED at once when another one runs.
  absl::Duration lock_wait = absl::Minutes(10);
};

// The caller's own limits, handed down from the gRPC edge as plain values.
struct CallLimits {
  // Waiting for the environment lock ends shortly before this.
  absl::Time deadline = absl::InfiniteFuture();
  // True once the caller has gone away (checked while waiting). May be null.
  std::function<bool()> cancelled = nullptr;
};

struct DeployArgs {
  explicit DeployArgs(GitSha sha) : image_sha(std::move(sha)) {}
  std::string environment = "";
  GitSha image_sha;
  std::string requested_by = "";
  bool dry_run = false;
  bool override_hold = false;
  bool force = false;
  CallLimits call = {};
};

struct ResolvedImageInfo {
  explicit ResolvedImageInfo(Digest d) : digest(std::move(d)) {}
  std::string repository;
  Digest digest;
  std::string image_ref;
  std::optional<Digest> recorded_digest;
  SignatureVerdict signature;
};

class DeployPipeline {
 public:
  // All references must outlive the pipeline.
  DeployPipeline(DeploymentStore& store, ImageResolver& resolver,
                 SignatureVerifier& verifier, HttpProbe& probe,
                 DeployMetrics& metrics,
                 std::map<std::string, Environment> environments,
                 DeployPipelineOptions options);

  // The resulting deployment, or the error (its FAILED record is kept;
  // the message names the deployment id). Deploying the SHA that is
  // already current is a successful no-op returning the current deployment,
  // unless `force`.
  absl::StatusOr<DeploymentRecord> Deploy(const DeployArgs& args);
  // `image_sha` unset = the previous successful deployment.
  absl::StatusOr<DeploymentRecord> Rollback(
      const std::string& environment, const std::optional<GitSha>& image_sha,
      const std::string& reason, const std::string& requested_by,
      const CallLimits& call = {});
  // Preflight without side effects.
  absl::StatusOr<ResolvedImageInfo> Resolve(const GitSha& sha);
  absl::StatusOr<HoldRecord> ReleaseHold(const std::string& environment,
                                         const std::string& requested_by);
  // INVALID_ARGUMENT naming the configured environments when unknown.
  absl::StatusOr<const Environment*> FindEnvironment(
      const std::string& environment) const;

  // Recomputes shapin_signed_deployments_ratio{environment} from the
  // store (after each successful deployment, and at start-up). Best effort:
  // a store error is logged and the gauge keeps its value.
  void RefreshSignatureCoverage(const std::string& environment);

  const std::string& canonical_repository() const {
    return options_.canonical_repository;
  }

 private:
  struct Attempt;
  // Runs `fn` holding `environment`'s lock, waiting for it as options and
  // `call` allow; feeds the waiting gauge and lock-wait histogram.
  absl::Status WithLock(const std::string& environment, const CallLimits& call,
                        absl::FunctionRef<absl::Status()> fn);
  absl::StatusOr<DeploymentRecord> RunLocked(const DeployArgs& args,
                                             DeploymentKind kind,
                                             const std::string& reason,
                                             const Environment& env);
  absl::Status Execute(Attempt& attempt);
  absl::Status AwaitRollout(Attempt& attempt, const ApplyResult& applied,
                            bool expect_change);
  // The digest to deploy: the tag resolved in the registry now, checked
  // against what build-svc recorded (`facts`).
  // True when the canonical SHA tag still names `running` (the digest the
  // environment runs); false on any difference or error.
  bool TagStillNames(const GitSha& sha, const std::optional<Digest>& running);
  absl::StatusOr<Digest> CheckImage(const GitSha& sha, DeploymentKind kind,
                                    std::optional<int64_t> deployment_id,
                                    const ImageFacts& facts);
  // The environment's SDL pinned to `image`, remembered (see rendered_).
  absl::StatusOr<std::string> RenderManifest(const std::string& environment,
                                             const Environment& env,
                                             const ImageRef& image);
  void Sleep(absl::Duration d) const;

  DeploymentStore& store_;
  ImageResolver& resolver_;
  SignatureVerifier& verifier_;
  HttpProbe& probe_;
  DeployMetrics& metrics_;
  const std::map<std::string, Environment> environments_;
  const DeployPipelineOptions options_;
  // Rendered SDL by environment and pinned image: it depends only on the
  // environment's template and service (fixed for the pipeline's life) and
  // on repository:sha@digest, which is immutable, so a repeat (every dry
  // run and deploy of one SHA) skips yaml-cpp's parse and emit, ~1/4 of a
  // dry run's CPU in deploy-svc (docs/performance.md). The digest itself is
  // resolved from the registry on every call before this is consulted.
  static constexpr size_t kMaxRenderedManifests = 256;
  BoundedCache<std::string> rendered_{kMaxRenderedManifests};
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_DEPLOY_PIPELINE_H_
