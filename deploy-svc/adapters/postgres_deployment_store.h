// PostgresDeploymentStore: DeploymentStore on the shared PostgreSQL schema
// (common/schema_migrations.cc: table deployments).
//
// The environment lock is a session advisory lock (pg_try_advisory_lock on
// a hash of the environment name), so it dies with a crashed process's
// connection. Waiting for it goes through an EnvironmentLockQueue: callers
// of this process queue in memory, the head polls the lock, and nobody holds
// a pooled connection while waiting.
//
//   PostgresDeploymentStore store(*pool);
//   absl::Status s = store.WithEnvironmentLock(
//       "production", {.max_wait = absl::Minutes(10)}, [&] { return Work(); });
#ifndef SHAPIN_DEPLOY_SVC_ADAPTERS_POSTGRES_DEPLOYMENT_STORE_H_
#define SHAPIN_DEPLOY_SVC_ADAPTERS_POSTGRES_DEPLOYMENT_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "common/postgres_pool.h"
#include "deploy-svc/deployment_store.h"
#include "deploy-svc/environment_lock_queue.h"

namespace shapin::deploy {

class PostgresDeploymentStore : public DeploymentStore {
 public:
  // `pool` must outlive the store.
  explicit PostgresDeploymentStore(PostgresPool& pool) : pool_(pool) {}

  absl::StatusOr<Page<DeploymentRecord>> ListDeployments(
      const std::string& environment, const PageRequest& page) override;
  absl::StatusOr<DeploymentRecord> GetDeployment(
      int64_t deployment_id) override;
  absl::StatusOr<DeploymentRecord> GetCurrent(
      const std::string& environment) override;
  absl::StatusOr<std::vector<GitSha>> SuccessfulShas(
      const std::string& environment, int limit) override;
  absl::StatusOr<SignatureCoverage> SignatureCoverageOf(
      const std::string& environment, int window) override;
  absl::StatusOr<DeploymentRecord> Create(const NewDeployment& d) override;
  absl::Status Update(const DeploymentRecord& d) override;
  absl::StatusOr<RunningChecks> MarkRunning(
      const DeploymentRecord& d,
      const std::string& canonical_repository) override;
  absl::StatusOr<int> FailAbandoned(const std::string& environment,
                                    const std::string& reason) override;
  absl::Status WithEnvironmentLock(
      const std::string& environment, const LockWait& wait,
      absl::FunctionRef<absl::Status()> fn) override;
  absl::StatusOr<HoldRecord> GetHold(const std::string& environment) override;
  absl::Status SetHold(const std::string& environment, int64_t deployment_id,
                       const std::string& held_by) override;
  absl::StatusOr<HoldRecord> ReleaseHold(
      const std::string& environment, const std::string& released_by) override;
  absl::StatusOr<ImageFacts> GetImageFacts(
      const std::string& canonical_repository, const GitSha& sha) override;
  absl::StatusOr<std::vector<RollbackCandidate>> RollbackCandidates(
      const std::string& environment, const std::string& canonical_repository,
      int limit) override;
  absl::Status RecordEvent(const std::string& kind, const std::string& severity,
                           std::optional<int64_t> deployment_id,
                           const std::string& git_sha,
                           const std::string& message) override;

 private:
  // The rows `where_sql` ($1.. bound to `params`, NULL where unset)
  // selects, newest first.
  absl::StatusOr<std::vector<DeploymentRecord>> Select(
      const std::string& where_sql,
      const std::vector<std::optional<std::string>>& params, int limit);

  // The deployment holding `environment`'s lock, as far as the records
  // tell (best effort: empty when none is recorded or on error).
  LockHolder HolderOf(const std::string& environment);

  PostgresPool& pool_;
  EnvironmentLockQueue lock_queue_;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_ADAPTERS_POSTGRES_DEPLOYMENT_STORE_H_
