// cosign's "simple signing" payload and the OCI annotations of a `.sig`
// layer (the legacy tag scheme: sha256-<hex>.sig next to the image).
//
//   {"critical":{"identity":{"docker-reference":"ghcr.io/acme/app"},
//                "image":{"docker-manifest-digest":"sha256:…"},
//                "type":"cosign container image signature"},
//    "optional":null}
//
//   std::string payload = BuildSimpleSigningPayload("ghcr.io/acme/app", d);
//   SHAPIN_ASSIGN_OR_RETURN(SimpleSigningPayload p,
//                           ParseSimpleSigningPayload(payload));
#ifndef SHAPIN_COMMON_SIGNATURE_SIMPLE_SIGNING_H_
#define SHAPIN_COMMON_SIGNATURE_SIMPLE_SIGNING_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"

namespace shapin::signature {

inline constexpr absl::string_view kSimpleSigningMediaType =
    "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr absl::string_view kCosignSignatureType =
    "cosign container image signature";

// Layer annotations cosign writes on `.sig` (and `.att`) manifests.
inline constexpr absl::string_view kSignatureAnnotation =
    "dev.cosignproject.cosign/signature";
inline constexpr absl::string_view kCertificateAnnotation =
    "dev.sigstore.cosign/certificate";
inline constexpr absl::string_view kChainAnnotation =
    "dev.sigstore.cosign/chain";
inline constexpr absl::string_view kBundleAnnotation =
    "dev.sigstore.cosign/bundle";
inline constexpr absl::string_view kPredicateTypeAnnotation = "predicateType";

struct SimpleSigningPayload {
  // critical.identity.docker-reference ("" when absent). cosign does not
  // check it; neither does shapin (it names where the image was pushed).
  std::string docker_reference;
  // critical.image.docker-manifest-digest, exactly as written.
  std::string manifest_digest;
  // critical.type.
  std::string type;
};

// INVALID_ARGUMENT for anything but a strict-JSON object with a "critical"
// object holding a string "type" and an "image" object with a string
// "docker-manifest-digest" ("identity", when present, must be an object
// whose "docker-reference" is a string; "optional" must be an object or
// null). The type's value is not checked here (see the verifier).
absl::StatusOr<SimpleSigningPayload> ParseSimpleSigningPayload(
    absl::string_view bytes);

// The payload exactly as cosign writes it (Go's encoding/json field order
// and escaping); `optional` entries, sorted by key, replace the null.
std::string BuildSimpleSigningPayload(
    absl::string_view docker_reference, const Digest& digest,
    const std::map<std::string, std::string>& optional = {});

// A JSON string as Go's encoding/json writes it: like RFC 8259 with '<',
// '>', '&', U+2028 and U+2029 escaped as \u003c etc.
std::string GoJsonString(absl::string_view value);

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_SIMPLE_SIGNING_H_
