// Rekor transparency-log evidence, checked offline: the signed entry
// timestamp (SET) a log returned for an entry, and the entry body that binds
// it to one signature, artifact and key.
//
// cosign stores this as the "dev.sigstore.cosign/bundle" annotation:
//   {"SignedEntryTimestamp":"<b64>","Payload":{"body":"<b64 entry>",
//    "integratedTime":1674247893,"logIndex":11605770,"logID":"c0d2…"}}
// The SET is the log's ECDSA signature over the RFC 8785 (JCS) form of
// Payload: {"body":…,"integratedTime":…,"logID":…,"logIndex":…}.
//
//   SHAPIN_ASSIGN_OR_RETURN(TlogEntry e, ParseCosignBundle(annotation));
//   SHAPIN_RETURN_IF_ERROR(VerifySignedEntryTimestamp(e, trust).status());
//   SHAPIN_ASSIGN_OR_RETURN(RekorEntryBody body, ParseRekorEntryBody(e));
//   SHAPIN_RETURN_IF_ERROR(CheckEntryBinding(body, sig, Sha256Hex(payload),
//                                            &key, nullptr));
#ifndef SHAPIN_COMMON_SIGNATURE_REKOR_H_
#define SHAPIN_COMMON_SIGNATURE_REKOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/signature/crypto.h"
#include "common/signature/trust.h"

namespace shapin::signature {

// One log entry with its inclusion promise.
struct TlogEntry {
  // The canonicalized entry body, standard base64, exactly as the log
  // served it (the SET covers this text).
  std::string body_base64;
  int64_t integrated_time = 0;  // seconds since the epoch
  int64_t log_index = 0;
  std::string log_id_hex;  // lowercase hex
  // The SET: the log's signature (DER). Empty when the entry has none.
  std::string signed_entry_timestamp;
  // "hashedrekord", "dsse", … when the carrier says (Sigstore bundles).
  std::string kind;

  absl::Time integrated_at() const {
    return absl::FromUnixSeconds(integrated_time);
  }
};

// Parses cosign's bundle annotation. INVALID_ARGUMENT when it is not strict
// JSON of that shape (SET and body base64, times and indexes non-negative
// integers below 2^53, log ID hex).
absl::StatusOr<TlogEntry> ParseCosignBundle(absl::string_view annotation);

// The exact bytes the SET signs (RFC 8785 canonical JSON).
std::string SignedEntryTimestampPayload(const TlogEntry& entry);

// Verifies the SET with the configured log whose ID is entry.log_id_hex and
// whose key was valid at the integration time. FAILED_PRECONDITION when no
// such log is configured, the SET is absent, or it does not verify;
// INTERNAL when OpenSSL fails.
absl::StatusOr<const TransparencyLog*> VerifySignedEntryTimestamp(
    const TlogEntry& entry, const TrustMaterial& trust);

// What an entry body records (hashedrekord 0.0.1, rekord 0.0.1, intoto
// 0.0.1 / 0.0.2, dsse 0.0.1).
struct RekorEntryBody {
  std::string kind;
  std::string api_version;
  // Signatures recorded, decoded. Empty for kinds that only record hashes
  // (intoto 0.0.1).
  std::vector<std::string> signatures;
  // PEM text of the public keys / certificates recorded.
  std::vector<std::string> verifier_pems;
  // sha256 (lowercase hex) of what was signed: the artifact for
  // hashedrekord / rekord, the DSSE payload for intoto / dsse.
  std::string artifact_sha256_hex;
};

// INVALID_ARGUMENT for a body that is not base64 strict JSON of a known
// kind and version with the fields above.
absl::StatusOr<RekorEntryBody> ParseRekorEntryBody(
    absl::string_view body_base64);

// Checks that `body` is about this signature: it records `signature` (when
// its kind records signatures), the artifact hash `artifact_sha256_hex`, and
// the verifier — `cert`'s certificate when given, else `key`. (For
// intoto 0.0.2 the recorded signature may be double base64; both forms are
// accepted.) FAILED_PRECONDITION naming the first difference.
absl::Status CheckEntryBinding(const RekorEntryBody& body,
                               absl::string_view signature,
                               absl::string_view artifact_sha256_hex,
                               const PublicKey* key, const Certificate* cert);

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_REKOR_H_
