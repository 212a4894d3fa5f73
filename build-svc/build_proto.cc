#include "build-svc/build_proto.h"

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"

namespace shapin::build {
namespace {

v1::BuildState ToProto(BuildState state) {
  switch (state) {
    case BuildState::kQueued:
      return v1::BUILD_STATE_QUEUED;
    case BuildState::kRunning:
      return v1::BUILD_STATE_RUNNING;
    case BuildState::kSucceeded:
      return v1::BUILD_STATE_SUCCEEDED;
    case BuildState::kFailed:
      return v1::BUILD_STATE_FAILED;
    case BuildState::kCanceled:
      return v1::BUILD_STATE_CANCELED;
  }
  return v1::BUILD_STATE_UNSPECIFIED;
}

v1::BuildOutcome ToProto(BuildOutcome outcome) {
  switch (outcome) {
    case BuildOutcome::kPublished:
      return v1::BUILD_OUTCOME_PUBLISHED;
    case BuildOutcome::kReused:
      return v1::BUILD_OUTCOME_REUSED;
    case BuildOutcome::kReproduced:
      return v1::BUILD_OUTCOME_REPRODUCED;
  }
  return v1::BUILD_OUTCOME_UNSPECIFIED;
}

// "repository:sha@sha256:…", the one line operators copy.
std::string PinnedRef(const std::string& repository, const GitSha& sha,
                      const Digest& digest) {
  return absl::StrCat(repository, ":", sha.str(), "@", digest.str());
}

}  // namespace

v1::RepositoryType ToProto(RepositoryType type) {
  return type == RepositoryType::kCanonical ? v1::REPOSITORY_TYPE_CANONICAL
                                            : v1::REPOSITORY_TYPE_STAGING;
}

RepositoryType FromProto(v1::RepositoryType type) {
  return type == v1::REPOSITORY_TYPE_STAGING ? RepositoryType::kStaging
                                             : RepositoryType::kCanonical;
}

v1::Build ToProto(const BuildRecord& b) {
  v1::Build out;
  out.set_build_id(absl::StrCat(b.build_id));
  out.set_git_sha(b.git_sha.str());
  out.set_short_sha(b.git_sha.short_sha());
  out.set_branch(b.branch);
  out.set_source_url(b.source_url);
  out.set_dockerfile(b.dockerfile);
  out.set_context(b.context);
  out.set_rebuild(b.rebuild);
  out.set_repository(b.repository);
  out.set_repository_type(ToProto(b.repository_type));
  out.set_state(ToProto(b.state));
  if (b.outcome) out.set_outcome(ToProto(*b.outcome));
  out.set_error_code(b.error_code);
  out.set_error_message(b.error_message);
  if (b.digest) {
    out.set_digest(b.digest->str());
    out.set_image_ref(PinnedRef(b.repository, b.git_sha, *b.digest));
    out.add_tags(b.git_sha.str());
    out.add_tags(b.git_sha.short_sha());
  }
  if (b.pre_push_digest) out.set_pre_push_digest(b.pre_push_digest->str());
  if (b.post_push_digest) out.set_post_push_digest(b.post_push_digest->str());
  out.set_digest_verification(b.digest_verification);
  out.set_platform(b.platform);
  out.set_signature_status(b.signature_status);
  out.set_provenance_ref(b.provenance_ref);
  out.set_sbom_ref(b.sbom_ref);
  out.set_log_tail(b.log_tail);
  out.set_requested_by(b.requested_by);
  *out.mutable_created_at() = ToProtoTimestamp(b.created_at);
  if (b.started_at) *out.mutable_started_at() = ToProtoTimestamp(*b.started_at);
  if (b.finished_at) {
    *out.mutable_finished_at() = ToProtoTimestamp(*b.finished_at);
  }
  if (b.build_duration_seconds) {
    out.set_build_duration_seconds(*b.build_duration_seconds);
  }
  if (b.push_duration_seconds) {
    out.set_push_duration_seconds(*b.push_duration_seconds);
  }
  return out;
}

v1::Image ToProto(const ImageRecord& i) {
  v1::Image out;
  out.set_repository(i.repository);
  out.set_repository_type(ToProto(i.repository_type));
  out.set_git_sha(i.git_sha.str());
  out.set_short_sha(i.git_sha.short_sha());
  out.set_digest(i.digest.str());
  out.set_image_ref(PinnedRef(i.repository, i.git_sha, i.digest));
  if (i.size_bytes) out.set_size_bytes(*i.size_bytes);
  out.set_platform(i.platform);
  out.set_branch(i.branch);
  *out.mutable_built_at() = ToProtoTimestamp(i.built_at);
  if (i.commit_time)
    *out.mutable_commit_time() = ToProtoTimestamp(*i.commit_time);
  if (i.build_id) out.set_build_id(absl::StrCat(*i.build_id));
  out.set_signature_status(i.signature_status);
  out.set_provenance_ref(i.provenance_ref);
  out.set_sbom_ref(i.sbom_ref);
  out.set_origin(i.origin);
  return out;
}

}  // namespace shapin::build
