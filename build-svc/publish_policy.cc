#include "build-svc/publish_policy.h"

#include "absl/strings/str_cat.h"
#include "common/error_code.h"

namespace shapin::build {

absl::StatusOr<BeforeBuild> DecideBeforeBuild(
    const std::optional<Digest>& tag_digest,
    const std::optional<Digest>& recorded_digest, bool rebuild) {
  if (tag_digest && recorded_digest && *tag_digest != *recorded_digest) {
    return ShapinError(
        ErrorCode::kDigestMismatch,
        absl::StrCat("the SHA tag points at ", tag_digest->str(),
                     " but build-svc recorded ", recorded_digest->str(),
                     "; the tag was changed out of band, nothing is "
                     "overwritten"));
  }
  if (tag_digest && !rebuild) {
    return BeforeBuild{BeforeBuild::kReuse, tag_digest};
  }
  return BeforeBuild{BeforeBuild::kBuild, std::nullopt};
}

absl::StatusOr<AfterBuild> DecideAfterBuild(
    const std::optional<Digest>& tag_digest, const Digest& built_digest) {
  if (!tag_digest) return AfterBuild{AfterBuild::kPublish};
  if (*tag_digest == built_digest) return AfterBuild{AfterBuild::kReproduced};
  return ShapinError(
      ErrorCode::kDigestMismatch,
      absl::StrCat("rebuilt digest ", built_digest.str(),
                   " differs from the published tag's ", tag_digest->str(),
                   "; the published tag is left unchanged"));
}

}  // namespace shapin::build
