// Fuzz target for ParseManifest (OCI / Docker image manifests and indexes).
//
// Input: the Content-Type the registry served, a newline, then the manifest
// bytes (corpus files are written that way). An accepted index survives a
// round trip through BuildIndexJson, the index shapin writes for the
// referrers fallback tag.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/registry/manifest.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using shapin::registry::Descriptor;

bool SameDescriptor(const Descriptor& a, const Descriptor& b) {
  return a.media_type == b.media_type && a.digest == b.digest &&
         a.size == b.size && a.artifact_type == b.artifact_type &&
         a.annotations == b.annotations;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const absl::string_view content_type =
      newline == absl::string_view::npos ? "" : input.substr(0, newline);
  const absl::string_view bytes =
      newline == absl::string_view::npos ? input : input.substr(newline + 1);

  absl::StatusOr<shapin::registry::ManifestInfo> info =
      shapin::registry::ParseManifest(bytes, content_type);
  if (!info.ok()) return 0;
  FUZZ_CHECK(shapin::registry::IsManifestMediaType(info->media_type));
  FUZZ_CHECK(info->is_index ==
             shapin::registry::IsIndexMediaType(info->media_type));
  if (!info->is_index) {
    FUZZ_CHECK(info->config.has_value());
    FUZZ_CHECK(info->manifests.empty());
    return 0;
  }
  FUZZ_CHECK(!info->config.has_value() && info->layers.empty());
  const std::string rebuilt = shapin::registry::BuildIndexJson(info->manifests);
  absl::StatusOr<shapin::registry::ManifestInfo> again =
      shapin::registry::ParseManifest(rebuilt, "");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->is_index);
  FUZZ_CHECK(again->manifests.size() == info->manifests.size());
  for (size_t i = 0; i < info->manifests.size(); ++i) {
    FUZZ_CHECK(SameDescriptor(again->manifests[i], info->manifests[i]));
  }
  return 0;
}
