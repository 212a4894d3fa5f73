// Sigstore bundles (protobuf-specs Bundle, JSON form), what cosign v3 stores
// as OCI referrers of an image: verification material (certificate chain or
// a public-key hint), transparency-log entries, and either a message
// signature or a DSSE envelope.
//
//   SHAPIN_ASSIGN_OR_RETURN(SigstoreBundle b, ParseSigstoreBundle(layer));
//   if (b.dsse_envelope) ... PreAuthEncoding(...) ...
#ifndef SHAPIN_COMMON_SIGNATURE_SIGSTORE_BUNDLE_H_
#define SHAPIN_COMMON_SIGNATURE_SIGSTORE_BUNDLE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/signature/crypto.h"
#include "common/signature/dsse.h"
#include "common/signature/rekor.h"

namespace shapin::signature {

// The artifact / layer media type of v0.3 bundles.
inline constexpr absl::string_view kSigstoreBundleV03MediaType =
    "application/vnd.dev.sigstore.bundle.v0.3+json";

struct MessageSignature {
  std::string digest_algorithm;  // "SHA2_256"
  std::string digest;            // raw bytes
  std::string signature;         // raw bytes
};

struct SigstoreBundle {
  std::string media_type;
  // Leaf first. Empty when the bundle names a public key instead.
  std::vector<Certificate> certificates;
  std::string public_key_hint;
  std::vector<TlogEntry> tlog_entries;
  // Exactly one of these is set.
  std::optional<MessageSignature> message_signature;
  std::optional<DsseEnvelope> dsse_envelope;
};

// INVALID_ARGUMENT unless `json` is a strict-JSON bundle of media type
// "application/vnd.dev.sigstore.bundle+json;version=0.1|0.2|0.3" or
// kSigstoreBundleV03MediaType, with well-formed verification material,
// tlog entries and content.
absl::StatusOr<SigstoreBundle> ParseSigstoreBundle(absl::string_view json);

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_SIGSTORE_BUNDLE_H_
