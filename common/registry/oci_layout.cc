#include "common/registry/oci_layout.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/error_code.h"
#include "common/registry/manifest.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace shapin::registry {

absl::StatusOr<std::string> ReadSmallFile(const std::filesystem::path& path,
                                          size_t max_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    std::string msg = absl::StrCat(path.string(), ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    return absl::FailedPreconditionError(msg);
  }
  std::string out;
  char buf[64 << 10];
  while (true) {
    size_t n = std::fread(buf, 1, sizeof(buf), f);
    if (n == 0) break;
    if (out.size() + n > max_bytes) {
      std::fclose(f);
      return absl::ResourceExhaustedError(
          absl::StrCat(path.string(), ": larger than ", max_bytes, " bytes"));
    }
    out.append(buf, n);
  }
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) {
    return absl::DataLossError(absl::StrCat(path.string(), ": read error"));
  }
  return out;
}

absl::StatusOr<OciLayout> OciLayout::Open(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("oci layout ", dir.string(), ": not a directory"));
  }
  absl::StatusOr<std::string> marker =
      ReadSmallFile(dir / "oci-layout", 64 << 10);
  if (!marker.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "oci layout ", dir.string(), ": ", marker.status().message()));
  }
  nlohmann::json m =
      nlohmann::json::parse(*marker, nullptr, /*allow_exceptions=*/false);
  if (!m.is_object() || !m.contains("imageLayoutVersion")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "oci layout ", dir.string(), ": oci-layout has no imageLayoutVersion"));
  }
  absl::StatusOr<std::string> index =
      ReadSmallFile(dir / "index.json", kMaxManifestBytes);
  if (!index.ok()) {
    return absl::Status(index.status().code(),
                        absl::StrCat("oci layout ", dir.string(), ": ",
                                     index.status().message()));
  }
  absl::StatusOr<ManifestInfo> info = ParseManifest(*index, kOciIndexType);
  if (!info.ok() || !info->is_index) {
    return absl::InvalidArgumentError(
        absl::StrCat("oci layout ", dir.string(), ": index.json: ",
                     info.ok() ? "not an index" : info.status().message()));
  }
  OciLayout layout;
  layout.dir_ = dir;
  layout.manifests_ = std::move(info->manifests);
  return layout;
}

std::filesystem::path OciLayout::BlobPath(const Digest& digest) const {
  return dir_ / "blobs" / std::string(digest.algorithm()) /
         std::string(digest.hex());
}

absl::StatusOr<std::string> OciLayout::ReadManifest(
    const Descriptor& desc) const {
  if (desc.size > static_cast<int64_t>(kMaxManifestBytes)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "oci layout ", dir_.string(), ": manifest ", desc.digest.str(), " is ",
        desc.size, " bytes, over the ", kMaxManifestBytes, " byte limit"));
  }
  SHAPIN_ASSIGN_OR_RETURN(
      std::string bytes,
      ReadSmallFile(BlobPath(desc.digest), kMaxManifestBytes));
  Digest got = Digest::OfBytes(bytes);
  if (got != desc.digest || static_cast<int64_t>(bytes.size()) != desc.size) {
    return ShapinError(
        ErrorCode::kDigestMismatch,
        absl::StrCat("oci layout ", dir_.string(), ": blob ", desc.digest.str(),
                     " has digest ", got.str(), " and ", bytes.size(),
                     " bytes, expected ", desc.size));
  }
  return bytes;
}

}  // namespace shapin::registry
