// PostgresDeploymentStore: DeploymentStore on the shared PostgreSQL schema
// (common/schema_migrations.cc: table deployments).
#ifndef SHAPIN_DEPLOY_SVC_ADAPTERS_POSTGRES_DEPLOYMENT_STORE_H_
#define SHAPIN_DEPLOY_SVC_ADAPTERS_POSTGRES_DEPLOYMENT_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "common/postgres_pool.h"
#include "deploy-svc/deployment_store.h"

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

 private:
  // The rows `where_sql` ($1.. bound to `params`, NULL where unset)
  // selects, newest first.
  absl::StatusOr<std::vector<DeploymentRecord>> Select(
      const std::string& where_sql,
      const std::vector<std::optional<std::string>>& params, int limit);

  PostgresPool& pool_;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_ADAPTERS_POSTGRES_DEPLOYMENT_STORE_H_
