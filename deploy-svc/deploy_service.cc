#include "deploy-svc/deploy_service.h"

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/call_auth.h"
#include "common/grpc_status.h"
#include "common/proto_time.h"
#include "common/request_fields.h"
#include "deploy-svc/deploy_proto.h"

namespace shapin::deploy {
namespace {

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

// The call's deadline and cancellation as plain values for the pipeline.
CallLimits LimitsOf(grpc::ServerContext* context) {
  CallLimits call;
  const std::chrono::system_clock::time_point deadline = context->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    call.deadline = absl::FromChrono(deadline);
  }
  call.cancelled = [context] { return context->IsCancelled(); };
  return call;
}

bool IsTerminal(DeploymentState s) {
  return s == DeploymentState::kSucceeded || s == DeploymentState::kFailed;
}

}  // namespace

grpc::Status DeployServiceImpl::Deploy(grpc::ServerContext* context,
                                       const v1::DeployRequest* request,
                                       v1::Deployment* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  // Overriding a hold is an operator decision, checked before any field.
  if (request->override_hold()) {
    if (absl::Status s = auth::RequireRole(*caller, auth::Role::kOperator,
                                           "Deploy with override_hold");
        !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  for (absl::Status s : {CheckEnvironment(request->environment(), true),
                         CheckTextField("requested_by", request->requested_by(),
                                        kMaxRequestedByBytes)}) {
    if (!s.ok()) return ToGrpcStatus(s);
  }
  absl::StatusOr<GitSha> sha = ParseShaField("image_sha", request->image_sha());
  if (!sha.ok()) return ToGrpcStatus(sha.status());
  DeployArgs args(*sha);
  args.environment = request->environment();
  // Who asked is whoever authenticated; the request's field is not trusted.
  args.requested_by = caller->name;
  args.dry_run = request->dry_run();
  args.override_hold = request->override_hold();
  args.force = request->force();
  args.call = LimitsOf(context);
  absl::StatusOr<DeploymentRecord> d = pipeline_.Deploy(args);
  if (!d.ok()) return ToGrpcStatus(d.status());
  *response = ToProto(*d);
  return grpc::Status::OK;
}

grpc::Status DeployServiceImpl::Rollback(grpc::ServerContext* context,
                                         const v1::RollbackRequest* request,
                                         v1::Deployment* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  for (absl::Status s :
       {CheckEnvironment(request->environment(), true),
        CheckTextField("reason", request->reason(), kMaxReasonBytes),
        CheckTextField("requested_by", request->requested_by(),
                       kMaxRequestedByBytes)}) {
    if (!s.ok()) return ToGrpcStatus(s);
  }
  std::optional<GitSha> target;
  if (!request->image_sha().empty()) {
    absl::StatusOr<GitSha> sha =
        ParseShaField("image_sha", request->image_sha());
    if (!sha.ok()) return ToGrpcStatus(sha.status());
    target = *sha;
  }
  absl::StatusOr<DeploymentRecord> d =
      pipeline_.Rollback(request->environment(), target, request->reason(),
                         caller->name, LimitsOf(context));
  if (!d.ok()) return ToGrpcStatus(d.status());
  *response = ToProto(*d);
  return grpc::Status::OK;
}

grpc::Status DeployServiceImpl::GetDeployment(
    grpc::ServerContext* context, const v1::GetDeploymentRequest* request,
    v1::Deployment* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<int64_t> id =
      ParseIdField("deployment_id", request->deployment_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::StatusOr<DeploymentRecord> d = store_.GetDeployment(*id);
  if (!d.ok()) return ToGrpcStatus(d.status());
  *response = ToProto(*d);
  return grpc::Status::OK;
}

grpc::Status DeployServiceImpl::ListDeployments(
    grpc::ServerContext* context, const v1::ListDeploymentsRequest* request,
    v1::ListDeploymentsResponse* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = CheckEnvironment(request->environment(), false);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (absl::Status s = CheckTextField("page_token", request->page_token(),
                                      kMaxPageTokenBytes);
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

grpc::Status DeployServiceImpl::GetCurrent(grpc::ServerContext* context,
                                           const v1::GetCurrentRequest* request,
                                           v1::Deployment* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
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
    grpc::ServerContext* context, const v1::ListRollbackTargetsRequest* request,
    v1::ListRollbackTargetsResponse* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = CheckEnvironment(request->environment(), true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (absl::Status s =
          pipeline_.FindEnvironment(request->environment()).status();
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<PageRequest> page = ParsePageRequest(request->page_size(), "");
  if (!page.ok()) return ToGrpcStatus(page.status());
  absl::StatusOr<std::vector<RollbackCandidate>> candidates =
      store_.RollbackCandidates(request->environment(),
                                pipeline_.canonical_repository(),
                                page->page_size);
  if (!candidates.ok()) return ToGrpcStatus(candidates.status());
  absl::StatusOr<DeploymentRecord> current =
      store_.GetCurrent(request->environment());
  for (const RollbackCandidate& c : *candidates) {
    v1::RollbackTarget* t = response->add_targets();
    t->set_git_sha(c.git_sha.str());
    t->set_digest(c.digest.str());
    t->set_image_ref(absl::StrCat(pipeline_.canonical_repository(), ":",
                                  c.git_sha.str(), "@", c.digest.str()));
    *t->mutable_built_at() = ToProtoTimestamp(c.built_at);
    if (c.last_deployed_at) {
      *t->mutable_last_deployed_at() = ToProtoTimestamp(*c.last_deployed_at);
    }
    t->set_signature_status(c.signature_status);
    t->set_current(current.ok() && current->image_sha == c.git_sha);
  }
  return grpc::Status::OK;
}

grpc::Status DeployServiceImpl::ResolveImage(
    grpc::ServerContext* context, const v1::ResolveImageRequest* request,
    v1::ResolvedImage* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<GitSha> sha = ParseShaField("image_sha", request->image_sha());
  if (!sha.ok()) return ToGrpcStatus(sha.status());
  absl::StatusOr<ResolvedImageInfo> info = pipeline_.Resolve(*sha);
  if (!info.ok()) return ToGrpcStatus(info.status());
  response->set_repository(info->repository);
  response->set_git_sha(sha->str());
  response->set_digest(info->digest.str());
  response->set_image_ref(info->image_ref);
  if (info->recorded_digest) {
    response->set_recorded_digest(info->recorded_digest->str());
    response->set_digest_check("ok");
  } else {
    response->set_digest_check("unrecorded");
  }
  response->set_signature_status(info->signature.verified ? "verified"
                                                          : "unverified");
  response->set_signature_reason(info->signature.reason);
  response->set_provenance_status(info->signature.provenance_status);
  return grpc::Status::OK;
}

grpc::Status DeployServiceImpl::WatchDeployment(
    grpc::ServerContext* context, const v1::WatchDeploymentRequest* request,
    grpc::ServerWriter<v1::DeploymentEvent>* writer) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<int64_t> id =
      ParseIdField("deployment_id", request->deployment_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  std::optional<DeploymentState> last;
  while (true) {
    absl::StatusOr<DeploymentRecord> d = store_.GetDeployment(*id);
    if (!d.ok()) return ToGrpcStatus(d.status());
    if (!last || *last != d->state) {
      v1::DeploymentEvent event;
      *event.mutable_time() = ToProtoTimestamp(absl::Now());
      *event.mutable_deployment() = ToProto(*d);
      event.set_phase(IsTerminal(d->state)
                          ? std::string("done")
                          : std::string(DeploymentStateName(d->state)));
      event.set_message(d->error_message);
      if (!writer->Write(event)) return grpc::Status::OK;
      last = d->state;
    }
    if (IsTerminal(d->state) || context->IsCancelled()) {
      return grpc::Status::OK;
    }
    absl::SleepFor(poll_interval_);
  }
}

grpc::Status DeployServiceImpl::ReleaseHold(
    grpc::ServerContext* context, const v1::ReleaseHoldRequest* request,
    v1::Hold* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  for (absl::Status s : {CheckEnvironment(request->environment(), true),
                         CheckTextField("requested_by", request->requested_by(),
                                        kMaxRequestedByBytes)}) {
    if (!s.ok()) return ToGrpcStatus(s);
  }
  absl::StatusOr<HoldRecord> hold =
      pipeline_.ReleaseHold(request->environment(), caller->name);
  if (!hold.ok()) return ToGrpcStatus(hold.status());
  response->set_environment(hold->environment);
  response->set_held(hold->held);
  if (hold->deployment_id != 0) {
    response->set_deployment_id(absl::StrCat(hold->deployment_id));
  }
  response->set_held_by(hold->held_by);
  *response->mutable_held_since() = ToProtoTimestamp(hold->held_since);
  response->set_released_by(hold->released_by);
  return grpc::Status::OK;
}

}  // namespace shapin::deploy
