// BuildService: the gRPC edge of build-svc.
//
// Translates only: proto → validated domain values (errors name the field) →
// one call into the store → proto. No SQL, HTTP or subprocess here; the
// builds themselves run in BuildWorker, which may live in another process:
// SubmitBuild(wait) and WatchBuild follow a build through the store.
#ifndef SHAPIN_BUILD_SVC_BUILD_SERVICE_H_
#define SHAPIN_BUILD_SVC_BUILD_SERVICE_H_

#include <functional>

#include "absl/time/time.h"
#include "build-svc/build_store.h"
#include "build-svc/build_submission.h"
#include "build-svc/image_adoption.h"
#include "shapin/v1/build.grpc.pb.h"

namespace shapin::build {

class BuildServiceImpl final : public shapin::v1::BuildService::Service {
 public:
  // `store` and `adoption` must outlive the service. `on_enqueued` is
  // called after a build is queued (to wake a local worker); may be empty.
  BuildServiceImpl(BuildStore& store, SubmissionPolicy policy,
                   ImageAdoption& adoption, std::function<void()> on_enqueued,
                   absl::Duration poll_interval = absl::Milliseconds(250))
      : store_(store),
        policy_(std::move(policy)),
        adoption_(adoption),
        on_enqueued_(std::move(on_enqueued)),
        poll_interval_(poll_interval) {}

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
  grpc::Status AdoptImage(grpc::ServerContext* context,
                          const v1::AdoptImageRequest* request,
                          v1::Image* response) override;

 private:
  // Polls until the build is terminal or the call ends.
  absl::StatusOr<BuildRecord> AwaitTerminal(grpc::ServerContext* context,
                                            int64_t build_id);

  BuildStore& store_;
  const SubmissionPolicy policy_;
  ImageAdoption& adoption_;
  const std::function<void()> on_enqueued_;
  const absl::Duration poll_interval_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_SERVICE_H_
