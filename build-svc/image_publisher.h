// ImagePublisher: what the build pipeline needs of a registry.
//
// Three steps, so the pipeline can check between them: push by digest (no
// tag yet), compare what the registry serves with what was built, and only
// then point tags at it. The implementation over the project's registry
// client is adapters/registry_image_publisher.h.
#ifndef SHAPIN_BUILD_SVC_IMAGE_PUBLISHER_H_
#define SHAPIN_BUILD_SVC_IMAGE_PUBLISHER_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"

namespace shapin::build {

class ImagePublisher {
 public:
  virtual ~ImagePublisher() = default;

  // What `repository:tag` points at; unset when the tag does not exist.
  // UNAVAILABLE (and other errors) when the registry cannot say.
  virtual absl::StatusOr<std::optional<Digest>> ResolveTag(
      const std::string& repository, absl::string_view tag) = 0;

  // Uploads the OCI layout's blobs and manifest to `repository` by digest
  // (no tag), then re-reads the manifest; returns the digest the registry
  // serves for it.
  virtual absl::StatusOr<Digest> PushByDigest(
      const std::string& layout_dir, const std::string& repository) = 0;

  // Points `tag` at `digest` (already in `repository`) and re-reads the tag;
  // returns the digest it resolves to afterwards.
  virtual absl::StatusOr<Digest> Tag(const std::string& repository,
                                     const Digest& digest,
                                     absl::string_view tag) = 0;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_IMAGE_PUBLISHER_H_
