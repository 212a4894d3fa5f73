// The build-svc domain: one build of one commit, and the image it published.
//
// These are what the store reads and writes and what the rules reason about;
// the gRPC edge converts them to and from shapin.v1 messages.
#ifndef SHAPIN_BUILD_SVC_BUILD_RECORD_H_
#define SHAPIN_BUILD_SVC_BUILD_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "build-svc/image_builder.h"
#include "common/digest.h"
#include "common/git_sha.h"
#include "common/repository_type.h"

namespace shapin::build {

enum class BuildState { kQueued, kRunning, kSucceeded, kFailed, kCanceled };
enum class BuildOutcome { kPublished, kReused, kReproduced };

// Database spelling: "queued", "running", …; "published", "reused", ….
absl::string_view BuildStateName(BuildState state);
std::optional<BuildState> ParseBuildState(absl::string_view name);
absl::string_view BuildOutcomeName(BuildOutcome outcome);
std::optional<BuildOutcome> ParseBuildOutcome(absl::string_view name);

struct BuildRecord {
  explicit BuildRecord(GitSha sha) : git_sha(std::move(sha)) {}

  int64_t build_id = 0;
  GitSha git_sha;
  std::string branch;
  std::string source_url;
  std::string dockerfile;
  std::string context;
  bool rebuild = false;
  std::string repository;  // registry/name
  RepositoryType repository_type = RepositoryType::kStaging;
  BuildState state = BuildState::kQueued;
  // Pipeline step: queued, fetching, building, pushing, verifying, tagging,
  // signing (only with a signing key), done.
  std::string phase = "queued";
  std::optional<BuildOutcome> outcome;
  std::string error_code;
  std::string error_message;
  std::optional<Digest> digest;
  std::optional<Digest> pre_push_digest;
  std::optional<Digest> post_push_digest;
  std::string digest_verification;  // "", "ok" or "mismatch"
  std::string platform = "linux/amd64";
  // "signed" | "failed" | "unsigned" once the build succeeded (build_store.h
  // BuildResult); empty before and for failed builds.
  std::string signature_status;
  std::string provenance_ref;  // "repo@sha256:…" of the provenance envelope
  std::string sbom_ref;        // same for the SBOM attestation, or empty
  std::string log_tail;
  std::string requested_by;
  absl::Time created_at;
  std::optional<absl::Time> started_at;
  std::optional<absl::Time> finished_at;
  std::optional<double> build_duration_seconds;
  std::optional<double> push_duration_seconds;
  // Fencing token of the current claim (0 when not running): new at every
  // claim, so a worker whose lease was lost — and the build claimed again —
  // can no longer act on it (BuildStore::ConfirmLease).
  int64_t lease_token = 0;
};

inline constexpr absl::string_view kImageBuilt = "built";
inline constexpr absl::string_view kImageAdopted = "adopted";

struct ImageRecord {
  ImageRecord(GitSha sha, Digest d)
      : git_sha(std::move(sha)), digest(std::move(d)) {}

  std::string repository;
  RepositoryType repository_type = RepositoryType::kCanonical;
  GitSha git_sha;
  Digest digest;
  std::optional<int64_t> size_bytes;
  std::string platform;
  std::string branch;
  std::optional<int64_t> build_id;
  absl::Time built_at;
  std::optional<absl::Time> commit_time;
  std::string signature_status;
  std::string provenance_ref;
  std::string sbom_ref;
  // kImageBuilt (build-svc built and published it) or kImageAdopted (an
  // operator vouched for a tag build-svc did not publish).
  std::string origin = std::string(kImageBuilt);
  // What its build resolved its base images to: a signature completed by a
  // later attempt (after a crash) attests the same provenance.
  std::vector<BaseImage> base_images;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_RECORD_H_
