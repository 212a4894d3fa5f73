#include "build-svc/build_pipeline.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "build-svc/publish_policy.h"
#include "build-svc/tag_policy.h"
#include "common/error_code.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace shapin::build {
namespace {

// Registry trouble during a build is a PUSH_FAILURE unless the client already
// classified it (DIGEST_MISMATCH stays what it is).
absl::Status AsPushFailure(const absl::Status& s, absl::string_view what) {
  if (s.ok() || ErrorCodeOf(s)) return s;
  return ShapinError(ErrorCode::kPushFailure,
                     absl::StrCat(what, ": ", s.message()));
}

std::string PinnedRef(const BuildRecord& b, const Digest& d) {
  return absl::StrCat(b.repository, ":", b.git_sha.str(), "@", d.str());
}

// Database writes under the lease are retried this often, 0.5 s apart and
// doubling (about 7 s in all: a restart, not an outage).
constexpr int kLeaseWriteAttempts = 5;
constexpr absl::Duration kLeaseWriteBackoff = absl::Milliseconds(500);

}  // namespace

struct BuildPipeline::Attempt {
  const BuildRecord& build;
  const std::string& worker;
  const std::atomic<bool>& stop;
  BuildLog& log;
  std::string dir{};
  absl::Time started{};
  absl::Time deadline{};
  BuildResult result{};
  std::optional<BuiltImage> built{};
  std::optional<absl::Time> commit_time{};
  std::string checkout_dir{};
  // A fencing check found the build claimed by someone else (or released).
  bool lease_lost = false;
  // What build-svc recorded for (repository, SHA) when the attempt began.
  std::optional<ImageRecord> recorded{};
  std::optional<Digest> RecordedDigest() const {
    return recorded ? std::optional(recorded->digest) : std::nullopt;
  }

  absl::Duration Remaining() const {
    return std::max(deadline - absl::Now(), absl::Seconds(1));
  }
  void Phase(BuildStore& store, absl::string_view phase) {
    log.Add(absl::StrCat("[shapin] ", phase));
    // Best effort: the phase is for watchers, the result is what counts.
    (void)store.SetPhase(build.build_id, worker, phase);
  }
  ImageRecord Image(const Digest& digest) const {
    ImageRecord image(build.git_sha, digest);
    image.repository = build.repository;
    image.repository_type = build.repository_type;
    image.platform = std::string(kBuildPlatform);
    image.branch = build.branch;
    image.build_id = build.build_id;
    if (built) {
      image.size_bytes = built->size_bytes;
      image.base_images = built->base_images;
    }
    image.commit_time = commit_time;
    return image;
  }
};

std::optional<BuildResult> BuildPipeline::Run(
    const BuildRecord& build, const std::string& worker,
    const std::atomic<bool>& stop, const std::atomic<StopReason>& stop_reason,
    BuildLog& log) {
  Attempt a{build, worker, stop, log};
  a.started = absl::Now();
  a.deadline = a.started + options_.timeout;
  a.result.build_id = build.build_id;
  a.dir = (std::filesystem::path(options_.work_dir) /
           absl::StrCat("build-", build.build_id, "-",
                        absl::ToUnixMicros(a.started)))
              .string();

  absl::Status status = Execute(a);
  std::error_code ignored;
  std::filesystem::remove_all(a.dir, ignored);

  const StopReason reason = a.lease_lost  ? StopReason::kLeaseLost
                            : stop.load() ? stop_reason.load()
                                          : StopReason::kNone;
  if (reason == StopReason::kShutdown || reason == StopReason::kLeaseLost) {
    // Not finished: the lease runs out and the queue hands the build to a
    // live worker (ReapExpired), which starts it over from a clean state.
    LogWarning("build_interrupted",
               {{"build_id", build.build_id},
                {"reason",
                 reason == StopReason::kShutdown ? "shutdown" : "lease_lost"}});
    return std::nullopt;
  }

  BuildResult& r = a.result;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - a.started);
  r.build_duration_seconds = seconds;
  std::string result_label;
  if (status.ok()) {
    r.state = BuildState::kSucceeded;
    result_label = std::string(BuildOutcomeName(*r.outcome));
    LogInfo("build_succeeded", {{"build_id", build.build_id},
                                {"outcome", result_label},
                                {"image_ref", PinnedRef(build, *r.digest)}});
  } else if (reason == StopReason::kCanceled || absl::IsCancelled(status)) {
    r.state = BuildState::kCanceled;
    r.outcome.reset();
    r.error_message = "canceled while running";
    result_label = "canceled";
    LogInfo("build_canceled", {{"build_id", build.build_id}});
  } else {
    r.state = BuildState::kFailed;
    r.outcome.reset();
    absl::Status failure = status;
    if (absl::IsDeadlineExceeded(status)) {
      failure = ShapinError(ErrorCode::kBuildFailure,
                            absl::StrCat("timed out after ",
                                         absl::FormatDuration(options_.timeout),
                                         ": ", status.message()));
    }
    std::optional<ErrorCode> code = ErrorCodeOf(failure);
    r.error_code =
        std::string(ErrorCodeName(code.value_or(ErrorCode::kBuildFailure)));
    r.error_message = std::string(failure.message());
    if (code == ErrorCode::kDigestMismatch) Escalate(a, failure);
    result_label = "failed";
    LogWarning("build_failed", {{"build_id", build.build_id},
                                {"error_code", r.error_code},
                                {"error", r.error_message}});
  }
  r.log_tail = log.Tail();
  metrics_.ObserveBuild(RepositoryTypeName(build.repository_type), result_label,
                        seconds);
  return r;
}

absl::Status BuildPipeline::Execute(Attempt& a) {
  const BuildRecord& b = a.build;
  BuildResult& r = a.result;

  // 1. An existing SHA tag is reused unless a rebuild was asked for. No
  // other build of this (repository, SHA) runs meanwhile (Claim).
  {
    absl::StatusOr<std::optional<Digest>> tag =
        publisher_.ResolveTag(b.repository, b.git_sha.str());
    SHAPIN_RETURN_IF_ERROR(AsPushFailure(tag.status(), "registry"));
    SHAPIN_ASSIGN_OR_RETURN(a.recorded,
                            store_.RecordedImage(b.repository, b.git_sha));
    SHAPIN_ASSIGN_OR_RETURN(
        BeforeBuild before,
        DecideBeforeBuild(*tag, a.RecordedDigest(), b.rebuild));
    if (before.verifies_unrecorded_tag) {
      a.log.Add(absl::StrCat(
          "[shapin] ", b.repository, ":", b.git_sha.str(), " exists as ",
          (*tag)->str(),
          " but build-svc recorded no image for it: not trusted, building "
          "the commit to compare"));
    }
    if (before.action == BeforeBuild::kReuse) {
      a.log.Add(absl::StrCat("[shapin] ", b.git_sha.str(), " already in ",
                             b.repository, " as ", before.reuse_digest->str(),
                             ": reused"));
      SHAPIN_RETURN_IF_ERROR(EnsureTags(a, *before.reuse_digest));
      r.outcome = BuildOutcome::kReused;
      r.digest = before.reuse_digest;
      r.post_push_digest = before.reuse_digest;
      r.image = a.Image(*before.reuse_digest);
      EnsureSigned(a);
      return absl::OkStatus();
    }
  }

  // 2. Exactly the commit, in a fresh workspace.
  std::error_code ec;
  std::filesystem::create_directories(a.dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create workspace ", a.dir, ": ", ec.message()));
  }
  a.Phase(store_, "fetching");
  FetchRequest fetch{.sha = b.git_sha};
  fetch.url = b.source_url;
  fetch.workspace_dir = a.dir + "/src";
  fetch.timeout = a.Remaining();
  fetch.cancel = &a.stop;
  fetch.on_line = [&](absl::string_view line) { a.log.Add(line); };
  SHAPIN_ASSIGN_OR_RETURN(FetchedSource source, fetcher_.Fetch(fetch));
  a.commit_time = source.commit_time;
  a.checkout_dir = source.checkout_dir;

  // 3. A clean linux/amd64 build.
  a.Phase(store_, "building");
  BuildRequest request;
  request.context_dir = (std::filesystem::path(source.checkout_dir) / b.context)
                            .lexically_normal();
  request.dockerfile = b.dockerfile;
  request.commit_time = source.commit_time;
  request.build_args = options_.build_args;
  request.build_args.emplace_back("GIT_SHA", b.git_sha.str());
  request.insecure_registries = options_.insecure_registries;
  request.output_dir = a.dir + "/oci";
  request.timeout = a.Remaining();
  request.cancel = &a.stop;
  request.on_line = [&](absl::string_view line) { a.log.Add(line); };
  // Streamed when the publisher can: the builder pushes through the stream
  // into the repository by digest as it compresses (nothing is tagged).
  absl::StatusOr<std::unique_ptr<ImageStream>> stream =
      publisher_.OpenStream(b.repository);
  SHAPIN_RETURN_IF_ERROR(AsPushFailure(stream.status(), "push"));
  if (*stream != nullptr) request.push_to = (*stream)->reference();
  absl::StatusOr<BuiltImage> build_result = builder_.Build(request);
  if (!build_result.ok() && *stream != nullptr && !(*stream)->status().ok()) {
    // The builder's push failed because the registry did.
    return AsPushFailure((*stream)->status(), "push");
  }
  SHAPIN_ASSIGN_OR_RETURN(BuiltImage built, std::move(build_result));
  a.built = built;
  r.pre_push_digest = built.manifest_digest;
  a.log.Add(absl::StrCat("[shapin] built ", built.manifest_digest.str()));

  // 4. Publish, or compare with what is already published.
  SHAPIN_RETURN_IF_ERROR(PublishOrCompare(a, built, stream->get()));

  // 5. Sign what this build published or compared with.
  EnsureSigned(a);
  return absl::OkStatus();
}

void BuildPipeline::EnsureSigned(Attempt& a) {
  BuildResult& r = a.result;
  const ImageRecord* recorded = a.recorded ? &*a.recorded : nullptr;
  const bool published_now = r.outcome == BuildOutcome::kPublished;
  // What the record says, for a result that changes nothing.
  auto keep_recorded = [&] {
    r.signature_status = recorded && !recorded->signature_status.empty()
                             ? recorded->signature_status
                             : "unsigned";
    if (recorded) {
      r.provenance_ref = recorded->provenance_ref;
      r.sbom_ref = recorded->sbom_ref;
    }
    // Fills a legacy NULL in; anything else stays (COALESCE in the store).
    if (r.image && (!recorded || recorded->signature_status.empty())) {
      r.image->signature_status = r.signature_status;
    }
  };
  if (recorded && recorded->origin == kImageAdopted) {
    a.log.Add(
        "[shapin] an adopted image: build-svc does not sign what it did not "
        "build");
    keep_recorded();
    return;
  }
  if (options_.signer == nullptr) {
    if (!published_now) {
      keep_recorded();
      return;
    }
    r.signature_status = "unsigned";
    metrics_.CountSigning(r.signature_status);
    if (r.image) r.image->signature_status = r.signature_status;
    return;
  }
  SigningRequest request = SigningRequestFor(a);
  if (!published_now) {
    // An earlier attempt may have published this image and died before
    // signing it: the registry says whether it still lacks our signature.
    absl::StatusOr<bool> is_signed = options_.signer->IsSigned(request);
    if (is_signed.ok() && *is_signed) {
      a.log.Add(absl::StrCat("[shapin] ", PinnedRef(a.build, *r.digest),
                             " is signed and attested with this key"));
      keep_recorded();
      r.signature_status = "signed";
      if (r.image) r.image->signature_status = r.signature_status;
      return;
    }
    a.log.Add(absl::StrCat(
        "[shapin] ", PinnedRef(a.build, *r.digest),
        is_signed.ok()
            ? " lacks this key's signature or provenance (published by an "
              "attempt that stopped before signing?): signing it now"
            : absl::StrCat(" cannot be checked for signatures (",
                           is_signed.status().message(), "): signing it")));
  }
  Sign(a, request);
}

SigningRequest BuildPipeline::SigningRequestFor(const Attempt& a) const {
  const BuildRecord& b = a.build;
  SigningRequest request(b.git_sha, *a.result.digest);
  request.repository = b.repository;
  request.source_url = b.source_url;
  request.branch = b.branch;
  request.dockerfile = b.dockerfile;
  request.build_id = b.build_id;
  request.started_on = a.started;
  request.finished_on = absl::Now();
  if (a.built) {
    request.base_images = a.built->base_images;
  } else if (a.recorded) {
    // Reused: the provenance of the build that published it.
    request.base_images = a.recorded->base_images;
  }
  if (!options_.sbom_path.empty()) {
    if (a.checkout_dir.empty()) {
      a.log.Add(absl::StrCat(
          "[shapin] no SBOM attestation: ", options_.sbom_path,
          " is only read from the checkout of the attempt that builds"));
    } else {
      request.sbom_file =
          (std::filesystem::path(a.checkout_dir) / options_.sbom_path).string();
    }
  }
  return request;
}

void BuildPipeline::Sign(Attempt& a, const SigningRequest& request) {
  const BuildRecord& b = a.build;
  BuildResult& r = a.result;
  a.Phase(store_, "signing");
  absl::StatusOr<SignedArtifacts> signed_artifacts =
      options_.signer->SignAndAttest(request);
  if (signed_artifacts.ok()) {
    r.signature_status = "signed";
    r.provenance_ref = signed_artifacts->provenance_ref;
    r.sbom_ref = signed_artifacts->sbom_ref;
    a.log.Add(absl::StrCat("[shapin] signed ", b.repository, "@",
                           r.digest->str(), "; provenance ", r.provenance_ref));
    if (!r.sbom_ref.empty()) {
      a.log.Add(absl::StrCat("[shapin] sbom ", options_.sbom_path,
                             " attested as ", r.sbom_ref));
    }
  } else {
    // Published and tagged already: the build succeeds, the failure is
    // recorded where operators look (docs/build.md, "Signing").
    r.signature_status = "failed";
    const std::string message =
        absl::StrCat("signing ", PinnedRef(b, *r.digest),
                     " failed: ", signed_artifacts.status().message());
    a.log.Add(absl::StrCat("[shapin] ", message));
    LogError("signing_failed",
             {{"build_id", b.build_id},
              {"image_ref", PinnedRef(b, *r.digest)},
              {"error", signed_artifacts.status().message()}});
    absl::Status recorded = store_.RecordEvent({.kind = "signing_failed",
                                                .severity = "error",
                                                .build_id = b.build_id,
                                                .git_sha = b.git_sha.str(),
                                                .repository = b.repository,
                                                .message = message});
    if (!recorded.ok()) {
      LogError("event_not_recorded", {{"error", recorded.message()}});
    }
  }
  metrics_.CountSigning(r.signature_status);
  if (r.image) {
    r.image->signature_status = r.signature_status;
    r.image->provenance_ref = r.provenance_ref;
    r.image->sbom_ref = r.sbom_ref;
  }
}

absl::Status BuildPipeline::PublishOrCompare(Attempt& a,
                                             const BuiltImage& built,
                                             ImageStream* stream) {
  const BuildRecord& b = a.build;
  BuildResult& r = a.result;
  // A streamed image is in the repository by digest already: read it back
  // and verify it (its size and base images come with it).
  std::optional<Digest> streamed;
  if (stream != nullptr) {
    absl::StatusOr<StreamedImage> image = stream->Finish(built.manifest_digest);
    SHAPIN_RETURN_IF_ERROR(AsPushFailure(image.status(), "push"));
    streamed = image->digest;
    a.built->size_bytes = image->size_bytes;
    a.built->base_images = image->base_images;
  }
  absl::StatusOr<std::optional<Digest>> tag =
      publisher_.ResolveTag(b.repository, b.git_sha.str());
  SHAPIN_RETURN_IF_ERROR(AsPushFailure(tag.status(), "registry"));
  SHAPIN_ASSIGN_OR_RETURN(
      AfterBuild after,
      DecideAfterBuild(*tag, a.RecordedDigest(), built.manifest_digest));
  if (after.action == AfterBuild::kReproduced) {
    a.log.Add(a.recorded ? "[shapin] rebuilt digest equals the published one: "
                           "reproduced"
                         : "[shapin] the unrecorded tag holds exactly what "
                           "this commit builds to: reproduced, recorded");
    SHAPIN_RETURN_IF_ERROR(EnsureTags(a, built.manifest_digest));
    r.outcome = BuildOutcome::kReproduced;
    r.digest = built.manifest_digest;
    r.post_push_digest = **tag;
    r.digest_verification = "ok";
    r.image = a.Image(built.manifest_digest);
    return RecordPublication(a);
  }

  a.Phase(store_, "pushing");
  const absl::Time push_start = absl::Now() - built.push_time;
  absl::StatusOr<Digest> served =
      streamed.has_value()
          ? *streamed
          : publisher_.PushByDigest(built.oci_layout_dir, b.repository);
  SHAPIN_RETURN_IF_ERROR(AsPushFailure(served.status(), "push"));
  a.Phase(store_, "verifying");
  r.post_push_digest = *served;
  r.digest_verification = *served == built.manifest_digest ? "ok" : "mismatch";
  if (*served != built.manifest_digest) {
    return ShapinError(
        ErrorCode::kDigestMismatch,
        absl::StrCat("the registry serves ", served->str(),
                     " for the image "
                     "built as ",
                     built.manifest_digest.str(), "; no tag was written"));
  }
  a.Phase(store_, "tagging");
  SHAPIN_RETURN_IF_ERROR(EnsureTags(a, *served));
  const double push_seconds = absl::ToDoubleSeconds(absl::Now() - push_start);
  r.push_duration_seconds = push_seconds;
  metrics_.ObservePush(RepositoryTypeName(b.repository_type), push_seconds);
  r.outcome = BuildOutcome::kPublished;
  r.digest = *served;
  r.image = a.Image(*served);
  return RecordPublication(a);
}

absl::Status BuildPipeline::RecordPublication(Attempt& a) {
  // Recorded as soon as the tags are out, so the image is known even if
  // this process dies now; signing fills in the signature fields.
  ImageRecord image = *a.result.image;
  image.signature_status = options_.signer == nullptr ? "unsigned" : "pending";
  return UnderLease(a, [&] {
    absl::Status s =
        store_.RecordPublication(a.build.build_id, a.build.lease_token, image);
    if (absl::IsAlreadyExists(s)) {
      return ShapinError(ErrorCode::kDigestMismatch, s.message());
    }
    return s;
  });
}

absl::Status BuildPipeline::UnderLease(
    Attempt& a, absl::FunctionRef<absl::Status()> write) {
  absl::Status s;
  absl::Duration backoff = kLeaseWriteBackoff;
  for (int attempt = 1; attempt <= kLeaseWriteAttempts; ++attempt) {
    s = write();
    if (!absl::IsUnavailable(s) || attempt == kLeaseWriteAttempts) break;
    absl::SleepFor(backoff);
    backoff *= 2;
  }
  if (absl::IsFailedPrecondition(s)) {
    a.lease_lost = true;
    a.log.Add(absl::StrCat("[shapin] stopped: ", s.message()));
  } else if (absl::IsUnavailable(s)) {
    return absl::UnavailableError(absl::StrCat(
        "cannot confirm the build's lease before writing: ", s.message(),
        "; nothing more was written"));
  }
  return s;
}

absl::Status BuildPipeline::EnsureTags(Attempt& a, const Digest& digest) {
  const BuildRecord& b = a.build;
  for (const std::string& tag : ShaTags(b.git_sha)) {
    absl::StatusOr<std::optional<Digest>> current =
        publisher_.ResolveTag(b.repository, tag);
    SHAPIN_RETURN_IF_ERROR(AsPushFailure(current.status(), "registry"));
    if (current->has_value()) {
      if (**current != digest) {
        return ShapinError(
            ErrorCode::kDigestMismatch,
            absl::StrCat("tag ", b.repository, ":", tag, " points at ",
                         (*current)->str(), ", expected ", digest.str(),
                         "; it is left unchanged"));
      }
      continue;
    }
    // Fencing: the lease is still this attempt's, renewed for a whole
    // lease, right before the write.
    SHAPIN_RETURN_IF_ERROR(UnderLease(a, [&] {
      return store_.ConfirmLease(b.build_id, b.lease_token, options_.lease);
    }));
    absl::StatusOr<Digest> written = publisher_.Tag(b.repository, digest, tag);
    SHAPIN_RETURN_IF_ERROR(AsPushFailure(written.status(), "tag"));
    // Re-read after writing: a tag is only trusted once it is seen.
    if (*written != digest) {
      return ShapinError(
          ErrorCode::kDigestMismatch,
          absl::StrCat("tag ", b.repository, ":", tag, " reads back as ",
                       written->str(), " after being set to ", digest.str()));
    }
    a.log.Add(absl::StrCat("[shapin] tagged ", b.repository, ":", tag));
  }
  return absl::OkStatus();
}

void BuildPipeline::Escalate(const Attempt& a, const absl::Status& mismatch) {
  const BuildRecord& b = a.build;
  metrics_.CountDigestMismatch("build");
  LogError("digest_mismatch", {{"phase", "build"},
                               {"build_id", b.build_id},
                               {"repository", b.repository},
                               {"git_sha", b.git_sha.str()},
                               {"error", mismatch.message()}});
  absl::Status recorded =
      store_.RecordEvent({.kind = "digest_mismatch",
                          .severity = "error",
                          .build_id = b.build_id,
                          .git_sha = b.git_sha.str(),
                          .repository = b.repository,
                          .message = std::string(mismatch.message())});
  if (!recorded.ok()) {
    LogError("escalation_not_recorded", {{"error", recorded.message()}});
  }
}

}  // namespace shapin::build
