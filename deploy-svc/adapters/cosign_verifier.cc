#include "deploy-svc/adapters/cosign_verifier.h"

#include "common/error_code.h"
#include "common/status_macros.h"

namespace shapin::deploy {

absl::StatusOr<SignatureVerdict> CosignVerifier::Verify(const ImageRef& image,
                                                        const GitSha& sha) {
  if (!image.digest()) {
    return absl::InvalidArgumentError(
        "signature verification needs an image pinned by digest");
  }
  SHAPIN_ASSIGN_OR_RETURN(
      signature::VerificationResult result,
      signature::VerifyImageInRegistry(
          store_, verifier_, image.repository_only(), *image.digest(), sha));
  return SignatureVerdict{
      .verified = result.status() == signature::VerificationStatus::kVerified,
      .reason = std::string(signature::ReasonName(result.reason)),
      .provenance_status = std::string(
          signature::ProvenanceStatusName(result.provenance_status))};
}

}  // namespace shapin::deploy
