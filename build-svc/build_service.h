// BuildService: the gRPC edge of build-svc.
//
// Translates only: proto → validated domain values (errors name the field) →
// one call into the store or pipeline → proto. No SQL, HTTP or subprocess
// here. RPCs whose pipeline is not built yet answer UNIMPLEMENTED after
// validating their input, so callers see the final contract's errors today.
#ifndef SHAPIN_BUILD_SVC_BUILD_SERVICE_H_
#define SHAPIN_BUILD_SVC_BUILD_SERVICE_H_

#include "build-svc/build_store.h"
#include "shapin/v1/build.grpc.pb.h"

namespace shapin::build {

class BuildServiceImpl final : public shapin::v1::BuildService::Service {
 public:
  // `store` must outlive the service.
  explicit BuildServiceImpl(BuildStore& store) : store_(store) {}

  grpc::Status SubmitBuild(grpc::ServerContext* context,
                           const v1::SubmitBuildRequest* request,
                           v1::Build* response) override;
  grpc::Status GetBuild(grpc::ServerContext* context,
                        const v1::GetBuildRequest* request,
                        v1::Build* response) override;
  grpc::Status WatchBuild(grpc::ServerContext* context,
                          const v1::WatchBuildRequest* request,
                          grpc::ServerWriter<v1::BuildEvent>* writer) override;
  grpc::Status ListBuilds(grpc::ServerContext* context,
                          const v1::ListBuildsRequest* request,
                          v1::ListBuildsResponse* response) override;
  grpc::Status CancelBuild(grpc::ServerContext* context,
                           const v1::CancelBuildRequest* request,
                           v1::Build* response) override;
  grpc::Status GetImage(grpc::ServerContext* context,
                        const v1::GetImageRequest* request,
                        v1::Image* response) override;

 private:
  BuildStore& store_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_SERVICE_H_
