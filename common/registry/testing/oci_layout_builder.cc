#include "common/registry/testing/oci_layout_builder.h"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/registry/manifest.h"
#include "common/registry/sha256_hasher.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace shapin::registry::testing {
namespace {

using Json = nlohmann::json;

Json DescriptorJson(const Descriptor& d) {
  Json j = {{"mediaType", d.media_type},
            {"digest", d.digest.str()},
            {"size", d.size}};
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  return j;
}

absl::Status WriteBytes(const std::filesystem::path& path,
                        absl::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("writing ", path.string()));
  return absl::OkStatus();
}

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

absl::StatusOr<OciLayoutBuilder> OciLayoutBuilder::Create(
    std::filesystem::path dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir / "blobs" / "sha256", ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("creating ", dir.string(), ": ", ec.message()));
  }
  absl::Status s =
      WriteBytes(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  if (!s.ok()) return s;
  return OciLayoutBuilder(std::move(dir));
}

absl::StatusOr<Descriptor> OciLayoutBuilder::AddBlob(
    absl::string_view bytes, absl::string_view media_type) {
  Digest d = Digest::OfBytes(bytes);
  absl::Status s =
      WriteBytes(dir_ / "blobs" / "sha256" / std::string(d.hex()), bytes);
  if (!s.ok()) return s;
  return Descriptor(std::string(media_type), d,
                    static_cast<int64_t>(bytes.size()));
}

absl::StatusOr<Descriptor> OciLayoutBuilder::AddRandomBlob(
    uint64_t size, uint64_t seed, absl::string_view media_type) {
  std::filesystem::path tmp = dir_ / absl::StrCat("tmp-", seed, "-", size);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return absl::InternalError("cannot create blob file");
  Sha256Hasher hasher;
  std::vector<uint64_t> buf(1 << 17);  // 1 MiB
  uint64_t state = seed * 0x2545F4914F6CDD1DULL + 1;
  uint64_t left = size;
  while (left > 0) {
    for (uint64_t& w : buf) w = SplitMix64(&state);
    size_t n = static_cast<size_t>(
        std::min<uint64_t>(left, buf.size() * sizeof(uint64_t)));
    absl::string_view chunk(reinterpret_cast<const char*>(buf.data()), n);
    hasher.Update(chunk);
    if (std::fwrite(chunk.data(), 1, n, f) != n) {
      std::fclose(f);
      return absl::InternalError("writing blob file");
    }
    left -= n;
  }
  if (std::fclose(f) != 0) return absl::InternalError("closing blob file");
  Digest d = hasher.Finish();
  std::filesystem::rename(tmp,
                          dir_ / "blobs" / "sha256" / std::string(d.hex()));
  return Descriptor(std::string(media_type), d, static_cast<int64_t>(size));
}

absl::StatusOr<Descriptor> OciLayoutBuilder::AddImage(const ImageSpec& spec) {
  std::string config = spec.config.value_or(
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}})");
  absl::StatusOr<Descriptor> cfg = AddBlob(config, spec.config_media_type);
  if (!cfg.ok()) return cfg.status();
  Json layers = Json::array();
  for (const Descriptor& l : spec.layers) layers.push_back(DescriptorJson(l));
  Json m = {{"schemaVersion", 2},
            {"mediaType", std::string(kOciManifestType)},
            {"config", DescriptorJson(*cfg)},
            {"layers", layers}};
  if (!spec.artifact_type.empty()) m["artifactType"] = spec.artifact_type;
  if (spec.subject.has_value()) m["subject"] = DescriptorJson(*spec.subject);
  if (!spec.annotations.empty()) m["annotations"] = spec.annotations;
  return AddBlob(m.dump(), kOciManifestType);
}

absl::StatusOr<Descriptor> OciLayoutBuilder::AddImage(
    const std::vector<Descriptor>& layers) {
  ImageSpec spec;
  spec.layers = layers;
  return AddImage(spec);
}

absl::StatusOr<Descriptor> OciLayoutBuilder::AddIndex(
    const std::vector<Descriptor>& manifests) {
  Json list = Json::array();
  for (const Descriptor& m : manifests) {
    Json e = DescriptorJson(m);
    e["platform"] = {{"architecture", "amd64"}, {"os", "linux"}};
    list.push_back(std::move(e));
  }
  Json index = {{"schemaVersion", 2},
                {"mediaType", std::string(kOciIndexType)},
                {"manifests", list}};
  return AddBlob(index.dump(), kOciIndexType);
}

absl::Status OciLayoutBuilder::WriteIndex(
    const std::vector<Descriptor>& manifests, absl::string_view ref_name) {
  Json list = Json::array();
  for (const Descriptor& m : manifests) {
    Json e = DescriptorJson(m);
    if (!ref_name.empty()) {
      e["annotations"]["org.opencontainers.image.ref.name"] =
          std::string(ref_name);
    }
    list.push_back(std::move(e));
  }
  Json index = {{"schemaVersion", 2},
                {"mediaType", std::string(kOciIndexType)},
                {"manifests", list}};
  return WriteBytes(dir_ / "index.json", index.dump());
}

absl::StatusOr<Digest> PushRandomImage(RegistryClient& client,
                                       const ImageRef& repository,
                                       const std::vector<std::string>& tags,
                                       uint64_t seed,
                                       const std::filesystem::path& scratch_dir,
                                       uint64_t layer_bytes) {
  absl::StatusOr<PushResult> pushed = [&]() -> absl::StatusOr<PushResult> {
    SHAPIN_ASSIGN_OR_RETURN(OciLayoutBuilder layout,
                            OciLayoutBuilder::Create(scratch_dir));
    SHAPIN_ASSIGN_OR_RETURN(Descriptor layer,
                            layout.AddRandomBlob(layer_bytes, seed));
    SHAPIN_ASSIGN_OR_RETURN(Descriptor image,
                            layout.AddImage(std::vector<Descriptor>{layer}));
    SHAPIN_RETURN_IF_ERROR(layout.WriteIndex({image}));
    return client.PushOciLayout(scratch_dir, repository, tags);
  }();
  std::error_code ignored;
  std::filesystem::remove_all(scratch_dir, ignored);
  if (!pushed.ok()) return pushed.status();
  return pushed->digest;
}

}  // namespace shapin::registry::testing
