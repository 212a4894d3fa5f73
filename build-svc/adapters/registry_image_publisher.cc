#include "build-svc/adapters/registry_image_publisher.h"

#include "build-svc/adapters/registry_relay.h"
#include "common/image_ref.h"
#include "common/status_macros.h"
#include "common/tag_lookup.h"

namespace shapin::build {

absl::StatusOr<std::optional<Digest>> RegistryImagePublisher::ResolveTag(
    const std::string& repository, absl::string_view tag) {
  return LookUpTag(client_, repository, tag);
}

absl::StatusOr<Digest> RegistryImagePublisher::PushByDigest(
    const std::string& layout_dir, const std::string& repository) {
  SHAPIN_ASSIGN_OR_RETURN(ImageRef repo, ImageRef::Parse(repository));
  SHAPIN_ASSIGN_OR_RETURN(registry::PushResult pushed,
                          client_.PushOciLayout(layout_dir, repo, {}));
  return pushed.digest;
}

absl::StatusOr<std::unique_ptr<ImageStream>> RegistryImagePublisher::OpenStream(
    const std::string& repository) {
  SHAPIN_ASSIGN_OR_RETURN(ImageRef repo, ImageRef::Parse(repository));
  SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<RegistryRelay> relay,
                          RegistryRelay::Start(client_, repo));
  return std::unique_ptr<ImageStream>(std::move(relay));
}

absl::StatusOr<Digest> RegistryImagePublisher::Tag(
    const std::string& repository, const Digest& digest,
    absl::string_view tag) {
  SHAPIN_ASSIGN_OR_RETURN(ImageRef repo, ImageRef::Parse(repository));
  // The exact bytes already served by digest go under the tag, so the tag
  // cannot name anything else.
  SHAPIN_ASSIGN_OR_RETURN(registry::Manifest manifest,
                          client_.GetManifest(repo.with_digest(digest)));
  SHAPIN_RETURN_IF_ERROR(
      client_.PutManifest(repo, tag, manifest.media_type, manifest.bytes)
          .status());
  SHAPIN_ASSIGN_OR_RETURN(ImageRef tagged, repo.with_tag(tag));
  return client_.Resolve(tagged);
}

}  // namespace shapin::build
