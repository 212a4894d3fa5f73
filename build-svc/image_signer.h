// ImageSigner: what the build pipeline needs to sign what it published.
//
// After an image is pushed by digest and its SHA tags are set, the pipeline
// hands the signer the facts of the build (or, completing an earlier
// attempt's publication, the facts recorded with the image); the signer
// publishes a
// cosign-style signature of the digest, an SLSA v1 provenance attestation,
// and (when the checkout holds one) an SBOM attestation next to the image.
// It never touches the image's tags. The implementation over the project's
// registry client and common/signature/ is
// adapters/registry_image_signer.h.
//
//   SigningRequest request(build.git_sha, pushed_digest);
//   request.repository = build.repository;
//   request.base_images = built.base_images;
//   request.sbom_file = checkout_dir + "/sbom.spdx.json";  // may not exist
//   absl::StatusOr<SignedArtifacts> signed_ = signer.SignAndAttest(request);
//   // signed_->provenance_ref: "registry/repo@sha256:<envelope blob>"
#ifndef SHAPIN_BUILD_SVC_IMAGE_SIGNER_H_
#define SHAPIN_BUILD_SVC_IMAGE_SIGNER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "build-svc/image_builder.h"
#include "common/digest.h"
#include "common/git_sha.h"

namespace shapin::build {

// What a build knows about the image it published.
struct SigningRequest {
  SigningRequest(GitSha sha, Digest d)
      : commit(std::move(sha)), digest(std::move(d)) {}

  GitSha commit;
  Digest digest;           // the manifest digest the registry serves
  std::string repository;  // registry/name, where the image was pushed
  std::string source_url;
  std::string branch;
  std::string dockerfile;
  std::vector<BaseImage> base_images;
  int64_t build_id = 0;
  absl::Time started_on;
  absl::Time finished_on;
  // Absolute path of an SBOM file (SPDX or CycloneDX JSON) to attest; empty,
  // or a path that does not exist, means no SBOM.
  std::string sbom_file;
};

// Where what was published can be found. Refs are
// "registry/repo@sha256:<hex>" of the DSSE envelope blob (content
// addressed: it stays valid when later attestations are appended to the
// image's .att manifest).
struct SignedArtifacts {
  std::string signature_ref;   // the .sig manifest after appending
  std::string provenance_ref;  // SLSA provenance envelope blob
  std::string sbom_ref;        // SBOM envelope blob; empty without SBOM
};

class ImageSigner {
 public:
  virtual ~ImageSigner() = default;

  // Signs and attests `request.digest` in `request.repository`. Errors name
  // the step that failed ("signature", "provenance", "sbom <file>") and are
  // the registry's (UNAVAILABLE, PERMISSION_DENIED, …) or INVALID_ARGUMENT
  // for an SBOM that is neither SPDX nor CycloneDX JSON. Steps done before a
  // failure stay published (a signature without provenance still verifies;
  // the pipeline records the build as signing "failed").
  virtual absl::StatusOr<SignedArtifacts> SignAndAttest(
      const SigningRequest& request) = 0;

  // Whether `request.digest` in `request.repository` already carries, in
  // the registry, a signature by this signer's key and a provenance
  // attestation for `request.commit` from this signer's builder — what
  // SignAndAttest would add. Used before signing an image an earlier
  // attempt published (the process may have died before signing it).
  // Errors are the registry's.
  virtual absl::StatusOr<bool> IsSigned(const SigningRequest& request) = 0;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_IMAGE_SIGNER_H_
