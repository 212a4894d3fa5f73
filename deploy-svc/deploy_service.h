// DeployService: the gRPC edge of deploy-svc.
//
// Translates only: proto → validated domain values (errors name the field) →
// one call into the store or the deploy pipeline → proto.
#ifndef SHAPIN_DEPLOY_SVC_DEPLOY_SERVICE_H_
#define SHAPIN_DEPLOY_SVC_DEPLOY_SERVICE_H_

#include "absl/time/time.h"
#include "deploy-svc/deploy_pipeline.h"
#include "deploy-svc/deployment_store.h"
#include "shapin/v1/deploy.grpc.pb.h"

namespace shapin::deploy {

class DeployServiceImpl final : public shapin::v1::DeployService::Service {
 public:
  // `store` and `pipeline` must outlive the service.
  DeployServiceImpl(DeploymentStore& store, DeployPipeline& pipeline,
                    absl::Duration poll_interval = absl::Milliseconds(250))
      : store_(store), pipeline_(pipeline), poll_interval_(poll_interval) {}

  grpc::Status Deploy(grpc::ServerContext*, const v1::DeployRequest*,
                      v1::Deployment*) override;
  grpc::Status Rollback(grpc::ServerContext*, const v1::RollbackRequest*,
                        v1::Deployment*) override;
  grpc::Status GetDeployment(grpc::ServerContext*,
                             const v1::GetDeploymentRequest*,
                             v1::Deployment*) override;
  grpc::Status ListDeployments(grpc::ServerContext*,
                               const v1::ListDeploymentsRequest*,
                               v1::ListDeploymentsResponse*) override;
  grpc::Status GetCurrent(grpc::ServerContext*, const v1::GetCurrentRequest*,
                          v1::Deployment*) override;
  grpc::Status ListRollbackTargets(grpc::ServerContext*,
                                   const v1::ListRollbackTargetsRequest*,
                                   v1::ListRollbackTargetsResponse*) override;
  grpc::Status ResolveImage(grpc::ServerContext*,
                            const v1::ResolveImageRequest*,
                            v1::ResolvedImage*) override;
  grpc::Status WatchDeployment(
      grpc::ServerContext*, const v1::WatchDeploymentRequest*,
      grpc::ServerWriter<v1::DeploymentEvent>*) override;
  grpc::Status ReleaseHold(grpc::ServerContext*, const v1::ReleaseHoldRequest*,
                           v1::Hold*) override;

 private:
  DeploymentStore& store_;
  DeployPipeline& pipeline_;
  const absl::Duration poll_interval_;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_DEPLOY_SERVICE_H_
