// CosignVerifier: SignatureVerifier over the cosign-compatible verifier in
// common/signature/, reading .sig/.att tags and referrers through the
// (read-only) registry client.
//
// A fetch that cannot complete (registry unreachable, bad response) is an
// error — the deploy turns it into VERIFY_TOOL_ERROR — while a missing or
// invalid signature is an unverified verdict with its reason.
//
// Verified verdicts are remembered per pinned image for kVerifiedCacheTtl:
// a signature that verified against an immutable digest stays valid, so a
// repeat (every ResolveImage / dry run / deploy of the same SHA) skips the
// five registry reads of .sig, .att and referrers (docs/performance.md).
// Only deleting the signature or adding an attestation within the TTL goes
// unseen until it expires. Unverified verdicts and errors are never kept: a
// signature published after a first check counts at once. At most
// `max_cached_verdicts` images are remembered; beyond that the one
// remembered longest ago is forgotten (common/bounded_cache.h). The tag ->
// digest check is not this class's: a repointed tag resolves to another
// digest, which has no verdict here.
#ifndef SHAPIN_DEPLOY_SVC_ADAPTERS_COSIGN_VERIFIER_H_
#define SHAPIN_DEPLOY_SVC_ADAPTERS_COSIGN_VERIFIER_H_

#include <string>

#include "absl/time/time.h"
#include "common/bounded_cache.h"
#include "common/registry/clock.h"
#include "common/registry/registry_client.h"
#include "common/signature/signature_registry.h"
#include "common/signature/verifier.h"
#include "deploy-svc/signature_verifier.h"

namespace shapin::deploy {

class CosignVerifier : public SignatureVerifier {
 public:
  static constexpr absl::Duration kVerifiedCacheTtl = absl::Seconds(60);
  static constexpr size_t kMaxCachedVerdicts = 1024;

  // `client` and `clock` must outlive the verifier.
  CosignVerifier(registry::RegistryClient& client, signature::Verifier verifier,
                 registry::Clock* clock = registry::RealClock::Get(),
                 size_t max_cached_verdicts = kMaxCachedVerdicts)
      : store_(&client),
        verifier_(std::move(verifier)),
        verified_(max_cached_verdicts, kVerifiedCacheTtl, clock) {}

  absl::StatusOr<SignatureVerdict> Verify(const ImageRef& image,
                                          const GitSha& sha) override;

 private:
  signature::RegistrySignatureStore store_;
  signature::Verifier verifier_;
  // Keyed by pinned reference + SHA.
  BoundedCache<SignatureVerdict> verified_;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_ADAPTERS_COSIGN_VERIFIER_H_
