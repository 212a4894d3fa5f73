// OciLayoutBuilder: writes OCI image layout directories for tests and the
// benchmark — random layers of any size (streamed to disk while hashed),
// configs, image manifests (optionally artifacts with a subject) and the
// index.json that names them.
//
//   OciLayoutBuilder b(dir);
//   SHAPIN_ASSIGN_OR_RETURN(Descriptor layer, b.AddRandomBlob(50 << 20, 1));
//   SHAPIN_ASSIGN_OR_RETURN(Descriptor image, b.AddImage({layer}));
//   SHAPIN_RETURN_IF_ERROR(b.WriteIndex({image}));
#ifndef SHAPIN_COMMON_REGISTRY_TESTING_OCI_LAYOUT_BUILDER_H_
#define SHAPIN_COMMON_REGISTRY_TESTING_OCI_LAYOUT_BUILDER_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"
#include "common/image_ref.h"
#include "common/registry/manifest.h"
#include "common/registry/registry_client.h"

namespace shapin::registry::testing {

class OciLayoutBuilder {
 public:
  // Creates `dir`/blobs/sha256 and `dir`/oci-layout.
  static absl::StatusOr<OciLayoutBuilder> Create(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }

  absl::StatusOr<Descriptor> AddBlob(absl::string_view bytes,
                                     absl::string_view media_type);
  // `size` pseudo-random (incompressible) bytes from `seed`, written and
  // hashed in one pass.
  absl::StatusOr<Descriptor> AddRandomBlob(
      uint64_t size, uint64_t seed,
      absl::string_view media_type =
          "application/vnd.oci.image.layer.v1.tar+gzip");

  struct ImageSpec {
    std::vector<Descriptor> layers;
    // Config blob contents; default: a minimal linux/amd64 image config.
    std::optional<std::string> config;
    std::string config_media_type = "application/vnd.oci.image.config.v1+json";
    std::optional<Descriptor> subject;
    std::string artifact_type;
    std::map<std::string, std::string> annotations;
  };
  // Writes the config and an OCI image manifest; returns the manifest's
  // descriptor.
  absl::StatusOr<Descriptor> AddImage(const ImageSpec& spec);
  absl::StatusOr<Descriptor> AddImage(const std::vector<Descriptor>& layers);
  // Writes an OCI image index over `manifests`; returns its descriptor.
  absl::StatusOr<Descriptor> AddIndex(const std::vector<Descriptor>& manifests);
  // Writes index.json naming `manifests` (with a ref.name annotation when
  // `ref_name` is set).
  absl::Status WriteIndex(const std::vector<Descriptor>& manifests,
                          absl::string_view ref_name = "");

 private:
  explicit OciLayoutBuilder(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

// Pushes a one-layer image (`layer_bytes` random bytes from `seed`) to
// `repository` under `tags`, through a layout written to `scratch_dir` and
// removed afterwards; returns the image's digest. How tests publish an
// image, or overwrite a tag out of band.
absl::StatusOr<Digest> PushRandomImage(RegistryClient& client,
                                       const ImageRef& repository,
                                       const std::vector<std::string>& tags,
                                       uint64_t seed,
                                       const std::filesystem::path& scratch_dir,
                                       uint64_t layer_bytes = 1024);

}  // namespace shapin::registry::testing

#endif  // SHAPIN_COMMON_REGISTRY_TESTING_OCI_LAYOUT_BUILDER_H_
