// DSSE (Dead Simple Signing Envelope) v1, as cosign stores attestations:
//
//   {"payloadType":"application/vnd.in-toto+json","payload":"<b64>",
//    "signatures":[{"keyid":"","sig":"<b64>"}]}
//
// Signatures cover PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP
// LEN(body) SP body, LEN in ASCII decimal without leading zeros.
//
//   SHAPIN_ASSIGN_OR_RETURN(DsseEnvelope env, ParseDsseEnvelope(layer));
//   std::string signed_bytes = PreAuthEncoding(env.payload_type, env.payload);
#ifndef SHAPIN_COMMON_SIGNATURE_DSSE_H_
#define SHAPIN_COMMON_SIGNATURE_DSSE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace shapin::signature {

inline constexpr absl::string_view kDsseMediaType =
    "application/vnd.dsse.envelope.v1+json";
inline constexpr absl::string_view kInTotoPayloadType =
    "application/vnd.in-toto+json";

struct DsseSignature {
  std::string keyid;
  std::string sig;  // decoded bytes
};

struct DsseEnvelope {
  std::string payload_type;
  std::string payload;  // decoded bytes
  std::vector<DsseSignature> signatures;
};

// INVALID_ARGUMENT unless `json` is a strict-JSON object with a string
// payloadType, a base64 (standard or URL-safe) payload, and a non-empty
// signatures array of objects with a non-empty base64 "sig" (and, when
// present, a string "keyid").
absl::StatusOr<DsseEnvelope> ParseDsseEnvelope(absl::string_view json);

// Same checks on an already parsed value (Sigstore bundles embed the
// envelope).
absl::StatusOr<DsseEnvelope> DsseEnvelopeFromJson(const nlohmann::json& value);

// PAE(type, body).
std::string PreAuthEncoding(absl::string_view payload_type,
                            absl::string_view payload);

// The envelope's JSON as cosign writes it (standard base64, keys in the
// order payloadType, payload, signatures; each signature keyid then sig).
std::string SerializeDsseEnvelope(const DsseEnvelope& envelope);

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_DSSE_H_
