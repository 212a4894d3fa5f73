// The rules a deployment must pass, as pure functions (no I/O): the
// deploy pipeline gathers the facts and asks these.
//
//   origin        only the canonical repository; staging-only →
//   POLICY_VIOLATION fail fast     no SHA tag → MISSING_TAG digest guard
//   registry digest ≠ recorded digest → DIGEST_MISMATCH hold          after a
//   rollback, Deploy of another SHA → ON_HOLD rollback      target from the
//   catalog; empty SHA = previous successful signature     soft: unverified
//   proceeds; a verifier error → VERIFY_TOOL_ERROR
#ifndef SHAPIN_DEPLOY_SVC_DEPLOY_POLICY_H_
#define SHAPIN_DEPLOY_SVC_DEPLOY_POLICY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/git_sha.h"

namespace shapin::deploy {

// What the canonical registry and the build records say about a SHA.
struct OriginFacts {
  std::optional<Digest> canonical_tag_digest = std::nullopt;  // unset: no tag
  std::optional<Digest> recorded_canonical_digest = std::nullopt;
  bool recorded_in_staging = false;
};

// The digest to deploy. MISSING_TAG when the canonical repository has no
// tag (POLICY_VIOLATION instead when the SHA was built to staging only);
// DIGEST_MISMATCH when the tag's digest differs from the recorded one.
absl::StatusOr<Digest> CheckOrigin(const GitSha& sha,
                                   const std::string& canonical_repository,
                                   const OriginFacts& facts);

struct HoldFacts {
  bool held = false;
  std::string rollback_deployment_id = "";
  std::string held_by = "";
  std::optional<GitSha> held_sha = std::nullopt;  // what the rollback deployed
};

// ON_HOLD when the environment is held and the deploy is of another SHA
// without override.
absl::Status CheckHold(const std::string& environment, const HoldFacts& hold,
                       const GitSha& sha, bool override_hold);

// Rollback target: `requested` when given, else the newest successful SHA
// other than `current`. `history` is successful SHAs newest first.
// FAILED_PRECONDITION when there is nothing to roll back to, or when the
// requested SHA is the one already running.
absl::StatusOr<GitSha> ChooseRollbackTarget(
    const std::string& environment, const std::optional<GitSha>& requested,
    const std::optional<GitSha>& current, const std::vector<GitSha>& history);

enum class SignatureMode { kSoft, kEnforce };

struct SignatureVerdict {
  bool verified = false;
  // verified, no_signature, not_configured, key_mismatch, digest_mismatch,
  // untrusted_identity, invalid_bundle, …
  std::string reason = "";
  std::string provenance_status = "";
};

// The deploy's view of a verifier's answer: a verifier error (no
// determinable result) is VERIFY_TOOL_ERROR; unverified proceeds in soft
// mode and is POLICY_VIOLATION in enforce mode.
absl::StatusOr<SignatureVerdict> ApplySignaturePolicy(
    const absl::StatusOr<SignatureVerdict>& verdict, SignatureMode mode);

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_DEPLOY_POLICY_H_
