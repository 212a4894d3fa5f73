// ImagePublisher: what the build pipeline needs of a registry.
//
// Three steps, so the pipeline can check between them: push by digest (no
// tag yet), compare what the registry serves with what was built, and only
// then point tags at it. The implementation over the project's registry
// client is adapters/registry_image_publisher.h.
//
// A publisher may also offer a stream: a push destination for the builder
// through which the image goes into the repository by digest while it is
// being compressed (adapters/registry_relay.h), so that it is written once
// and never as a layout on disk. Tags stay a separate step either way.
#ifndef SHAPIN_BUILD_SVC_IMAGE_PUBLISHER_H_
#define SHAPIN_BUILD_SVC_IMAGE_PUBLISHER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "build-svc/image_builder.h"
#include "common/digest.h"

namespace shapin::build {

// What a stream delivered, as the registry serves it.
struct StreamedImage {
  Digest digest;           // re-read from the registry and verified
  int64_t size_bytes = 0;  // manifest + config + layers
  std::vector<BaseImage> base_images;
};

// One build's push destination (BuildRequest::push_to). Blobs and the
// manifest go to the repository by digest only.
class ImageStream {
 public:
  virtual ~ImageStream() = default;
  // The image reference the builder pushes to.
  virtual std::string reference() const = 0;
  // After the builder pushed `digest`: the manifest re-read from the
  // registry and verified; the stream's first error if it had one.
  virtual absl::StatusOr<StreamedImage> Finish(const Digest& digest) = 0;
  // The first error relaying to the registry; OK when none.
  virtual absl::Status status() const = 0;
};

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

  // A stream into `repository` for the next build; null when this
  // publisher only pushes layouts (PushByDigest).
  virtual absl::StatusOr<std::unique_ptr<ImageStream>> OpenStream(
      const std::string& repository) {
    (void)repository;
    return nullptr;
  }

  // Points `tag` at `digest` (already in `repository`) and re-reads the tag;
  // returns the digest it resolves to afterwards.
  virtual absl::StatusOr<Digest> Tag(const std::string& repository,
                                     const Digest& digest,
                                     absl::string_view tag) = 0;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_IMAGE_PUBLISHER_H_
