#include "common/tag_lookup.h"

#include "common/image_ref.h"
#include "common/status_macros.h"

namespace shapin {

absl::StatusOr<std::optional<Digest>> LookUpTag(
    registry::RegistryClient& client, const std::string& repository,
    absl::string_view tag) {
  SHAPIN_ASSIGN_OR_RETURN(ImageRef repo, ImageRef::Parse(repository));
  SHAPIN_ASSIGN_OR_RETURN(ImageRef ref, repo.with_tag(tag));
  absl::StatusOr<Digest> digest = client.Resolve(ref);
  if (absl::IsNotFound(digest.status())) return std::optional<Digest>();
  if (!digest.ok()) return digest.status();
  return std::optional<Digest>(*digest);
}

}  // namespace shapin
