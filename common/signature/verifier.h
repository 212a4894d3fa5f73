// Verifier: decides whether an image is signed by someone trusted and what
// its SLSA provenance says — pure (no I/O), from artifacts already fetched.
//
// Inputs are what cosign stores next to an image:
//   - the layers of the `sha256-<hex>.sig` manifest (simple-signing payload
//     bytes + annotations: signature, certificate, chain, Rekor bundle);
//   - the layers of the `sha256-<hex>.att` manifest (DSSE envelopes);
//   - Sigstore bundles (cosign v3 referrers).
// One signature that verifies completely is enough. Every failure is a
// VerificationResult with a reason, never an error: a malformed artifact is
// "unverified", not a crash. Only a failure of the verifier itself (OpenSSL
// failing internally) is an error: VERIFY_TOOL_ERROR.
//
//   SHAPIN_ASSIGN_OR_RETURN(TrustMaterial trust, TrustMaterial::Create(cfg));
//   Verifier verifier(std::move(trust));
//   VerifyRequest request;
//   request.image_digest = digest;
//   request.expected_commit = sha;
//   request.signatures = fetched.signatures;
//   SHAPIN_ASSIGN_OR_RETURN(VerificationResult r, verifier.Verify(request));
//   // r.reason == Reason::kVerified, r.provenance_status == ...
#ifndef SHAPIN_COMMON_SIGNATURE_VERIFIER_H_
#define SHAPIN_COMMON_SIGNATURE_VERIFIER_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/git_sha.h"
#include "common/signature/trust.h"
#include "common/signature/verification_result.h"

namespace shapin::signature {

// One layer of a cosign `.sig` manifest.
struct SignatureLayer {
  std::string media_type;  // kSimpleSigningMediaType for a signature
  std::string payload;     // the layer blob: the exact signed bytes
  std::map<std::string, std::string> annotations;
};

// One layer of a cosign `.att` manifest.
struct AttestationLayer {
  std::string media_type;  // kDsseMediaType
  std::string envelope;    // the layer blob: DSSE envelope JSON
  std::map<std::string, std::string> annotations;
};

struct VerifyRequest {
  // The digest of the image manifest that will run. nullopt when it is
  // unknown: every signature is then digest_mismatch.
  std::optional<Digest> image_digest;
  // The commit being deployed; when set, provenance must name it.
  std::optional<GitSha> expected_commit;
  std::vector<SignatureLayer> signatures;
  std::vector<AttestationLayer> attestations;
  // Sigstore bundle JSON documents (cosign v3 referrers).
  std::vector<std::string> bundles;
};

// Thread-safe: Verify is const and may run concurrently.
class Verifier {
 public:
  explicit Verifier(TrustMaterial trust);

  const TrustMaterial& trust() const { return trust_; }

  // Reason precedence when nothing verifies (the furthest a signature got):
  // digest_mismatch > untrusted_identity > invalid_bundle > invalid_payload
  // > key_mismatch > invalid_signature > not_configured > no_signature.
  // Provenance precedence likewise: verified > commit_mismatch >
  // builder_not_allowed > subject_mismatch > untrusted > invalid > missing.
  // Errors: VERIFY_TOOL_ERROR (UNAVAILABLE) when OpenSSL fails internally.
  absl::StatusOr<VerificationResult> Verify(const VerifyRequest& request) const;

 private:
  TrustMaterial trust_;
};

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_VERIFIER_H_
