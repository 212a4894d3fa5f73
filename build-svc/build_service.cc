#include "build-svc/build_service.h"

#include <atomic>

#include "absl/synchronization/mutex.h"
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

// Log lines sent per event, so one event stays well under message limits.
constexpr int kLogBatch = 500;

// Why a waiting call ended before its build.
grpc::Status CallEndedStatus(grpc::CallbackServerContext* context,
                             int64_t build_id) {
  const bool expired = context->deadline() <= std::chrono::system_clock::now();
  return grpc::Status(
      expired ? grpc::StatusCode::DEADLINE_EXCEEDED
              : grpc::StatusCode::CANCELLED,
      absl::StrCat("build ", build_id,
                   " is not finished; the call ended before it (it goes on: "
                   "GetBuild or WatchBuild follow it)"));
}

// The reactors below call Finish and StartWrite with no lock of theirs
// held: gRPC may run a reaction (OnWriteDone, OnDone) as soon as they
// return, on another thread or this one.

// SubmitBuild: validated on the gRPC thread (no I/O); the enqueue and every
// read run in OnWake, on the waiters' threads. With `wait`, the call then
// sleeps until its build ends (a terminal notification wakes it).
class SubmitReactor : public grpc::ServerUnaryReactor,
                      public BuildWaiters::Waiter {
 public:
  SubmitReactor(grpc::CallbackServerContext* context, BuildStore& store,
                BuildWaiters& waiters, NewBuild build, bool wait,
                const std::function<void()>& on_enqueued, v1::Build* response)
      : context_(context),
        store_(store),
        waiters_(waiters),
        build_(std::move(build)),
        wait_(wait),
        on_enqueued_(on_enqueued),
        response_(response) {
    waiters_.Add(this);
    waiters_.Wake(this);
  }

  void OnWake() override {
    if (Finished()) return;
    if (build_id_ == 0) {
      absl::StatusOr<BuildRecord> queued = store_.Enqueue(build_);
      if (!queued.ok()) return Reply(ToGrpcStatus(queued.status()));
      LogInfo("build_queued", {{"build_id", queued->build_id},
                               {"git_sha", queued->git_sha.str()},
                               {"branch", queued->branch},
                               {"repository", queued->repository},
                               {"rebuild", queued->rebuild}});
      if (on_enqueued_) on_enqueued_();
      build_id_ = queued->build_id;
      if (!wait_) return Reply(grpc::Status::OK, &*queued);
      // Watching before reading: an end between the two still wakes us.
      waiters_.Watch(this, build_id_, BuildWaiters::Interest::kTerminal);
    }
    absl::StatusOr<BuildRecord> build = store_.GetBuild(build_id_);
    if (!build.ok()) return Reply(ToGrpcStatus(build.status()));
    if (IsTerminal(build->state)) Reply(grpc::Status::OK, &*build);
  }

  void OnCancel() override { Reply(CallEndedStatus(context_, build_id_)); }

  void OnDone() override {
    waiters_.Remove(this);
    delete this;
  }

 private:
  bool Finished() {
    absl::MutexLock lock(&mu_);
    return finished_;
  }
  // The first reply wins; `build` (OK only) becomes the response.
  void Reply(const grpc::Status& status, const BuildRecord* build = nullptr) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
      if (build != nullptr) *response_ = ToProto(*build);
    }
    Finish(status);
  }

  grpc::CallbackServerContext* const context_;
  BuildStore& store_;
  BuildWaiters& waiters_;
  const NewBuild build_;
  const bool wait_;
  const std::function<void()>& on_enqueued_;
  v1::Build* const response_;
  std::atomic<int64_t> build_id_{0};  // once queued
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// WatchBuild: an event (the build, its phase, new log lines) whenever the
// build changes, one write in flight at a time, until it has ended and every
// stored line was sent.
class WatchReactor : public grpc::ServerWriteReactor<v1::BuildEvent>,
                     public BuildWaiters::Waiter {
 public:
  WatchReactor(BuildStore& store, BuildWaiters& waiters, int64_t build_id)
      : store_(store), waiters_(waiters), build_id_(build_id) {
    waiters_.Add(this);
    waiters_.Watch(this, build_id_, BuildWaiters::Interest::kAny);
    waiters_.Wake(this);
  }

  void OnWake() override {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      if (writing_) {
        woken_while_writing_ = true;
        return;
      }
    }
    absl::StatusOr<BuildRecord> build = store_.GetBuild(build_id_);
    if (!build.ok()) return Reply(ToGrpcStatus(build.status()));
    absl::StatusOr<std::vector<LogLine>> lines =
        store_.LogsSince(build_id_, last_seq_, kLogBatch);
    if (!lines.ok()) return Reply(ToGrpcStatus(lines.status()));
    const bool changed = first_ || build->phase != last_phase_ ||
                         build->state != last_state_ || !lines->empty();
    first_ = false;
    last_phase_ = build->phase;
    last_state_ = build->state;
    const bool more_lines = static_cast<int>(lines->size()) == kLogBatch;
    const bool ended = IsTerminal(build->state);
    {
      absl::MutexLock lock(&mu_);
      more_lines_ = more_lines;
      ended_ = ended;
      if (finished_) return;
      if (changed) writing_ = true;
    }
    if (!changed) {
      // Done once the build has ended and every stored line was sent.
      if (ended && !more_lines) Reply(grpc::Status::OK);
      return;
    }
    // Only OnWake writes event_, and never while a write is in flight.
    event_.Clear();
    *event_.mutable_time() = ToProtoTimestamp(absl::Now());
    *event_.mutable_build() = ToProto(*build);
    event_.set_phase(build->phase);
    for (const LogLine& line : *lines) {
      event_.add_log_lines(line.text);
      last_seq_ = line.seq;
    }
    StartWrite(&event_);
  }

  void OnWriteDone(bool ok) override {
    bool again = false;
    bool done = !ok;  // the client left
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      done = done || (ended_ && !more_lines_);
      again = !done && (woken_while_writing_ || more_lines_);
      woken_while_writing_ = false;
    }
    if (done) return Reply(grpc::Status::OK);
    if (again) waiters_.Wake(this);
  }

  void OnCancel() override { Reply(grpc::Status::OK); }

  void OnDone() override {
    waiters_.Remove(this);
    delete this;
  }

 private:
  void Reply(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(status);
  }

  BuildStore& store_;
  BuildWaiters& waiters_;
  const int64_t build_id_;
  // Used by OnWake only (never two at once).
  bool first_ = true;
  int last_seq_ = 0;
  std::string last_phase_;
  BuildState last_state_ = BuildState::kQueued;
  v1::BuildEvent event_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_while_writing_ ABSL_GUARDED_BY(mu_) = false;
  bool more_lines_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// Calls refused before any work (auth, bad fields): finished at once.
grpc::ServerUnaryReactor* RefusedSubmit(grpc::CallbackServerContext* context,
                                        const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

class RefusedWatch : public grpc::ServerWriteReactor<v1::BuildEvent> {
 public:
  explicit RefusedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerUnaryReactor* BuildServiceImpl::SubmitBuild(
    grpc::CallbackServerContext* context, const v1::SubmitBuildRequest* request,
    v1::Build* response) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok())
    return RefusedSubmit(context, ToGrpcStatus(caller.status()));
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
    return RefusedSubmit(context, ToGrpcStatus(s));
  }
  fields.requested_by = caller->name;
  absl::StatusOr<NewBuild> submission = ParseSubmission(fields, policy_);
  if (!submission.ok()) {
    return RefusedSubmit(context, ToGrpcStatus(submission.status()));
  }
  return new SubmitReactor(context, store_, waiters_, *std::move(submission),
                           request->wait(), on_enqueued_, response);
}

grpc::ServerWriteReactor<v1::BuildEvent>* BuildServiceImpl::WatchBuild(
    grpc::CallbackServerContext* context,
    const v1::WatchBuildRequest* request) {
  absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(context);
  if (!caller.ok()) {
    return new RefusedWatch(ToGrpcStatus(caller.status()));
  }
  absl::StatusOr<int64_t> id = ParseIdField("build_id", request->build_id());
  if (!id.ok()) return new RefusedWatch(ToGrpcStatus(id.status()));
  return new WatchReactor(store_, waiters_, *id);
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
