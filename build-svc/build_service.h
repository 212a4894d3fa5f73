// BuildService: the gRPC edge of build-svc.
//
// Translates only: proto → validated domain values (errors name the field) →
// one call into the store → proto. No SQL, HTTP or subprocess here; the
// builds themselves run in BuildWorker, which may live in another process.
//
// SubmitBuild(wait) and WatchBuild follow a build for as long as it runs,
// so they use gRPC's callback API: a waiting call holds no thread, and its
// reads run on BuildWaiters' few threads only when its build changes (the
// change feed of build_change.h). Hundreds of CI jobs waiting on their
// builds cost the database nothing until their builds end.
#ifndef SHAPIN_BUILD_SVC_BUILD_SERVICE_H_
#define SHAPIN_BUILD_SVC_BUILD_SERVICE_H_

#include <functional>

#include "build-svc/build_store.h"
#include "build-svc/build_submission.h"
#include "build-svc/build_waiters.h"
#include "build-svc/image_adoption.h"
#include "shapin/v1/build.grpc.pb.h"

namespace shapin::build {

using BuildServiceBase =
    shapin::v1::BuildService::WithCallbackMethod_SubmitBuild<
        shapin::v1::BuildService::WithCallbackMethod_WatchBuild<
            shapin::v1::BuildService::Service>>;

class BuildServiceImpl final : public BuildServiceBase {
 public:
  // `store`, `adoption` and `waiters` must outlive the service (and the
  // server's last call). `on_enqueued` is called after a build is queued
  // (to wake a local worker at once); may be empty.
  BuildServiceImpl(BuildStore& store, SubmissionPolicy policy,
                   ImageAdoption& adoption, BuildWaiters& waiters,
                   std::function<void()> on_enqueued)
      : store_(store),
        policy_(std::move(policy)),
        adoption_(adoption),
        waiters_(waiters),
        on_enqueued_(std::move(on_enqueued)) {}

  grpc::ServerUnaryReactor* SubmitBuild(grpc::CallbackServerContext* context,
                                        const v1::SubmitBuildRequest* request,
                                        v1::Build* response) override;
  grpc::ServerWriteReactor<v1::BuildEvent>* WatchBuild(
      grpc::CallbackServerContext* context,
      const v1::WatchBuildRequest* request) override;
  grpc::Status GetBuild(grpc::ServerContext* context,
                        const v1::GetBuildRequest* request,
                        v1::Build* response) override;
  grpc::Status ListBuilds(grpc::ServerContext* context,
                          const v1::ListBuildsRequest* request,
                          v1::ListBuildsResponse* response) override;
  grpc::Status CancelBuild(grpc::ServerContext* context,
                           const v1::CancelBuildRequest* request,
                           v1::Build* response) override;
  grpc::Status GetImage(grpc::ServerContext* context,
                        const v1::GetImageRequest* request,
                        v1::Image* response) override;
  grpc::Status AdoptImage(grpc::ServerContext* context,
                          const v1::AdoptImageRequest* request,
                          v1::Image* response) override;

 private:
  BuildStore& store_;
  const SubmissionPolicy policy_;
  ImageAdoption& adoption_;
  BuildWaiters& waiters_;
  const std::function<void()> on_enqueued_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_SERVICE_H_
