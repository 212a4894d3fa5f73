// CosignVerifier: SignatureVerifier over the cosign-compatible verifier in
// common/signature/, reading .sig/.att tags and referrers through the
// (read-only) registry client.
//
// A fetch that cannot complete (registry unreachable, bad response) is an
// error — the deploy turns it into VERIFY_TOOL_ERROR — while a missing or
// invalid signature is an unverified verdict with its reason.
#ifndef SHAPIN_DEPLOY_SVC_ADAPTERS_COSIGN_VERIFIER_H_
#define SHAPIN_DEPLOY_SVC_ADAPTERS_COSIGN_VERIFIER_H_

#include "common/registry/registry_client.h"
#include "common/signature/signature_registry.h"
#include "common/signature/verifier.h"
#include "deploy-svc/signature_verifier.h"

namespace shapin::deploy {

class CosignVerifier : public SignatureVerifier {
 public:
  // `client` must outlive the verifier.
  CosignVerifier(registry::RegistryClient& client, signature::Verifier verifier)
      : store_(&client), verifier_(std::move(verifier)) {}

  absl::StatusOr<SignatureVerdict> Verify(const ImageRef& image,
                                          const GitSha& sha) override;

 private:
  signature::RegistrySignatureStore store_;
  signature::Verifier verifier_;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_ADAPTERS_COSIGN_VERIFIER_H_
