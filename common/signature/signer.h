// Signer: produces cosign-compatible signatures and DSSE attestations for an
// image digest (build-svc), pure — pushing them is the registry adapter's
// job (signature_registry.h).
//
//   SHAPIN_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::FromPem(pem));
//   Signer signer(std::move(key));
//   SHAPIN_ASSIGN_OR_RETURN(SignatureLayer sig,
//                           signer.SignImage("ghcr.io/acme/app", digest));
//   SHAPIN_ASSIGN_OR_RETURN(AttestationLayer att,
//                           signer.AttestProvenance(build_provenance));
// `cosign verify --key <public key>` and `cosign verify-attestation --type
// slsaprovenance1 --key …` accept what this produces (with
// --insecure-ignore-tlog, as nothing is uploaded to Rekor).
#ifndef SHAPIN_COMMON_SIGNATURE_SIGNER_H_
#define SHAPIN_COMMON_SIGNATURE_SIGNER_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"
#include "common/signature/crypto.h"
#include "common/signature/in_toto.h"
#include "common/signature/verifier.h"
#include "nlohmann/json.hpp"

namespace shapin::signature {

class Signer {
 public:
  explicit Signer(PrivateKey key);

  const PublicKey& public_key() const { return key_.public_key(); }

  // A `.sig` layer: the simple-signing payload for `docker_reference` (the
  // repository the image was pushed to) and `digest`, with the base64 DER
  // signature in the dev.cosignproject.cosign/signature annotation.
  // `optional` becomes the payload's "optional" map (cosign -a k=v).
  absl::StatusOr<SignatureLayer> SignImage(
      absl::string_view docker_reference, const Digest& digest,
      const std::map<std::string, std::string>& optional = {}) const;

  // A `.att` layer: a DSSE envelope (in-toto payload type) holding an
  // in-toto v1 statement with the SLSA v1 provenance of `build`; annotated
  // with predicateType, as cosign does.
  absl::StatusOr<AttestationLayer> AttestProvenance(
      const BuildProvenance& build) const;

  // A `.att` layer for any predicate (an SBOM: predicate_type
  // "https://spdx.dev/Document" or "https://cyclonedx.org/bom").
  absl::StatusOr<AttestationLayer> Attest(
      absl::string_view subject_name, const Digest& digest,
      absl::string_view predicate_type, const nlohmann::json& predicate) const;

  // Signs an already serialised in-toto statement.
  absl::StatusOr<AttestationLayer> AttestStatement(
      std::string statement_json, absl::string_view predicate_type) const;

 private:
  PrivateKey key_;
};

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_SIGNER_H_
