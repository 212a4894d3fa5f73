// The reuse / rebuild / mismatch rules for a SHA tag (FR-009, and the spec's
// "never overwrite or delete an existing SHA tag").
//
// Pure rules: the pipeline gathers the facts (what the registry's tag points
// at, what was recorded, what was built) and asks these functions what to do.
//
//   BeforeBuild before = DecideBeforeBuild(tag_digest, recorded, rebuild);
//   if (before.action == BeforeBuild::kReuse) …
//   absl::StatusOr<AfterBuild> after = DecideAfterBuild(tag_digest, built);
#ifndef SHAPIN_BUILD_SVC_PUBLISH_POLICY_H_
#define SHAPIN_BUILD_SVC_PUBLISH_POLICY_H_

#include <optional>

#include "absl/status/statusor.h"
#include "common/digest.h"

namespace shapin::build {

struct BeforeBuild {
  enum Action {
    // The tag exists with the recorded digest (or none was recorded): done,
    // nothing is built.
    kReuse,
    // Build, then compare with the existing tag (DecideAfterBuild).
    kBuild,
  };
  Action action;
  // What a reused image is (the tag's digest).
  std::optional<Digest> reuse_digest;
};

// `tag_digest`: what the registry's full-SHA tag points at (unset: no tag).
// `recorded_digest`: what build-svc recorded for this repository and SHA.
// DIGEST_MISMATCH when the tag exists but points elsewhere than recorded:
// someone pushed over it out of band, and reusing it would launder that.
absl::StatusOr<BeforeBuild> DecideBeforeBuild(
    const std::optional<Digest>& tag_digest,
    const std::optional<Digest>& recorded_digest, bool rebuild);

struct AfterBuild {
  enum Action {
    kPublish,     // no tag yet: push and tag
    kReproduced,  // tag exists with exactly what we built: nothing to write
  };
  Action action;
};

// `tag_digest` as re-read under the publish lock, after the build.
// DIGEST_MISMATCH when the tag exists with a different digest: the build is
// not reproducible or the tag was tampered with; nothing is overwritten.
absl::StatusOr<AfterBuild> DecideAfterBuild(
    const std::optional<Digest>& tag_digest, const Digest& built_digest);

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_PUBLISH_POLICY_H_
