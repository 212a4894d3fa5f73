// RegistryImageSigner: ImageSigner over common/signature/ (Signer) and the
// project's registry client (RegistrySignatureStore), cosign's layout:
// repo:sha256-<hex>.sig and repo:sha256-<hex>.att next to the image.
//
//   SHAPIN_ASSIGN_OR_RETURN(signature::PrivateKey key,
//                           signature::PrivateKey::FromPem(pem));
//   RegistryImageSigner signer(*client, std::move(key),
//                              {.builder_id =
//                              config.build.signing_builder_id});
//   pipeline options: .signer = &signer
//
// The private key stays inside the Signer: it is never logged nor put in an
// error message.
#ifndef SHAPIN_BUILD_SVC_ADAPTERS_REGISTRY_IMAGE_SIGNER_H_
#define SHAPIN_BUILD_SVC_ADAPTERS_REGISTRY_IMAGE_SIGNER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "build-svc/image_signer.h"
#include "common/registry/registry_client.h"
#include "common/signature/signature_registry.h"
#include "common/signature/signer.h"

namespace shapin::build {

// The SLSA buildType of images build-svc makes: a clean linux/amd64 buildah
// build of a Dockerfile at a git commit (externalParameters: source {url,
// branch, sha}, dockerfile).
inline constexpr absl::string_view kShapinBuildType =
    "https://github.com/mconstant/shapin/buildah-dockerfile@v1";
inline constexpr absl::string_view kDefaultBuilderId =
    "https://github.com/mconstant/shapin/build-svc@v1";

// SBOM files larger than this are not attested (an error naming the file).
inline constexpr int64_t kMaxSbomBytes = int64_t{16} << 20;

struct ImageSignerOptions {
  // runDetails.builder.id of the provenance; deploy-svc's
  // deploy.signature.allowed_builder_ids must list it.
  std::string builder_id = std::string(kDefaultBuilderId);
  // Blobs are staged here while publishing (system temp dir when empty).
  std::string temp_dir = "";
};

class RegistryImageSigner : public ImageSigner {
 public:
  // `client` must outlive the signer and must not be read-only.
  RegistryImageSigner(registry::RegistryClient& client,
                      signature::PrivateKey key, ImageSignerOptions options);

  absl::StatusOr<SignedArtifacts> SignAndAttest(
      const SigningRequest& request) override;
  // Verifies what the registry holds with the signer's own public key and
  // builder id (the verifier deploy-svc uses).
  absl::StatusOr<bool> IsSigned(const SigningRequest& request) override;

 private:
  signature::Signer signer_;
  signature::RegistrySignatureStore store_;
  const ImageSignerOptions options_;
  signature::Verifier own_;  // trusts exactly this key and builder
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_ADAPTERS_REGISTRY_IMAGE_SIGNER_H_
