#include "deploy-svc/adapters/cosign_verifier.h"

#include "absl/strings/str_cat.h"
#include "common/error_code.h"
#include "common/status_macros.h"

namespace shapin::deploy {

absl::StatusOr<SignatureVerdict> CosignVerifier::Verify(const ImageRef& image,
                                                        const GitSha& sha) {
  if (!image.digest()) {
    return absl::InvalidArgumentError(
        "signature verification needs an image pinned by digest");
  }
  const std::string key = absl::StrCat(image.ToString(), " ", sha.str());
  if (std::optional<SignatureVerdict> known = verified_.Get(key)) {
    return *known;
  }
  // The registry reads run unlocked: concurrent first checks of one image
  // may both fetch, which is harmless.
  SHAPIN_ASSIGN_OR_RETURN(
      signature::VerificationResult result,
      signature::VerifyImageInRegistry(
          store_, verifier_, image.repository_only(), *image.digest(), sha));
  SignatureVerdict verdict{
      .verified = result.status() == signature::VerificationStatus::kVerified,
      .reason = std::string(signature::ReasonName(result.reason)),
      .provenance_status = std::string(
          signature::ProvenanceStatusName(result.provenance_status))};
  if (verdict.verified) verified_.Put(key, verdict);
  return verdict;
}

}  // namespace shapin::deploy
