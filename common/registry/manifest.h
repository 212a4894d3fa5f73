// OCI / Docker manifest vocabulary: media types, descriptors, and a parser
// that extracts what the registry client walks (config, layers, index
// children, subject).
//
//   SHAPIN_ASSIGN_OR_RETURN(ManifestInfo info,
//                           ParseManifest(bytes, content_type));
//   for (const Descriptor& layer : info.layers) ... layer.digest ...
#ifndef SHAPIN_COMMON_REGISTRY_MANIFEST_H_
#define SHAPIN_COMMON_REGISTRY_MANIFEST_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"

namespace shapin::registry {

inline constexpr absl::string_view kOciManifestType =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr absl::string_view kOciIndexType =
    "application/vnd.oci.image.index.v1+json";
inline constexpr absl::string_view kDockerManifestType =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr absl::string_view kDockerManifestListType =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr absl::string_view kOciEmptyType =
    "application/vnd.oci.empty.v1+json";

// The Accept header every manifest read sends: OCI and Docker, manifests
// and indexes (distribution 2.8 answers 404 or down-converts otherwise).
inline constexpr absl::string_view kManifestAccept =
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

// Manifests larger than this are refused on read and on push.
inline constexpr size_t kMaxManifestBytes = 4 << 20;

bool IsIndexMediaType(absl::string_view media_type);
bool IsManifestMediaType(absl::string_view media_type);  // image or index

struct Descriptor {
  Descriptor(std::string media_type, Digest digest, int64_t size)
      : media_type(std::move(media_type)),
        digest(std::move(digest)),
        size(size) {}

  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::string artifact_type;
  std::vector<std::string> urls;  // foreign / non-distributable layers
  std::map<std::string, std::string> annotations;
};

// What a manifest or index refers to.
struct ManifestInfo {
  // The JSON "mediaType", else the Content-Type it was served with.
  std::string media_type;
  bool is_index = false;
  std::optional<Descriptor> config;   // image manifests
  std::vector<Descriptor> layers;     // image manifests
  std::vector<Descriptor> manifests;  // indexes
  std::optional<Descriptor> subject;  // OCI 1.1 referrers
  std::string artifact_type;
  std::map<std::string, std::string> annotations;
};

// INVALID_ARGUMENT for anything but a JSON object with a known media type
// (Docker schema 1 is not supported) and well-formed descriptors.
absl::StatusOr<ManifestInfo> ParseManifest(absl::string_view bytes,
                                           absl::string_view content_type);

// A fetched (and verified) manifest.
struct Manifest {
  std::string bytes;
  std::string media_type;
  Digest digest;
};

// The JSON of an OCI image index listing `manifests` (used for the referrers
// fallback tag).
std::string BuildIndexJson(const std::vector<Descriptor>& manifests);

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_MANIFEST_H_
