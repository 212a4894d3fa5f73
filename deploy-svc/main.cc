// deploy-svc: deploys images by commit SHA and rolls back without rebuilding.
#include <memory>

#include "common/service_main.h"
#include "deploy-svc/adapters/postgres_deployment_store.h"
#include "deploy-svc/deploy_service.h"

namespace shapin::deploy {
namespace {

class DeployWiring : public ServiceWiring {
 public:
  explicit DeployWiring(ServiceContext& ctx)
      : store_(ctx.pool), service_(store_) {}
  std::vector<ServedService> services() override {
    return {{&service_, v1::DeployService::service_full_name()}};
  }

 private:
  PostgresDeploymentStore store_;
  DeployServiceImpl service_;
};

}  // namespace
}  // namespace shapin::deploy

int main(int argc, char** argv) {
  return shapin::RunServiceMain(
      shapin::Service::kDeploy, "deploy-svc", argc, argv,
      [](shapin::ServiceContext& ctx)
          -> absl::StatusOr<std::unique_ptr<shapin::ServiceWiring>> {
        return std::make_unique<shapin::deploy::DeployWiring>(ctx);
      });
}
