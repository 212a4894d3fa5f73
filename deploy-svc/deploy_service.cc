#include "deploy-svc/deploy_service.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/request_fields.h"
#include "deploy-svc/deploy_proto.h"

namespace shapin::deploy {
namespace {

grpc::Status NotYet(absl::string_view rpc) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      absl::StrCat(rpc, " is not implemented yet"));
}

// Environment names are lower-case identifiers (they become label values,
// file names and lock keys): [a-z0-9][a-z0-9_-]{0,62}.
absl::Status CheckEnvironment(absl::string_view env, bool required) {
  if (env.empty()) {
    return required ? absl::InvalidArgumentError("environment: is required")
                    : absl::OkStatus();
  }
  bool valid = env.size() <= 63 &&
               (absl::ascii_islower(env[0]) || absl::ascii_isdigit(env[0]));
  for (char c : env) {
    valid = valid && (absl::ascii_islower(c) || absl::ascii_isdigit(c) ||
                      c == '-' || c == '_');
  }
  if (!valid) {
    return absl::InvalidArgumentError(absl::StrCat(
        "environment: must be lower-case letters, digits, '-' or '_' (at "
        "most 63), got \"",
        env.substr(0, 64), "\""));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status DeployServiceImpl::Deploy(grpc::ServerContext*,
                                       const v1::DeployRequest* request,
                                       v1::Deployment*) {
  if (absl::Status s = CheckEnvironment(request->environment(), true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<GitSha> sha = ParseShaField("image_sha", request->image_sha());
  if (!sha.ok()) return ToGrpcStatus(sha.status());
  return NotYet("Deploy");
}

grpc::Status DeployServiceImpl::Rollback(grpc::ServerContext*,
                                         const v1::RollbackRequest* request,
                                         v1::Deployment*) {
  if (absl::Status s = CheckEnvironment(request->environment(), true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (!request->image_sha().empty()) {
    absl::StatusOr<GitSha> sha =
        ParseShaField("image_sha", request->image_sha());
    if (!sha.ok()) return ToGrpcStatus(sha.status());
  }
  return NotYet("Rollback");
}

grpc::Status DeployServiceImpl::GetDeployment(
    grpc::ServerContext*, const v1::GetDeploymentRequest* request,
    v1::Deployment* response) {
  absl::StatusOr<int64_t> id =
      ParseIdField("deployment_id", request->deployment_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::StatusOr<DeploymentRecord> d = store_.GetDeployment(*id);
  if (!d.ok()) return ToGrpcStatus(d.status());
  *response = ToProto(*d);
  return grpc::Status::OK;
}

grpc::Status DeployServiceImpl::ListDeployments(
    grpc::ServerContext*, const v1::ListDeploymentsRequest* request,
    v1::ListDeploymentsResponse* response) {
  if (absl::Status s = CheckEnvironment(request->environment(), false);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<PageRequest> page =
      ParsePageRequest(request->page_size(), request->page_token());
  if (!page.ok()) return ToGrpcStatus(page.status());
  absl::StatusOr<Page<DeploymentRecord>> list =
      store_.ListDeployments(request->environment(), *page);
  if (!list.ok()) return ToGrpcStatus(list.status());
  for (const DeploymentRecord& d : list->items) {
    *response->add_deployments() = ToProto(d);
  }
  response->set_next_page_token(PageToken(list->next_before_id));
  return grpc::Status::OK;
}

grpc::Status DeployServiceImpl::GetCurrent(grpc::ServerContext*,
                                           const v1::GetCurrentRequest* request,
                                           v1::Deployment* response) {
  if (absl::Status s = CheckEnvironment(request->environment(), true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<DeploymentRecord> d =
      store_.GetCurrent(request->environment());
  if (!d.ok()) return ToGrpcStatus(d.status());
  *response = ToProto(*d);
  return grpc::Status::OK;
}

grpc::Status DeployServiceImpl::ListRollbackTargets(
    grpc::ServerContext*, const v1::ListRollbackTargetsRequest* request,
    v1::ListRollbackTargetsResponse*) {
  if (absl::Status s = CheckEnvironment(request->environment(), true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  return NotYet("ListRollbackTargets");
}

grpc::Status DeployServiceImpl::ResolveImage(
    grpc::ServerContext*, const v1::ResolveImageRequest* request,
    v1::ResolvedImage*) {
  absl::StatusOr<GitSha> sha = ParseShaField("image_sha", request->image_sha());
  if (!sha.ok()) return ToGrpcStatus(sha.status());
  return NotYet("ResolveImage");
}

grpc::Status DeployServiceImpl::WatchDeployment(
    grpc::ServerContext*, const v1::WatchDeploymentRequest* request,
    grpc::ServerWriter<v1::DeploymentEvent>*) {
  absl::StatusOr<int64_t> id =
      ParseIdField("deployment_id", request->deployment_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  return NotYet("WatchDeployment");
}

grpc::Status DeployServiceImpl::ReleaseHold(
    grpc::ServerContext*, const v1::ReleaseHoldRequest* request, v1::Hold*) {
  if (absl::Status s = CheckEnvironment(request->environment(), true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  return NotYet("ReleaseHold");
}

}  // namespace shapin::deploy
