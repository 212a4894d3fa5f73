#include "build-svc/adapters/registry_image_signer.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "build-svc/sbom_format.h"
#include "common/image_ref.h"
#include "common/status_macros.h"

namespace shapin::build {
namespace {

// Prefixes `s` with the step it failed in, keeping its code.
absl::Status InStep(absl::string_view step, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(step, ": ", s.message()));
}

// The SBOM text, or unset when `path` does not exist.
absl::StatusOr<std::optional<std::string>> ReadSbomFile(
    const std::string& path) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) {
    return std::optional<std::string>();
  }
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read: ", ec.message()));
  }
  if (size > static_cast<uintmax_t>(kMaxSbomBytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        size, " bytes, more than the ", kMaxSbomBytes, " attested"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError("cannot open");
  std::stringstream text;
  text << in.rdbuf();
  return std::optional<std::string>(text.str());
}

std::string BlobRef(const ImageRef& repository, absl::string_view blob) {
  return absl::StrCat(repository.name(), "@", Digest::OfBytes(blob).str());
}

// Trust in exactly `key` and `builder_id`.
signature::TrustMaterial OwnTrust(const signature::PrivateKey& key,
                                  const std::string& builder_id) {
  signature::TrustConfig config;
  config.public_keys_pem = {key.public_key().ToPem()};
  config.allowed_builder_ids = {builder_id};
  // A key this process holds and one builder id: cannot fail.
  return *signature::TrustMaterial::Create(config);
}

}  // namespace

RegistryImageSigner::RegistryImageSigner(registry::RegistryClient& client,
                                         signature::PrivateKey key,
                                         ImageSignerOptions options)
    : signer_(key),
      store_(&client, options.temp_dir),
      options_(std::move(options)),
      own_(OwnTrust(key, options_.builder_id)) {}

absl::StatusOr<bool> RegistryImageSigner::IsSigned(
    const SigningRequest& request) {
  SHAPIN_ASSIGN_OR_RETURN(ImageRef repository,
                          ImageRef::Parse(request.repository));
  SHAPIN_ASSIGN_OR_RETURN(signature::VerificationResult result,
                          signature::VerifyImageInRegistry(
                              store_, own_, repository.repository_only(),
                              request.digest, request.commit));
  return result.status() == signature::VerificationStatus::kVerified &&
         result.provenance_status == signature::ProvenanceStatus::kVerified;
}

absl::StatusOr<SignedArtifacts> RegistryImageSigner::SignAndAttest(
    const SigningRequest& request) {
  SHAPIN_ASSIGN_OR_RETURN(ImageRef repository,
                          ImageRef::Parse(request.repository));
  repository = repository.repository_only();
  SignedArtifacts out;

  // 1. The signature: cosign's simple-signing payload for the digest.
  absl::StatusOr<signature::SignatureLayer> sig =
      signer_.SignImage(repository.name(), request.digest);
  SHAPIN_RETURN_IF_ERROR(InStep("signature", sig.status()));
  absl::StatusOr<Digest> sig_manifest =
      store_.PublishSignature(repository, request.digest, *sig);
  SHAPIN_RETURN_IF_ERROR(InStep("signature", sig_manifest.status()));
  out.signature_ref = absl::StrCat(repository.name(), "@", sig_manifest->str());

  // 2. SLSA v1 provenance in a DSSE envelope.
  signature::BuildProvenance provenance{
      .subject_name = repository.name(),
      .image_digest = request.digest,
      .builder_id = options_.builder_id,
      .build_type = std::string(kShapinBuildType),
      .source_url = request.source_url,
      .branch = request.branch,
      .commit = request.commit,
      .dockerfile = request.dockerfile,
      .base_images = {},
      .invocation_id = absl::StrCat(request.build_id),
      .started_on = request.started_on,
      .finished_on = request.finished_on};
  for (const BaseImage& base : request.base_images) {
    provenance.base_images.emplace_back(base.name, base.digest);
  }
  absl::StatusOr<signature::AttestationLayer> att =
      signer_.AttestProvenance(provenance);
  SHAPIN_RETURN_IF_ERROR(InStep("provenance", att.status()));
  SHAPIN_RETURN_IF_ERROR(InStep(
      "provenance",
      store_.PublishAttestation(repository, request.digest, *att).status()));
  out.provenance_ref = BlobRef(repository, att->envelope);

  // 3. The SBOM, when the checkout has one.
  const std::string sbom_step = absl::StrCat("sbom ", request.sbom_file);
  absl::StatusOr<std::optional<std::string>> sbom_text =
      ReadSbomFile(request.sbom_file);
  SHAPIN_RETURN_IF_ERROR(InStep(sbom_step, sbom_text.status()));
  if (!sbom_text->has_value()) return out;
  absl::StatusOr<Sbom> sbom = ParseSbom(**sbom_text);
  SHAPIN_RETURN_IF_ERROR(InStep(sbom_step, sbom.status()));
  absl::StatusOr<signature::AttestationLayer> sbom_att = signer_.Attest(
      repository.name(), request.digest, sbom->predicate_type, sbom->document);
  SHAPIN_RETURN_IF_ERROR(InStep(sbom_step, sbom_att.status()));
  SHAPIN_RETURN_IF_ERROR(
      InStep(sbom_step,
             store_.PublishAttestation(repository, request.digest, *sbom_att)
                 .status()));
  out.sbom_ref = BlobRef(repository, sbom_att->envelope);
  return out;
}

}  // namespace shapin::build
