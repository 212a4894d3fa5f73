#include "build-svc/build_service.h"

#include "build-svc/build_proto.h"
#include "common/grpc_status.h"
#include "common/request_fields.h"

namespace shapin::build {
namespace {

grpc::Status NotYet(absl::string_view rpc) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      std::string(rpc) + " is not implemented yet");
}

}  // namespace

grpc::Status BuildServiceImpl::SubmitBuild(
    grpc::ServerContext*, const v1::SubmitBuildRequest* request, v1::Build*) {
  absl::StatusOr<GitSha> sha = ParseShaField("git_sha", request->git_sha());
  if (!sha.ok()) return ToGrpcStatus(sha.status());
  return NotYet("SubmitBuild");
}

grpc::Status BuildServiceImpl::GetBuild(grpc::ServerContext*,
                                        const v1::GetBuildRequest* request,
                                        v1::Build* response) {
  absl::StatusOr<int64_t> id = ParseIdField("build_id", request->build_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::StatusOr<BuildRecord> build = store_.GetBuild(*id);
  if (!build.ok()) return ToGrpcStatus(build.status());
  *response = ToProto(*build);
  return grpc::Status::OK;
}

grpc::Status BuildServiceImpl::WatchBuild(grpc::ServerContext*,
                                          const v1::WatchBuildRequest* request,
                                          grpc::ServerWriter<v1::BuildEvent>*) {
  absl::StatusOr<int64_t> id = ParseIdField("build_id", request->build_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  return NotYet("WatchBuild");
}

grpc::Status BuildServiceImpl::ListBuilds(grpc::ServerContext*,
                                          const v1::ListBuildsRequest* request,
                                          v1::ListBuildsResponse* response) {
  BuildFilter filter;
  if (!request->git_sha().empty()) {
    absl::StatusOr<GitSha> sha = ParseShaField("git_sha", request->git_sha());
    if (!sha.ok()) return ToGrpcStatus(sha.status());
    filter.git_sha = *sha;
  }
  filter.branch = request->branch();
  absl::StatusOr<PageRequest> page =
      ParsePageRequest(request->page_size(), request->page_token());
  if (!page.ok()) return ToGrpcStatus(page.status());
  absl::StatusOr<Page<BuildRecord>> builds = store_.ListBuilds(filter, *page);
  if (!builds.ok()) return ToGrpcStatus(builds.status());
  for (const BuildRecord& b : builds->items)
    *response->add_builds() = ToProto(b);
  response->set_next_page_token(PageToken(builds->next_before_id));
  return grpc::Status::OK;
}

grpc::Status BuildServiceImpl::CancelBuild(
    grpc::ServerContext*, const v1::CancelBuildRequest* request, v1::Build*) {
  absl::StatusOr<int64_t> id = ParseIdField("build_id", request->build_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  return NotYet("CancelBuild");
}

grpc::Status BuildServiceImpl::GetImage(grpc::ServerContext*,
                                        const v1::GetImageRequest* request,
                                        v1::Image* response) {
  absl::StatusOr<GitSha> sha = ParseShaField("git_sha", request->git_sha());
  if (!sha.ok()) return ToGrpcStatus(sha.status());
  const RepositoryType type =
      request->repository_type() == v1::REPOSITORY_TYPE_STAGING
          ? RepositoryType::kStaging
          : RepositoryType::kCanonical;
  absl::StatusOr<ImageRecord> image = store_.GetImage(*sha, type);
  if (!image.ok()) return ToGrpcStatus(image.status());
  *response = ToProto(*image);
  return grpc::Status::OK;
}

}  // namespace shapin::build
