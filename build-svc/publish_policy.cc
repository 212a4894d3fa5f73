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
  if (tag_digest && recorded_digest && !rebuild) {
    return BeforeBuild{BeforeBuild::kReuse, tag_digest};
  }
  return BeforeBuild{BeforeBuild::kBuild, std::nullopt,
                     tag_digest.has_value() && !recorded_digest.has_value()};
}

absl::StatusOr<AfterBuild> DecideAfterBuild(
    const std::optional<Digest>& tag_digest,
    const std::optional<Digest>& recorded_digest, const Digest& built_digest) {
  if (!tag_digest) return AfterBuild{AfterBuild::kPublish};
  if (*tag_digest == built_digest) return AfterBuild{AfterBuild::kReproduced};
  if (!recorded_digest) {
    return ShapinError(
        ErrorCode::kDigestMismatch,
        absl::StrCat("the SHA tag points at ", tag_digest->str(),
                     ", which build-svc never published or recorded; this "
                     "build of the commit is ",
                     built_digest.str(),
                     ". The tag is left unchanged. If its image is trusted, "
                     "an operator can adopt it (AdoptImage, `shapin image "
                     "adopt`)"));
  }
  return ShapinError(
      ErrorCode::kDigestMismatch,
      absl::StrCat("rebuilt digest ", built_digest.str(),
                   " differs from the published tag's ", tag_digest->str(),
                   "; the published tag is left unchanged"));
}

absl::Status CheckAdoption(const AdoptionFacts& f) {
  const std::string ref = absl::StrCat(f.repository, ":", f.sha.str());
  if (!f.tag) {
    return ShapinError(ErrorCode::kMissingTag,
                       absl::StrCat("no tag ", ref, ": nothing to adopt"));
  }
  if (*f.tag != f.named) {
    return absl::FailedPreconditionError(
        absl::StrCat(ref, " points at ", f.tag->str(), ", not at ",
                     f.named.str(), " as named; inspect the tag again"));
  }
  if (f.short_tag && *f.short_tag != f.named) {
    return absl::FailedPreconditionError(
        absl::StrCat(f.repository, ":", f.sha.short_sha(), " points at ",
                     f.short_tag->str(), ", not at ", f.named.str(),
                     "; the two SHA tags disagree, nothing is adopted"));
  }
  if (f.recorded && *f.recorded == f.named) {
    return absl::AlreadyExistsError(absl::StrCat(
        ref, " is already recorded as ", f.named.str(), "; nothing to adopt"));
  }
  if (f.recorded) {
    return absl::FailedPreconditionError(
        absl::StrCat("build-svc recorded ", f.recorded->str(), " for ", ref,
                     "; only an unrecorded tag can be adopted"));
  }
  return absl::OkStatus();
}

}  // namespace shapin::build
