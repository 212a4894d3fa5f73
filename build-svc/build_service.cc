#include "build-svc/build_service.h"

#include "absl/time/clock.h"
#include "build-svc/build_proto.h"
#include "common/auth/call_auth.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/request_fields.h"

namespace shapin::build {
namespace {

bool IsTerminal(BuildState state) {
  return state == BuildState::kSucceeded || state == BuildState::kFailed ||
         state == BuildState::kCanceled;
}

// The call's own end: client gone or its deadline passed.
bool CallEnded(grpc::ServerContext* context) {
  return context->IsCancelled() ||
         context->deadline() <= std::chrono::system_clock::now();
}

// Log lines sent per event, so one event stays well under message limits.
constexpr int kLogBatch = 500;

}  // namespace

absl::StatusOr<BuildRecord> BuildServiceImpl::AwaitTerminal(
    grpc::ServerContext* context, int64_t build_id) {
  while (true) {
    absl::StatusOr<BuildRecord> build = store_.GetBuild(build_id);
    if (!build.ok() || IsTerminal(build->state)) return build;
    if (CallEnded(context)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "build ", build_id, " is still ", BuildStateName(build->state),
          "; the call ended before it finished (it goes on: GetBuild or "
          "WatchBuild follow it)"));
    }
    absl::SleepFor(poll_interval_);
  }
}

grpc::Status BuildServiceImpl::SubmitBuild(
    grpc::ServerContext* context, const v1::SubmitBuildRequest* request,
    v1::Build* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  SubmitFields fields;
  fields.git_sha = request->git_sha();
  fields.branch = request->branch();
  fields.source_url = request->source_url();
  fields.dockerfile = request->dockerfile();
  fields.context = request->context();
  fields.rebuild = request->rebuild();
  // Who asked is whoever authenticated; the request's field is not trusted.
  if (absl::Status s = CheckTextField("requested_by", request->requested_by(),
                                      kMaxRequestedByBytes);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  fields.requested_by = caller->name;
  absl::StatusOr<NewBuild> submission = ParseSubmission(fields, policy_);
  if (!submission.ok()) return ToGrpcStatus(submission.status());
  absl::StatusOr<BuildRecord> build = store_.Enqueue(*submission);
  if (!build.ok()) return ToGrpcStatus(build.status());
  LogInfo("build_queued", {{"build_id", build->build_id},
                           {"git_sha", build->git_sha.str()},
                           {"branch", build->branch},
                           {"repository", build->repository},
                           {"rebuild", build->rebuild}});
  if (on_enqueued_) on_enqueued_();
  if (request->wait()) {
    build = AwaitTerminal(context, build->build_id);
    if (!build.ok()) return ToGrpcStatus(build.status());
  }
  *response = ToProto(*build);
  return grpc::Status::OK;
}

grpc::Status BuildServiceImpl::GetBuild(grpc::ServerContext* context,
                                        const v1::GetBuildRequest* request,
                                        v1::Build* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<int64_t> id = ParseIdField("build_id", request->build_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::StatusOr<BuildRecord> build = store_.GetBuild(*id);
  if (!build.ok()) return ToGrpcStatus(build.status());
  *response = ToProto(*build);
  return grpc::Status::OK;
}

grpc::Status BuildServiceImpl::WatchBuild(
    grpc::ServerContext* context, const v1::WatchBuildRequest* request,
    grpc::ServerWriter<v1::BuildEvent>* writer) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<int64_t> id = ParseIdField("build_id", request->build_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  int last_seq = 0;
  std::string last_phase;
  BuildState last_state = BuildState::kQueued;
  bool first = true;
  while (true) {
    absl::StatusOr<BuildRecord> build = store_.GetBuild(*id);
    if (!build.ok()) return ToGrpcStatus(build.status());
    absl::StatusOr<std::vector<LogLine>> lines =
        store_.LogsSince(*id, last_seq, kLogBatch);
    if (!lines.ok()) return ToGrpcStatus(lines.status());
    const bool changed = first || build->phase != last_phase ||
                         build->state != last_state || !lines->empty();
    if (changed) {
      v1::BuildEvent event;
      *event.mutable_time() = ToProtoTimestamp(absl::Now());
      *event.mutable_build() = ToProto(*build);
      event.set_phase(build->phase);
      for (const LogLine& line : *lines) {
        event.add_log_lines(line.text);
        last_seq = line.seq;
      }
      if (!writer->Write(event)) return grpc::Status::OK;  // client left
    }
    first = false;
    last_phase = build->phase;
    last_state = build->state;
    // Done once terminal and every stored line has been sent.
    if (IsTerminal(build->state) &&
        static_cast<int>(lines->size()) < kLogBatch) {
      return grpc::Status::OK;
    }
    if (CallEnded(context)) return grpc::Status::OK;
    if (static_cast<int>(lines->size()) < kLogBatch) {
      absl::SleepFor(poll_interval_);
    }
  }
}

grpc::Status BuildServiceImpl::ListBuilds(grpc::ServerContext* context,
                                          const v1::ListBuildsRequest* request,
                                          v1::ListBuildsResponse* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  BuildFilter filter;
  if (!request->git_sha().empty()) {
    absl::StatusOr<GitSha> sha = ParseShaField("git_sha", request->git_sha());
    if (!sha.ok()) return ToGrpcStatus(sha.status());
    filter.git_sha = *sha;
  }
  for (absl::Status s :
       {CheckTextField("branch", request->branch(), kMaxBranchBytes),
        CheckTextField("page_token", request->page_token(),
                       kMaxPageTokenBytes)}) {
    if (!s.ok()) return ToGrpcStatus(s);
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
    grpc::ServerContext* context, const v1::CancelBuildRequest* request,
    v1::Build* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<int64_t> id = ParseIdField("build_id", request->build_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  if (absl::Status s = CheckTextField("requested_by", request->requested_by(),
                                      kMaxRequestedByBytes);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<BuildRecord> build = store_.RequestCancel(*id, caller->name);
  if (!build.ok()) return ToGrpcStatus(build.status());
  LogInfo("build_cancel_requested",
          {{"build_id", *id}, {"requested_by", caller->name}});
  *response = ToProto(*build);
  return grpc::Status::OK;
}

grpc::Status BuildServiceImpl::GetImage(grpc::ServerContext* context,
                                        const v1::GetImageRequest* request,
                                        v1::Image* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<GitSha> sha = ParseShaField("git_sha", request->git_sha());
  if (!sha.ok()) return ToGrpcStatus(sha.status());
  absl::StatusOr<ImageRecord> image =
      store_.GetImage(*sha, FromProto(request->repository_type()));
  if (!image.ok()) return ToGrpcStatus(image.status());
  *response = ToProto(*image);
  return grpc::Status::OK;
}

grpc::Status BuildServiceImpl::AdoptImage(grpc::ServerContext* context,
                                          const v1::AdoptImageRequest* request,
                                          v1::Image* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<GitSha> sha = ParseShaField("git_sha", request->git_sha());
  if (!sha.ok()) return ToGrpcStatus(sha.status());
  if (request->digest().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        "digest: is required (the sha256:… the tag was inspected at)"));
  }
  absl::StatusOr<Digest> digest = Digest::Parse(request->digest());
  if (!digest.ok()) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        absl::StrCat("digest: ", digest.status().message())));
  }
  if (absl::Status s =
          CheckTextField("reason", request->reason(), kMaxReasonBytes);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (request->reason().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        "reason: is required (why the image is trusted, for the audit "
        "trail)"));
  }
  absl::StatusOr<ImageRecord> image =
      adoption_.Adopt({.sha = *sha,
                       .type = FromProto(request->repository_type()),
                       .digest = *digest,
                       .reason = request->reason(),
                       .by = caller->name});
  if (!image.ok()) return ToGrpcStatus(image.status());
  *response = ToProto(*image);
  return grpc::Status::OK;
}

}  // namespace shapin::build
