// DeploymentStore: deployment history per environment.
//
// Speaks domain types only; the PostgreSQL implementation lives in
// adapters/postgres_deployment_store.h. NOT_FOUND for a missing deployment or
// an environment with no successful deployment; UNAVAILABLE when the database
// cannot be reached.
#ifndef SHAPIN_DEPLOY_SVC_DEPLOYMENT_STORE_H_
#define SHAPIN_DEPLOY_SVC_DEPLOYMENT_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/pagination.h"
#include "deploy-svc/deployment_record.h"

namespace shapin::deploy {

struct NewDeployment {
  explicit NewDeployment(GitSha sha) : image_sha(std::move(sha)) {}
  std::string environment;
  DeploymentKind kind = DeploymentKind::kDeploy;
  GitSha image_sha;
  std::string target;
  std::string requested_by;
  std::string reason;
  bool dry_run = false;
};

// What build-svc recorded about a SHA's images.
struct ImageFacts {
  std::optional<Digest> canonical_digest;
  std::optional<absl::Time> commit_time;
  std::string signature_status;
  bool in_staging = false;
};

struct HoldRecord {
  std::string environment;
  bool held = false;
  int64_t deployment_id = 0;
  std::string held_by;
  absl::Time held_since;
  std::string released_by;
  std::optional<GitSha> held_sha;
};

// What a deployment's checks read when it starts running: its
// environment's hold and what build-svc recorded about its SHA.
struct RunningChecks {
  HoldRecord hold;
  ImageFacts image;
};

struct RollbackCandidate {
  explicit RollbackCandidate(GitSha sha, Digest d)
      : git_sha(std::move(sha)), digest(std::move(d)) {}
  GitSha git_sha;
  Digest digest;
  absl::Time built_at;
  std::optional<absl::Time> last_deployed_at;
  std::string signature_status;
};

// Signature coverage of what an environment ran recently.
struct SignatureCoverage {
  int verified = 0;  // SHAs whose signature_status was "verified"
  int total = 0;     // distinct SHAs looked at (at most the window)
};

// Who holds an environment's lock, for messages and logs.
struct LockHolder {
  int64_t deployment_id = 0;  // 0: no deployment recorded yet (or not known)
  std::string image_sha = "";
  absl::Duration running_for = absl::ZeroDuration();
};

// How a caller waits for an environment's lock (deploy.lock_wait).
struct LockWait {
  // Zero: fail at once when the lock is held.
  absl::Duration max_wait = absl::ZeroDuration();
  // The caller's own deadline (the RPC's): waiting ends shortly before it, so
  // the answer still reaches the caller.
  absl::Time deadline = absl::InfiniteFuture();
  // True once the caller has gone away; checked while waiting. May be null.
  std::function<bool()> cancelled = nullptr;
  // Called once, before the caller starts waiting, naming the holder. May be
  // null.
  std::function<void(const LockHolder&)> on_wait = nullptr;
};

class DeploymentStore {
 public:
  virtual ~DeploymentStore() = default;

  // Newest first; `environment` empty = all environments.
  virtual absl::StatusOr<Page<DeploymentRecord>> ListDeployments(
      const std::string& environment, const PageRequest& page) = 0;
  virtual absl::StatusOr<DeploymentRecord> GetDeployment(
      int64_t deployment_id) = 0;
  // The newest successful, non-dry-run deployment of `environment`.
  virtual absl::StatusOr<DeploymentRecord> GetCurrent(
      const std::string& environment) = 0;
  // SHAs of successful, non-dry-run deployments, newest first.
  virtual absl::StatusOr<std::vector<GitSha>> SuccessfulShas(
      const std::string& environment, int limit) = 0;
  // Over the `window` most recently deployed distinct SHAs of `environment`
  // (successful, non-dry-run deployments), how many were verified; each SHA
  // counts with the signature status of its latest deployment. {0, 0} when
  // nothing was deployed.
  virtual absl::StatusOr<SignatureCoverage> SignatureCoverageOf(
      const std::string& environment, int window) = 0;

  // Records a PENDING deployment; previous_sha/previous_digest are taken
  // from the environment's current deployment in the same transaction.
  virtual absl::StatusOr<DeploymentRecord> Create(const NewDeployment& d) = 0;
  // Writes the mutable fields (state, digest, image_ref, signature and
  // provenance, target_ref, endpoints, rendered manifest, errors, times).
  virtual absl::Status Update(const DeploymentRecord& d) = 0;
  // Update(d) — d is RUNNING — and, in the same atomic statement, reads
  // d.environment's hold (GetHold) and d.image_sha's image facts
  // (GetImageFacts): one round trip where three were.
  virtual absl::StatusOr<RunningChecks> MarkRunning(
      const DeploymentRecord& d, const std::string& canonical_repository) = 0;
  // Deployments left PENDING or RUNNING by a process that died: marked
  // FAILED with `reason`. Called at start-up and before each deploy, under
  // the environment lock. Dry runs hold no lock, so one counts only when
  // older than 10 minutes. Returns how many.
  virtual absl::StatusOr<int> FailAbandoned(const std::string& environment,
                                            const std::string& reason) = 0;

  // Runs `fn` holding the environment's lock across deploy-svc processes,
  // waiting for it as `wait` allows; returns fn's result. Callers of one
  // process get the lock in arrival order. When the wait ends without the
  // lock: ABORTED "environment X is busy: deployment N (sha) has been in
  // progress for …; waited …" (fn not run); CANCELLED when `wait.cancelled`
  // said so; UNAVAILABLE when the database cannot be reached.
  virtual absl::Status WithEnvironmentLock(
      const std::string& environment, const LockWait& wait,
      absl::FunctionRef<absl::Status()> fn) = 0;

  virtual absl::StatusOr<HoldRecord> GetHold(
      const std::string& environment) = 0;
  virtual absl::Status SetHold(const std::string& environment,
                               int64_t deployment_id,
                               const std::string& held_by) = 0;
  virtual absl::StatusOr<HoldRecord> ReleaseHold(
      const std::string& environment, const std::string& released_by) = 0;

  // What build-svc recorded for `sha` (canonical = `canonical_repository`).
  virtual absl::StatusOr<ImageFacts> GetImageFacts(
      const std::string& canonical_repository, const GitSha& sha) = 0;
  // Canonical images, newest first, with when each last ran in
  // `environment`.
  virtual absl::StatusOr<std::vector<RollbackCandidate>> RollbackCandidates(
      const std::string& environment, const std::string& canonical_repository,
      int limit) = 0;

  // kind/severity/message as in the events table.
  virtual absl::Status RecordEvent(const std::string& kind,
                                   const std::string& severity,
                                   std::optional<int64_t> deployment_id,
                                   const std::string& git_sha,
                                   const std::string& message) = 0;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_DEPLOYMENT_STORE_H_
