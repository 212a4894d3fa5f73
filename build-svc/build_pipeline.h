// BuildPipeline: one claimed build, from commit to published image.
//
//   fetch exactly the commit → clean linux/amd64 build, streamed into the
//   repository by digest when the publisher offers a stream (else written as
//   a layout) → push the layout by digest, or verify what was streamed →
//   re-read and compare → tag full and short SHA → record the image → sign
//   and attest (when a signer is configured) → record the result
//
// with the reuse / rebuild / mismatch rules of publish_policy.h. The build's
// lease is the publish lock of its (repository, SHA): the queue runs at most
// one build of a SHA at a time (BuildStore::Claim), and before every tag
// write and the image record the pipeline checks the lease's fencing token
// (BuildStore::ConfirmLease). A run that finds its lease gone stops without
// writing and leaves the build to whoever holds it. Every other run yields
// a result, success or failure; a DIGEST_MISMATCH is also escalated (ERROR
// log line naming both digests, an event row, and
// shapin_digest_mismatch_total{phase="build"}).
//
// Signing comes after the tags and never changes them. The image row is
// recorded as soon as the tags are out, signature_status "pending" until
// signed; a build that reuses or reproduces an image build-svc built checks
// the registry for this key's signature and provenance and adds them when
// they are missing (an earlier attempt died between tagging and signing),
// so a crash cannot leave a published image unsigned for good. A signing
// failure does not fail the build — the image is already published under
// its immutable SHA tags, and failing would not unpublish it — but it is
// never silent: signature_status "failed" on the build and image rows, an
// ERROR log line, a signing_failed event, and
// shapin_image_signing_total{result="failed"}. deploy-svc then finds the
// image unverified (blocked in enforce mode).
#ifndef SHAPIN_BUILD_SVC_BUILD_PIPELINE_H_
#define SHAPIN_BUILD_SVC_BUILD_PIPELINE_H_

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "build-svc/build_log.h"
#include "build-svc/build_metrics.h"
#include "build-svc/build_store.h"
#include "build-svc/image_builder.h"
#include "build-svc/image_publisher.h"
#include "build-svc/image_signer.h"
#include "build-svc/source_fetcher.h"

namespace shapin::build {

struct PipelineOptions {
  // Workspaces go under here, one directory per build attempt, removed when
  // the attempt ends.
  std::string work_dir;
  absl::Duration timeout = absl::Minutes(30);
  // Registries base images may come from over plain HTTP.
  std::vector<std::string> insecure_registries;
  // Passed to every build besides GIT_SHA.
  std::vector<std::pair<std::string, std::string>> build_args;
  // The worker's lease (WorkerOptions::lease): a fencing check renews it
  // for this long before each tag write.
  absl::Duration lease = absl::Seconds(30);
  // Signs and attests each newly published image; null = signing off (the
  // build then records signature_status "unsigned"). Not owned.
  ImageSigner* signer = nullptr;
  // An SBOM inside the checkout (relative, e.g. "sbom.spdx.json") attested
  // with the provenance when the commit has it; empty = none.
  std::string sbom_path = "";
};

// Why a running build was stopped from outside.
enum class StopReason { kNone, kCanceled, kShutdown, kLeaseLost };

class BuildPipeline {
 public:
  // All references must outlive the pipeline.
  BuildPipeline(BuildStore& store, SourceFetcher& fetcher,
                ImageBuilder& builder, ImagePublisher& publisher,
                BuildMetrics& metrics, PipelineOptions options)
      : store_(store),
        fetcher_(fetcher),
        builder_(builder),
        publisher_(publisher),
        metrics_(metrics),
        options_(std::move(options)) {}

  // Runs `build` (claimed by `worker`) to its end and returns the result
  // for the worker to record (BuildStore::Finish). `stop` becomes true when
  // the build must stop; `stop_reason` says why (read after `stop`). A build
  // stopped for shutdown or a lost lease (seen by the worker's heartbeat or
  // by a fencing check) has no result (unset): it is left for the queue to
  // requeue once its lease runs out.
  std::optional<BuildResult> Run(const BuildRecord& build,
                                 const std::string& worker,
                                 const std::atomic<bool>& stop,
                                 const std::atomic<StopReason>& stop_reason,
                                 BuildLog& log);

 private:
  struct Attempt;
  absl::Status Execute(Attempt& attempt);
  // `stream`: what the build was pushed through, or null for a layout.
  absl::Status PublishOrCompare(Attempt& attempt, const BuiltImage& built,
                                ImageStream* stream);
  absl::Status EnsureTags(Attempt& attempt, const Digest& digest);
  // Runs a store write that needs the build's lease: retried while the
  // database is unreachable (a restart), FAILED_PRECONDITION marks the
  // attempt's lease lost.
  absl::Status UnderLease(Attempt& attempt,
                          absl::FunctionRef<absl::Status()> write);
  absl::Status RecordPublication(Attempt& attempt);
  // Publication and signing are one recoverable step: whatever this
  // attempt published, reproduced or reused leaves it signed (checked in
  // the registry first unless it was just pushed), except adopted images.
  void EnsureSigned(Attempt& attempt);
  SigningRequest SigningRequestFor(const Attempt& attempt) const;
  void Sign(Attempt& attempt, const SigningRequest& request);
  void Escalate(const Attempt& attempt, const absl::Status& mismatch);

  BuildStore& store_;
  SourceFetcher& fetcher_;
  ImageBuilder& builder_;
  ImagePublisher& publisher_;
  BuildMetrics& metrics_;
  const PipelineOptions options_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_PIPELINE_H_
