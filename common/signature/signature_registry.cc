#include "common/signature/signature_registry.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"
#include "common/error_code.h"
#include "common/registry/manifest.h"
#include "common/signature/dsse.h"
#include "common/signature/sigstore_bundle.h"
#include "common/signature/simple_signing.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace shapin::signature {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr absl::string_view kOciConfigType =
    "application/vnd.oci.image.config.v1+json";

absl::Status ToolError(const absl::Status& s, absl::string_view what) {
  if (ErrorCodeOf(s) == ErrorCode::kVerifyToolError) return s;
  return ShapinError(ErrorCode::kVerifyToolError,
                     absl::StrCat(what, ": ", s.message()));
}

// A unique, empty, private file under `dir`.
absl::StatusOr<fs::path> TempFile(const fs::path& dir) {
  std::error_code ec;
  fs::path base = dir.empty() ? fs::temp_directory_path(ec) : dir;
  if (ec) return absl::InternalError("no temporary directory");
  std::string pattern = (base / "shapin-sig-XXXXXX").string();
  int fd = mkstemp(pattern.data());
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot create a temporary file in ", base.string()));
  }
  close(fd);
  return fs::path(pattern);
}

absl::StatusOr<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::InternalError(absl::StrCat("cannot read ", path.string()));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Removes the file when it goes out of scope.
class FileRemover {
 public:
  explicit FileRemover(fs::path p) : path_(std::move(p)) {}
  ~FileRemover() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  FileRemover(const FileRemover&) = delete;
  FileRemover& operator=(const FileRemover&) = delete;

 private:
  fs::path path_;
};

bool IsSigstoreBundleType(absl::string_view media_type) {
  return absl::StartsWith(media_type, "application/vnd.dev.sigstore.bundle");
}

Json DescriptorJson(const registry::Descriptor& d) {
  Json j = {{"mediaType", d.media_type},
            {"size", d.size},
            {"digest", d.digest.str()}};
  if (!d.annotations.empty()) {
    Json a = Json::object();
    for (const auto& [k, v] : d.annotations) a[k] = v;
    j["annotations"] = a;
  }
  return j;
}

// The config cosign's (go-containerregistry's) empty image gets.
std::string ConfigJson(const std::vector<registry::Descriptor>& layers) {
  Json diff_ids = Json::array();
  for (const registry::Descriptor& l : layers)
    diff_ids.push_back(l.digest.str());
  Json config = {
      {"architecture", ""},
      {"config", Json::object()},
      {"created", "0001-01-01T00:00:00Z"},
      {"history", Json::array({{{"created", "0001-01-01T00:00:00Z"}}})},
      {"os", ""},
      {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  return config.dump();
}

}  // namespace

RegistrySignatureStore::RegistrySignatureStore(registry::RegistryClient* client,
                                               std::filesystem::path temp_dir)
    : client_(client), temp_dir_(std::move(temp_dir)) {}

absl::StatusOr<std::string> RegistrySignatureStore::ReadBlob(
    const ImageRef& repository, const Digest& digest, int64_t size) {
  SHAPIN_ASSIGN_OR_RETURN(fs::path path, TempFile(temp_dir_));
  FileRemover remove(path);
  SHAPIN_RETURN_IF_ERROR(client_->FetchBlob(repository, digest, size, path));
  return ReadWholeFile(path);
}

absl::Status RegistrySignatureStore::WriteBlob(const ImageRef& repository,
                                               absl::string_view bytes,
                                               const std::string& media_type) {
  SHAPIN_ASSIGN_OR_RETURN(fs::path path, TempFile(temp_dir_));
  FileRemover remove(path);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      return absl::InternalError(absl::StrCat("cannot write ", path.string()));
    }
  }
  registry::Descriptor blob(media_type, Digest::OfBytes(bytes),
                            static_cast<int64_t>(bytes.size()));
  return client_->PushBlob(repository, blob, path).status();
}

absl::StatusOr<std::vector<RegistrySignatureStore::Layer>>
RegistrySignatureStore::ReadLayers(const ImageRef& repository,
                                   const std::string& tag, bool want_bytes) {
  std::vector<Layer> out;
  SHAPIN_ASSIGN_OR_RETURN(ImageRef tagged,
                          repository.repository_only().with_tag(tag));
  absl::StatusOr<registry::Manifest> manifest = client_->GetManifest(tagged);
  if (absl::IsNotFound(manifest.status())) return out;
  if (!manifest.ok()) return manifest.status();
  SHAPIN_ASSIGN_OR_RETURN(
      registry::ManifestInfo info,
      registry::ParseManifest(manifest->bytes, manifest->media_type));
  for (const registry::Descriptor& d : info.layers) {
    if (out.size() >= kMaxArtifactLayers) break;
    if (d.size > kMaxArtifactLayerBytes) continue;
    Layer layer;
    layer.media_type = d.media_type;
    layer.annotations = d.annotations;
    const bool wanted = d.media_type == kSimpleSigningMediaType ||
                        d.media_type == kDsseMediaType;
    if (want_bytes && wanted) {
      SHAPIN_ASSIGN_OR_RETURN(layer.bytes,
                              ReadBlob(repository, d.digest, d.size));
    }
    out.push_back(std::move(layer));
  }
  return out;
}

absl::StatusOr<FetchedArtifacts> RegistrySignatureStore::Fetch(
    const ImageRef& repository, const Digest& digest) {
  const ImageRef repo = repository.repository_only();
  FetchedArtifacts out;
  const std::string sig_tag = absl::StrCat(digest.tag_fallback(), ".sig");
  absl::StatusOr<std::vector<Layer>> sigs = ReadLayers(repo, sig_tag, true);
  if (!sigs.ok()) {
    return ToolError(sigs.status(),
                     absl::StrCat("reading ", repo.name(), ":", sig_tag));
  }
  for (Layer& l : *sigs) {
    out.signatures.push_back(SignatureLayer{
        std::move(l.media_type), std::move(l.bytes), std::move(l.annotations)});
  }
  const std::string att_tag = absl::StrCat(digest.tag_fallback(), ".att");
  absl::StatusOr<std::vector<Layer>> atts = ReadLayers(repo, att_tag, true);
  if (!atts.ok()) {
    return ToolError(atts.status(),
                     absl::StrCat("reading ", repo.name(), ":", att_tag));
  }
  for (Layer& l : *atts) {
    out.attestations.push_back(AttestationLayer{
        std::move(l.media_type), std::move(l.bytes), std::move(l.annotations)});
  }
  const std::string what =
      absl::StrCat("reading referrers of ", repo.name(), "@", digest.str());
  absl::StatusOr<std::vector<registry::Descriptor>> referrers =
      client_->ListReferrers(repo, digest, kSigstoreBundleV03MediaType);
  if (!referrers.ok()) {
    // A registry that does not understand the request has no referrers.
    if (absl::IsNotFound(referrers.status()) ||
        absl::IsUnimplemented(referrers.status()) ||
        absl::IsInvalidArgument(referrers.status())) {
      return out;
    }
    return ToolError(referrers.status(), what);
  }
  size_t read = 0;
  for (const registry::Descriptor& r : *referrers) {
    if (read++ >= kMaxArtifactLayers) break;
    absl::StatusOr<registry::Manifest> m =
        client_->GetManifest(repo.with_digest(r.digest));
    if (!m.ok()) return ToolError(m.status(), what);
    absl::StatusOr<registry::ManifestInfo> info =
        registry::ParseManifest(m->bytes, m->media_type);
    if (!info.ok()) return ToolError(info.status(), what);
    for (const registry::Descriptor& layer : info->layers) {
      if (!IsSigstoreBundleType(layer.media_type) ||
          layer.size > kMaxArtifactLayerBytes) {
        continue;
      }
      absl::StatusOr<std::string> bytes =
          ReadBlob(repo, layer.digest, layer.size);
      if (!bytes.ok()) return ToolError(bytes.status(), what);
      out.bundles.push_back(*std::move(bytes));
    }
  }
  return out;
}

absl::StatusOr<Digest> RegistrySignatureStore::Append(
    const ImageRef& repository, const std::string& tag, Layer layer) {
  const ImageRef repo = repository.repository_only();
  SHAPIN_ASSIGN_OR_RETURN(ImageRef tagged, repo.with_tag(tag));
  std::vector<registry::Descriptor> layers;
  absl::StatusOr<registry::Manifest> existing = client_->GetManifest(tagged);
  if (existing.ok()) {
    SHAPIN_ASSIGN_OR_RETURN(
        registry::ManifestInfo info,
        registry::ParseManifest(existing->bytes, existing->media_type));
    layers = std::move(info.layers);
  } else if (!absl::IsNotFound(existing.status())) {
    return existing.status();
  }
  registry::Descriptor added(layer.media_type, Digest::OfBytes(layer.bytes),
                             static_cast<int64_t>(layer.bytes.size()));
  added.annotations = layer.annotations;
  for (const registry::Descriptor& d : layers) {
    if (d.digest == added.digest && d.annotations == added.annotations) {
      return existing->digest;  // already there
    }
  }
  SHAPIN_RETURN_IF_ERROR(WriteBlob(repo, layer.bytes, layer.media_type));
  layers.push_back(std::move(added));
  const std::string config = ConfigJson(layers);
  SHAPIN_RETURN_IF_ERROR(WriteBlob(repo, config, std::string(kOciConfigType)));
  Json manifest = {
      {"schemaVersion", 2},
      {"mediaType", std::string(registry::kOciManifestType)},
      {"config", DescriptorJson(registry::Descriptor(
                     std::string(kOciConfigType), Digest::OfBytes(config),
                     static_cast<int64_t>(config.size())))},
      {"layers", Json::array()}};
  for (const registry::Descriptor& d : layers) {
    manifest["layers"].push_back(DescriptorJson(d));
  }
  return client_->PutManifest(repo, tag, registry::kOciManifestType,
                              manifest.dump());
}

absl::StatusOr<Digest> RegistrySignatureStore::PublishSignature(
    const ImageRef& repository, const Digest& digest,
    const SignatureLayer& layer) {
  return Append(repository, absl::StrCat(digest.tag_fallback(), ".sig"),
                Layer{layer.media_type, layer.payload, layer.annotations});
}

absl::StatusOr<Digest> RegistrySignatureStore::PublishAttestation(
    const ImageRef& repository, const Digest& digest,
    const AttestationLayer& layer) {
  return Append(repository, absl::StrCat(digest.tag_fallback(), ".att"),
                Layer{layer.media_type, layer.envelope, layer.annotations});
}

absl::StatusOr<VerificationResult> VerifyImageInRegistry(
    RegistrySignatureStore& store, const Verifier& verifier,
    const ImageRef& repository, const Digest& digest,
    const std::optional<GitSha>& expected_commit) {
  SHAPIN_ASSIGN_OR_RETURN(FetchedArtifacts fetched,
                          store.Fetch(repository, digest));
  VerifyRequest request;
  request.image_digest = digest;
  request.expected_commit = expected_commit;
  request.signatures = std::move(fetched.signatures);
  request.attestations = std::move(fetched.attestations);
  request.bundles = std::move(fetched.bundles);
  return verifier.Verify(request);
}

}  // namespace shapin::signature
