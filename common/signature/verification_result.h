// The outcome of verifying an image's signatures and provenance: a fixed
// vocabulary of reasons that deploy-svc records with every deployment.
//
//   VerificationResult r = ...;
//   if (r.status() == VerificationStatus::kUnverified)
//     LOG << "signature=" << ReasonName(r.reason) << " " << r.details;
#ifndef SHAPIN_COMMON_SIGNATURE_VERIFICATION_RESULT_H_
#define SHAPIN_COMMON_SIGNATURE_VERIFICATION_RESULT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace shapin::signature {

enum class VerificationStatus { kVerified, kUnverified };

// Why an image is (un)verified. When several signatures fail for different
// reasons, the one that got furthest is reported (see Verifier).
enum class Reason {
  // At least one signature verified completely.
  kVerified,
  // No signature to check: no .sig / bundle, or no layer of the cosign
  // simple-signing media type.
  kNoSignature,
  // No configured public key verifies the signature over its payload: a
  // different key signed it, or payload or signature were altered after
  // signing (cryptographically indistinguishable).
  kKeyMismatch,
  // A correctly signed payload names another image digest (or no digest of
  // the image is known to compare with).
  kDigestMismatch,
  // Keyless: the certificate does not chain to a configured Fulcio root at
  // the log's integration time, lacks the code-signing EKU, or its identity
  // (SAN) / OIDC issuer is not an allowed one.
  kUntrustedIdentity,
  // The Rekor bundle is required but missing, malformed, its signed entry
  // timestamp does not verify with a configured Rekor key, or its entry is
  // not about this signature, payload and key.
  kInvalidBundle,
  // The signature annotation is missing or not a signature (bad base64 or
  // encoding), or a keyless signature does not verify with its own
  // certificate's key.
  kInvalidSignature,
  // The signed payload is not a cosign simple-signing document (bad JSON,
  // duplicate keys, missing fields, wrong critical.type).
  kInvalidPayload,
  // Nothing to verify with: no public keys and no keyless identities (or,
  // for a keyless signature, no Fulcio roots / Rekor keys) are configured.
  kNotConfigured,
};

// "verified", "no_signature", "key_mismatch", "digest_mismatch",
// "untrusted_identity", "invalid_bundle", "invalid_signature",
// "invalid_payload", "not_configured".
absl::string_view ReasonName(Reason reason);

// What the SLSA provenance attestations say about the build.
enum class ProvenanceStatus {
  // A signed provenance attestation about this image names an allowed
  // builder and the expected source commit.
  kVerified,
  // No provenance attestation (SLSA v0.2 or v1) was found.
  kMissing,
  // Builder id not in the allow-list.
  kBuilderNotAllowed,
  // The source commit differs from the deployed SHA (or none is recorded).
  kCommitMismatch,
  // The statement's subjects do not include the image digest.
  kSubjectMismatch,
  // The attestation's signature does not verify with the trust material.
  kUntrusted,
  // Malformed envelope, statement or predicate.
  kInvalid,
  // No builder allow-list is configured, so provenance is not evaluated.
  kNotConfigured,
};

// "verified", "missing", "builder_not_allowed", "commit_mismatch",
// "subject_mismatch", "untrusted", "invalid", "not_configured".
absl::string_view ProvenanceStatusName(ProvenanceStatus status);

struct VerificationResult {
  VerificationStatus status() const {
    return reason == Reason::kVerified ? VerificationStatus::kVerified
                                       : VerificationStatus::kUnverified;
  }

  Reason reason = Reason::kNoSignature;
  ProvenanceStatus provenance_status = ProvenanceStatus::kMissing;
  // Who signed, when verified: "key sha256:<hex of the key's DER>" or
  // "<SAN> (issuer <issuer>)".
  std::string signer;
  // The Rekor entry that vouched for the verified signature, if any.
  std::optional<int64_t> rekor_log_index;
  // The builder and source commit of the verified provenance, if any.
  std::string builder_id;
  std::string source_commit;
  // One short line per signature / attestation examined, "; "-separated:
  // what was decided and why. For logs and the deployment record.
  std::string details;
  std::string provenance_details;
};

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_VERIFICATION_RESULT_H_
