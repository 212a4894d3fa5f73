// The reuse / rebuild / mismatch rules for a SHA tag (FR-009, and the spec's
// "never overwrite or delete an existing SHA tag"), and what an operator's
// adoption of a tag build-svc did not publish must find.
//
// Pure rules: the pipeline gathers the facts (what the registry's tag points
// at, what was recorded, what was built) and asks these functions what to do.
//
//   BeforeBuild before = DecideBeforeBuild(tag_digest, recorded, rebuild);
//   if (before.action == BeforeBuild::kReuse) …
//   absl::StatusOr<AfterBuild> after =
//       DecideAfterBuild(tag_digest, recorded, built);
//
// Only a recorded digest is trusted. A SHA tag build-svc has no record of
// (pushed before its first build, by another tool or person) is verified by
// building the commit: the same digest is recorded, another is a
// DIGEST_MISMATCH. Trusting it anyway is an operator's explicit act
// (CheckAdoption, the AdoptImage RPC), never a default.
#ifndef SHAPIN_BUILD_SVC_PUBLISH_POLICY_H_
#define SHAPIN_BUILD_SVC_PUBLISH_POLICY_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/git_sha.h"

namespace shapin::build {

struct BeforeBuild {
  enum Action {
    // The tag exists with the recorded digest: done, nothing is built.
    kReuse,
    // Build, then compare with the existing tag (DecideAfterBuild).
    kBuild,
  };
  Action action;
  // What a reused image is (the tag's digest).
  std::optional<Digest> reuse_digest;
  // The tag exists but nothing is recorded for it: the build verifies it.
  bool verifies_unrecorded_tag = false;
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

// `tag_digest` as re-read after the build, `recorded_digest` as before.
// DIGEST_MISMATCH when the tag exists with a different digest: the build is
// not reproducible, the tag was tampered with, or (nothing recorded) it was
// never build-svc's; nothing is overwritten.
absl::StatusOr<AfterBuild> DecideAfterBuild(
    const std::optional<Digest>& tag_digest,
    const std::optional<Digest>& recorded_digest, const Digest& built_digest);

// What an adoption names and what the registry and the record say.
struct AdoptionFacts {
  GitSha sha;
  std::string repository;
  Digest named;                     // the digest the operator inspected
  std::optional<Digest> tag;        // full-SHA tag
  std::optional<Digest> short_tag;  // 12-character tag
  std::optional<Digest> recorded;   // build-svc's record
};

// OK when the full-SHA tag points at exactly the named digest, the short tag
// is absent or agrees, and nothing is recorded. Otherwise MISSING_TAG (no
// tag), FAILED_PRECONDITION (the tag points elsewhere than named, the short
// tag disagrees, or another digest is recorded) or ALREADY_EXISTS (already
// recorded with that digest), each naming the digests.
absl::Status CheckAdoption(const AdoptionFacts& facts);

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_PUBLISH_POLICY_H_
