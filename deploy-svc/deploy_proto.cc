#include "deploy-svc/deploy_proto.h"

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"

namespace shapin::deploy {
namespace {

v1::DeploymentState ToProto(DeploymentState state) {
  switch (state) {
    case DeploymentState::kPending:
      return v1::DEPLOYMENT_STATE_PENDING;
    case DeploymentState::kRunning:
      return v1::DEPLOYMENT_STATE_RUNNING;
    case DeploymentState::kSucceeded:
      return v1::DEPLOYMENT_STATE_SUCCEEDED;
    case DeploymentState::kFailed:
      return v1::DEPLOYMENT_STATE_FAILED;
  }
  return v1::DEPLOYMENT_STATE_UNSPECIFIED;
}

}  // namespace

v1::Deployment ToProto(const DeploymentRecord& d) {
  v1::Deployment out;
  out.set_deployment_id(absl::StrCat(d.deployment_id));
  out.set_environment(d.environment);
  out.set_kind(d.kind == DeploymentKind::kRollback
                   ? v1::DEPLOYMENT_KIND_ROLLBACK
                   : v1::DEPLOYMENT_KIND_DEPLOY);
  out.set_image_sha(d.image_sha.str());
  if (d.digest) out.set_digest(d.digest->str());
  out.set_image_ref(d.image_ref);
  out.set_previous_sha(d.previous_sha);
  out.set_previous_digest(d.previous_digest);
  out.set_state(ToProto(d.state));
  out.set_error_code(d.error_code);
  out.set_error_message(d.error_message);
  out.set_signature_status(d.signature_status);
  out.set_signature_reason(d.signature_reason);
  out.set_provenance_status(d.provenance_status);
  out.set_target(d.target);
  out.set_target_ref(d.target_ref);
  for (const std::string& e : d.endpoints) out.add_endpoints(e);
  out.set_rendered_manifest(d.rendered_manifest);
  out.set_rendered_tfvars(d.rendered_tfvars);
  out.set_requested_by(d.requested_by);
  out.set_reason(d.reason);
  out.set_dry_run(d.dry_run);
  *out.mutable_created_at() = ToProtoTimestamp(d.created_at);
  if (d.started_at) *out.mutable_started_at() = ToProtoTimestamp(*d.started_at);
  if (d.finished_at) {
    *out.mutable_finished_at() = ToProtoTimestamp(*d.finished_at);
  }
  if (d.duration_seconds) out.set_duration_seconds(*d.duration_seconds);
  return out;
}

}  // namespace shapin::deploy
