// EchoBuildService: a BuildService for tests of the auth interceptor in a
// real gRPC server. SubmitBuild answers with the authenticated caller's name
// as requested_by, as the real handlers record it; GetImage never calls
// AuthorizedCaller (a handler that forgot to), so the interceptor alone must
// refuse it.
//
//   EchoBuildService service;
//   server_options.services = {&service};
#ifndef SHAPIN_COMMON_AUTH_TESTING_ECHO_BUILD_SERVICE_H_
#define SHAPIN_COMMON_AUTH_TESTING_ECHO_BUILD_SERVICE_H_

#include "absl/status/statusor.h"
#include "common/auth/call_auth.h"
#include "common/grpc_status.h"
#include "grpcpp/grpcpp.h"
#include "shapin/v1/build.grpc.pb.h"

namespace shapin::auth::testing {

class EchoBuildService : public shapin::v1::BuildService::Service {
 public:
  grpc::Status SubmitBuild(grpc::ServerContext* context,
                           const shapin::v1::SubmitBuildRequest*,
                           shapin::v1::Build* reply) override {
    absl::StatusOr<Identity> caller = AuthorizedCaller(context);
    if (!caller.ok()) return ToGrpcStatus(caller.status());
    reply->set_requested_by(caller->name);
    return grpc::Status::OK;
  }
  grpc::Status GetImage(grpc::ServerContext*,
                        const shapin::v1::GetImageRequest*,
                        shapin::v1::Image* reply) override {
    reply->set_digest("sha256:leaked");
    return grpc::Status::OK;
  }
};

}  // namespace shapin::auth::testing

#endif  // SHAPIN_COMMON_AUTH_TESTING_ECHO_BUILD_SERVICE_H_
