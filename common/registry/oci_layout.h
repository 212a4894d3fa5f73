// OciLayout: read access to an OCI image layout directory (what `buildah
// push oci:<dir>` and `skopeo copy … oci:<dir>` write):
//
//   <dir>/oci-layout            {"imageLayoutVersion": "1.0.0"}
//   <dir>/index.json            an image index of the top-level manifests
//   <dir>/blobs/sha256/<hex>    content-addressed blobs
//
//   SHAPIN_ASSIGN_OR_RETURN(OciLayout layout, OciLayout::Open(dir));
//   for (const Descriptor& m : layout.manifests()) ...
//   SHAPIN_ASSIGN_OR_RETURN(std::string bytes, layout.ReadManifest(m));
#ifndef SHAPIN_COMMON_REGISTRY_OCI_LAYOUT_H_
#define SHAPIN_COMMON_REGISTRY_OCI_LAYOUT_H_

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/registry/manifest.h"

namespace shapin::registry {

class OciLayout {
 public:
  // NOT_FOUND when `dir` or its index.json is missing; INVALID_ARGUMENT when
  // oci-layout or index.json is malformed.
  static absl::StatusOr<OciLayout> Open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  // The top-level manifests of index.json, in order.
  const std::vector<Descriptor>& manifests() const { return manifests_; }
  std::filesystem::path BlobPath(const Digest& digest) const;

  // A manifest blob, read whole (≤ kMaxManifestBytes) and verified against
  // the descriptor's digest and size: DIGEST_MISMATCH when it differs,
  // NOT_FOUND when the blob file is missing.
  absl::StatusOr<std::string> ReadManifest(const Descriptor& desc) const;

 private:
  OciLayout() = default;
  std::filesystem::path dir_;
  std::vector<Descriptor> manifests_;
};

// Reads a whole small file (≤ max_bytes). NOT_FOUND when missing,
// RESOURCE_EXHAUSTED when larger.
absl::StatusOr<std::string> ReadSmallFile(const std::filesystem::path& path,
                                          size_t max_bytes);

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_OCI_LAYOUT_H_
