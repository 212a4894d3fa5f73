// RegistrySignatureStore: fetches and publishes cosign artifacts through the
// project's registry client — the I/O half around the pure Verifier and
// Signer.
//
// Where cosign keeps them, for an image repo@sha256:<hex>:
//   repo:sha256-<hex>.sig   OCI manifest, one simple-signing layer per
//                           signature (annotations carry signature,
//                           certificate, chain, Rekor bundle)
//   repo:sha256-<hex>.att   OCI manifest, one DSSE envelope layer per
//                           attestation
//   referrers of the digest with artifactType
//   application/vnd.dev.sigstore.bundle.v0.3+json (cosign v3), or the
//   "sha256-<hex>" referrers fallback index on registries without the API.
//
//   RegistrySignatureStore store(client.get());
//   absl::StatusOr<VerificationResult> r = VerifyImageInRegistry(
//       store, verifier, repo, digest, sha);   // VERIFY_TOOL_ERROR on I/O
//   SHAPIN_RETURN_IF_ERROR(CheckPolicy(policy, r));
//
//   // build-svc, after publishing the image:
//   SHAPIN_ASSIGN_OR_RETURN(SignatureLayer sig, signer.SignImage(name, d));
//   SHAPIN_RETURN_IF_ERROR(store.PublishSignature(repo, d, sig).status());
#ifndef SHAPIN_COMMON_SIGNATURE_SIGNATURE_REGISTRY_H_
#define SHAPIN_COMMON_SIGNATURE_SIGNATURE_REGISTRY_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/git_sha.h"
#include "common/image_ref.h"
#include "common/registry/registry_client.h"
#include "common/signature/verification_result.h"
#include "common/signature/verifier.h"

namespace shapin::signature {

// What is stored next to one image.
struct FetchedArtifacts {
  std::vector<SignatureLayer> signatures;      // layers of .sig
  std::vector<AttestationLayer> attestations;  // layers of .att
  std::vector<std::string> bundles;            // Sigstore bundle documents
};

// Layers larger than this are not downloaded (a signature is a few KiB);
// they are left out, as if absent.
inline constexpr int64_t kMaxArtifactLayerBytes = int64_t{4} << 20;
// At most this many layers are read per manifest, and this many bundle
// referrers per image.
inline constexpr size_t kMaxArtifactLayers = 64;

class RegistrySignatureStore {
 public:
  // `client` must outlive the store. Blobs are staged in `temp_dir` (the
  // system temp directory when empty) and removed after reading.
  explicit RegistrySignatureStore(registry::RegistryClient* client,
                                  std::filesystem::path temp_dir = {});

  // Everything cosign stored for `repository`@`digest` (the repository's
  // tag/digest are ignored). A missing .sig/.att tag or no referrers is
  // simply empty (the verifier then says no_signature / missing). Any other
  // failure — registry unreachable, authentication, a blob that does not
  // match its digest — is VERIFY_TOOL_ERROR (UNAVAILABLE) naming what
  // failed.
  absl::StatusOr<FetchedArtifacts> Fetch(const ImageRef& repository,
                                         const Digest& digest);

  // Adds `layer` to the `sha256-<hex>.sig` manifest (creating it, keeping
  // existing layers, skipping an identical layer), as cosign does: blobs
  // first, then the manifest by tag. Returns the .sig manifest's digest.
  // The image's own tags are never touched. Errors are the client's
  // (PERMISSION_DENIED on a read-only client, UNAVAILABLE, …). Concurrent
  // publishers can lose a layer to each other (as with cosign).
  absl::StatusOr<Digest> PublishSignature(const ImageRef& repository,
                                          const Digest& digest,
                                          const SignatureLayer& layer);
  // Same for `sha256-<hex>.att`.
  absl::StatusOr<Digest> PublishAttestation(const ImageRef& repository,
                                            const Digest& digest,
                                            const AttestationLayer& layer);

 private:
  struct Layer {
    std::string media_type;
    std::string bytes;
    std::map<std::string, std::string> annotations;
  };
  // Layers of repository:`tag`; empty when the tag does not exist.
  absl::StatusOr<std::vector<Layer>> ReadLayers(const ImageRef& repository,
                                                const std::string& tag,
                                                bool want_bytes);
  absl::StatusOr<std::string> ReadBlob(const ImageRef& repository,
                                       const Digest& digest, int64_t size);
  absl::Status WriteBlob(const ImageRef& repository, absl::string_view bytes,
                         const std::string& media_type);
  absl::StatusOr<Digest> Append(const ImageRef& repository,
                                const std::string& tag, Layer layer);

  registry::RegistryClient* client_;
  std::filesystem::path temp_dir_;
};

// Fetches what is stored for repository@digest and verifies it. A fetch
// failure is VERIFY_TOOL_ERROR; otherwise the verifier's result.
absl::StatusOr<VerificationResult> VerifyImageInRegistry(
    RegistrySignatureStore& store, const Verifier& verifier,
    const ImageRef& repository, const Digest& digest,
    const std::optional<GitSha>& expected_commit);

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_SIGNATURE_REGISTRY_H_
