#include "build-svc/image_adoption.h"

#include "absl/strings/str_cat.h"
#include "build-svc/publish_policy.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace shapin::build {
namespace {

absl::StatusOr<std::optional<Digest>> Resolve(ImagePublisher& registry,
                                              const std::string& repository,
                                              absl::string_view tag) {
  absl::StatusOr<std::optional<Digest>> d =
      registry.ResolveTag(repository, tag);
  if (!d.ok()) {
    return absl::UnavailableError(absl::StrCat("registry: cannot resolve ",
                                               repository, ":", tag, ": ",
                                               d.status().message()));
  }
  return d;
}

}  // namespace

absl::StatusOr<ImageRecord> ImageAdoption::Adopt(const AdoptionRequest& r) {
  const std::string repository = r.type == RepositoryType::kCanonical
                                     ? repositories_.canonical_repository
                                     : repositories_.staging_repository;
  AdoptionFacts facts{.sha = r.sha,
                      .repository = repository,
                      .named = r.digest,
                      .tag = std::nullopt,
                      .short_tag = std::nullopt,
                      .recorded = std::nullopt};
  SHAPIN_ASSIGN_OR_RETURN(facts.tag,
                          Resolve(registry_, repository, r.sha.str()));
  SHAPIN_ASSIGN_OR_RETURN(facts.short_tag,
                          Resolve(registry_, repository, r.sha.short_sha()));
  SHAPIN_ASSIGN_OR_RETURN(std::optional<ImageRecord> recorded,
                          store_.RecordedImage(repository, r.sha));
  if (recorded) facts.recorded = recorded->digest;
  SHAPIN_RETURN_IF_ERROR(CheckAdoption(facts));

  ImageRecord image(r.sha, r.digest);
  image.repository = repository;
  image.repository_type = r.type;
  SHAPIN_RETURN_IF_ERROR(store_.AdoptImage(image, r.by, r.reason));
  LogWarning("image_adopted",
             {{"image_ref",
               absl::StrCat(repository, ":", r.sha.str(), "@", r.digest.str())},
              {"adopted_by", r.by},
              {"reason", r.reason}});
  SHAPIN_ASSIGN_OR_RETURN(std::optional<ImageRecord> adopted,
                          store_.RecordedImage(repository, r.sha));
  if (!adopted) return absl::InternalError("the adopted image vanished");
  return *std::move(adopted);
}

}  // namespace shapin::build
