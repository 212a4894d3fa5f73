// BuildStore: where build-svc keeps builds, their queue, logs and images.
//
// Builds are rows; a worker claims one with a lease it keeps renewing, so
// several build-svc processes on several machines share one queue, and a
// build whose worker died is noticed (ReapExpired) instead of staying
// RUNNING forever. Speaks domain types only; the PostgreSQL implementation
// lives in adapters/postgres_build_store.h.
//
// Errors: NOT_FOUND for a missing build or image, UNAVAILABLE when the
// database cannot be reached (retry the call), FAILED_PRECONDITION when a
// worker no longer holds the lease it acts under.
#ifndef SHAPIN_BUILD_SVC_BUILD_STORE_H_
#define SHAPIN_BUILD_SVC_BUILD_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "build-svc/build_record.h"
#include "common/pagination.h"

namespace shapin::build {

struct BuildFilter {
  std::optional<GitSha> git_sha = std::nullopt;
  std::string branch = "";  // empty = any
};

// What SubmitBuild records.
struct NewBuild {
  explicit NewBuild(GitSha sha) : git_sha(std::move(sha)) {}
  GitSha git_sha;
  std::string branch;
  std::string source_url;
  std::string dockerfile;
  std::string context;
  bool rebuild = false;
  std::string repository;
  RepositoryType repository_type = RepositoryType::kStaging;
  std::string requested_by;
};

// How a claimed build ended. The image is recorded in the same transaction
// as the state, so a SUCCEEDED build always has its image row.
struct BuildResult {
  int64_t build_id = 0;
  BuildState state = BuildState::kFailed;  // succeeded, failed or canceled
  std::optional<BuildOutcome> outcome;
  std::string error_code;
  std::string error_message;
  std::optional<Digest> digest;
  std::optional<Digest> pre_push_digest;
  std::optional<Digest> post_push_digest;
  std::string digest_verification;
  std::optional<double> build_duration_seconds;
  std::optional<double> push_duration_seconds;
  std::string log_tail;
  // Supply chain, for every succeeded build: "signed" (signed now, or found
  // signed in the registry), "failed" (see the signing_failed event) or
  // "unsigned" (no key configured, or an adopted image); a reuse without a
  // key reports the image's record. Written to the build row; the image
  // row (recorded at tagging, "pending" until signed) gets the non-empty
  // ones with the refs.
  std::string signature_status;
  std::string provenance_ref;
  std::string sbom_ref;
  std::optional<ImageRecord> image;
};

struct BuildEventRecord {
  std::string kind;      // "digest_mismatch", "signing_failed", …
  std::string severity;  // "info" | "warning" | "error"
  std::optional<int64_t> build_id;
  std::string git_sha;
  std::string repository;
  std::string message;
};

struct LogLine {
  int seq;
  std::string text;
};

class BuildStore {
 public:
  virtual ~BuildStore() = default;

  // --- reads ---------------------------------------------------------------
  // Newest first.
  virtual absl::StatusOr<Page<BuildRecord>> ListBuilds(
      const BuildFilter& filter, const PageRequest& page) = 0;
  virtual absl::StatusOr<BuildRecord> GetBuild(int64_t build_id) = 0;
  // The image published for `sha` in the repository of that type.
  virtual absl::StatusOr<ImageRecord> GetImage(const GitSha& sha,
                                               RepositoryType type) = 0;
  // The image recorded for `sha` in `repository`, if any.
  virtual absl::StatusOr<std::optional<ImageRecord>> RecordedImage(
      const std::string& repository, const GitSha& sha) = 0;
  // Log lines with seq > after_seq, in order, at most `limit`.
  virtual absl::StatusOr<std::vector<LogLine>> LogsSince(int64_t build_id,
                                                         int after_seq,
                                                         int limit) = 0;
  // Builds waiting in the queue (for the queue-depth gauge).
  virtual absl::StatusOr<int64_t> QueueDepth() = 0;

  // --- the queue -----------------------------------------------------------
  virtual absl::StatusOr<BuildRecord> Enqueue(const NewBuild& build) = 0;
  // Claims the oldest queued build whose (repository, SHA) has no build
  // running, marks it RUNNING under `worker` until now + lease, with a new
  // lease_token. Unset when there is nothing to claim. At most one build of
  // a (repository, SHA) runs at a time, across every process: that build's
  // lease is the publish lock of its SHA tags, and the second build finds
  // the first's tag and is reused without building.
  virtual absl::StatusOr<std::optional<BuildRecord>> Claim(
      const std::string& worker, absl::Duration lease) = 0;
  // The fencing check before a registry write: OK when `lease_token` is
  // still the build's current claim (the lease is then renewed to now +
  // lease), FAILED_PRECONDITION when the build was released or claimed
  // again meanwhile. The lease is a row, so a database restart does not end
  // it (a session lock would die with the session, silently).
  virtual absl::Status ConfirmLease(int64_t build_id, int64_t lease_token,
                                    absl::Duration lease) = 0;
  // Records `image` as the commit's image right after its tags are written,
  // under the same fencing check (FAILED_PRECONDITION when the lease is
  // gone). ALREADY_EXISTS when (repository, sha) is recorded with another
  // digest; the same digest is fine.
  virtual absl::Status RecordPublication(int64_t build_id, int64_t lease_token,
                                         const ImageRecord& image) = 0;
  // Extends the lease. Returns whether a cancel was requested.
  // FAILED_PRECONDITION when `worker` no longer holds the build.
  virtual absl::StatusOr<bool> Heartbeat(int64_t build_id,
                                         const std::string& worker,
                                         absl::Duration lease) = 0;
  virtual absl::Status SetPhase(int64_t build_id, const std::string& worker,
                                absl::string_view phase) = 0;
  // Appends lines (numbered after the last stored) and replaces log_tail.
  virtual absl::Status AppendLog(int64_t build_id,
                                 const std::vector<std::string>& lines,
                                 absl::string_view tail) = 0;
  // Ends a build `worker` holds; FAILED_PRECONDITION when it lost the lease
  // (the result is then not recorded: whoever holds the build decides).
  // The image row is created, or (recorded already by RecordPublication)
  // gets the result's signature fields; ALREADY_EXISTS when it exists with
  // a different digest.
  virtual absl::Status Finish(const std::string& worker,
                              const BuildResult& result) = 0;
  // Running builds whose lease expired: back to QUEUED while they have had
  // fewer than `max_attempts` claims, FAILED with the reason otherwise.
  // Returns how many were touched.
  virtual absl::StatusOr<int> ReapExpired(int max_attempts) = 0;
  // `worker` is known to be dead (its process is gone): the leases of the
  // builds it was running end now, so the next ReapExpired requeues them
  // without waiting out the lease. Returns how many.
  virtual absl::StatusOr<int> EndLeasesOf(const std::string& worker) = 0;
  // A queued build is canceled at once; a running one is flagged (its
  // worker sees it on the next heartbeat). Terminal builds are returned
  // unchanged.
  virtual absl::StatusOr<BuildRecord> RequestCancel(
      int64_t build_id, const std::string& requested_by) = 0;

  virtual absl::Status RecordEvent(const BuildEventRecord& event) = 0;

  // Records `image` (repository, SHA, digest, platform) as adopted: an
  // operator vouches for a tag build-svc did not publish. In one
  // transaction with an `image_adopted` event (warning) naming who and why.
  // FAILED_PRECONDITION while a build of that SHA runs; ALREADY_EXISTS when
  // an image is recorded for it meanwhile. The caller checks the registry
  // first (CheckAdoption).
  virtual absl::Status AdoptImage(const ImageRecord& image,
                                  const std::string& adopted_by,
                                  const std::string& reason) = 0;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_STORE_H_
