#include "deploy-svc/deploy_policy.h"

#include "absl/strings/str_cat.h"
#include "common/error_code.h"

namespace shapin::deploy {

absl::StatusOr<Digest> CheckOrigin(const GitSha& sha,
                                   const std::string& canonical_repository,
                                   const OriginFacts& facts) {
  if (!facts.canonical_tag_digest) {
    if (facts.recorded_in_staging && !facts.recorded_canonical_digest) {
      return ShapinError(
          ErrorCode::kPolicyViolation,
          absl::StrCat(sha.str(),
                       " was built from a non-protected branch and exists "
                       "only in the staging repository; only images in ",
                       canonical_repository, " can be deployed"));
    }
    return ShapinError(
        ErrorCode::kMissingTag,
        absl::StrCat("no tag ", sha.str(), " in ", canonical_repository,
                     " (was the build skipped or did it fail?)"));
  }
  const Digest& served = *facts.canonical_tag_digest;
  if (facts.recorded_canonical_digest &&
      *facts.recorded_canonical_digest != served) {
    return ShapinError(
        ErrorCode::kDigestMismatch,
        absl::StrCat(canonical_repository, ":", sha.str(), " resolves to ",
                     served.str(), " but build-svc recorded ",
                     facts.recorded_canonical_digest->str(),
                     "; nothing was applied"));
  }
  return served;
}

absl::Status CheckHold(const std::string& environment, const HoldFacts& hold,
                       const GitSha& sha, bool override_hold) {
  if (!hold.held || override_hold) return absl::OkStatus();
  if (hold.held_sha && *hold.held_sha == sha) return absl::OkStatus();
  return ShapinError(
      ErrorCode::kOnHold,
      absl::StrCat(
          "environment ", environment, " is held after rollback deployment ",
          hold.rollback_deployment_id,
          hold.held_by.empty() ? "" : absl::StrCat(" by ", hold.held_by),
          "; ReleaseHold first, or deploy with override_hold"));
}

absl::StatusOr<GitSha> ChooseRollbackTarget(
    const std::string& environment, const std::optional<GitSha>& requested,
    const std::optional<GitSha>& current, const std::vector<GitSha>& history) {
  if (requested) {
    if (current && *requested == *current) {
      return absl::FailedPreconditionError(
          absl::StrCat("image_sha: ", requested->str(),
                       " is already running in ", environment));
    }
    return *requested;
  }
  for (const GitSha& sha : history) {
    if (!current || sha != *current) return sha;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("environment ", environment,
                   " has no earlier successful deployment to roll back to"));
}

absl::StatusOr<SignatureVerdict> ApplySignaturePolicy(
    const absl::StatusOr<SignatureVerdict>& verdict, SignatureMode mode) {
  if (!verdict.ok()) {
    return ShapinError(ErrorCode::kVerifyToolError,
                       absl::StrCat("signature verification could not reach "
                                    "a result: ",
                                    verdict.status().message()));
  }
  if (!verdict->verified && mode == SignatureMode::kEnforce) {
    return ShapinError(
        ErrorCode::kPolicyViolation,
        absl::StrCat("signature_status=unverified reason=", verdict->reason,
                     " and signature mode is enforce"));
  }
  return verdict;
}

}  // namespace shapin::deploy
