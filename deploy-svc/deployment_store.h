// DeploymentStore: deployment history per environment.
//
// Speaks domain types only; the PostgreSQL implementation lives in
// adapters/postgres_deployment_store.h. NOT_FOUND for a missing deployment or
// an environment with no successful deployment; UNAVAILABLE when the database
// cannot be reached.
#ifndef SHAPIN_DEPLOY_SVC_DEPLOYMENT_STORE_H_
#define SHAPIN_DEPLOY_SVC_DEPLOYMENT_STORE_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/pagination.h"
#include "deploy-svc/deployment_record.h"

namespace shapin::deploy {

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
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_DEPLOYMENT_STORE_H_
