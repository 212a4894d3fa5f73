// SignatureVerifier: the supply-chain check a deployment asks for (FR-014).
//
// Returns a verdict — verified, or unverified with a reason — or an error
// when no result could be determined (registry unreachable, tool failure),
// which the deploy turns into VERIFY_TOOL_ERROR. The cosign-compatible
// implementation is in common/signature/; NotConfiguredVerifier is used
// when no trust material is configured.
#ifndef SHAPIN_DEPLOY_SVC_SIGNATURE_VERIFIER_H_
#define SHAPIN_DEPLOY_SVC_SIGNATURE_VERIFIER_H_

#include "absl/status/statusor.h"
#include "common/git_sha.h"
#include "common/image_ref.h"
#include "deploy-svc/deploy_policy.h"

namespace shapin::deploy {

class SignatureVerifier {
 public:
  virtual ~SignatureVerifier() = default;
  // `image` is pinned (repository:sha@digest).
  virtual absl::StatusOr<SignatureVerdict> Verify(const ImageRef& image,
                                                  const GitSha& sha) = 0;
};

// No keys or identities configured: every image is unverified for that
// reason, which soft mode records and lets through.
class NotConfiguredVerifier : public SignatureVerifier {
 public:
  absl::StatusOr<SignatureVerdict> Verify(const ImageRef&,
                                          const GitSha&) override {
    return SignatureVerdict{.verified = false,
                            .reason = "not_configured",
                            .provenance_status = "not_configured"};
  }
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_SIGNATURE_VERIFIER_H_
