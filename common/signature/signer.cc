#include "common/signature/signer.h"

#include <map>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/signature/dsse.h"
#include "common/signature/in_toto.h"
#include "common/signature/simple_signing.h"
#include "common/status_macros.h"

namespace shapin::signature {

Signer::Signer(PrivateKey key) : key_(std::move(key)) {}

absl::StatusOr<SignatureLayer> Signer::SignImage(
    absl::string_view docker_reference, const Digest& digest,
    const std::map<std::string, std::string>& optional) const {
  SignatureLayer layer;
  layer.media_type = std::string(kSimpleSigningMediaType);
  layer.payload = BuildSimpleSigningPayload(docker_reference, digest, optional);
  SHAPIN_ASSIGN_OR_RETURN(std::string sig, key_.Sign(layer.payload));
  layer.annotations[std::string(kSignatureAnnotation)] = Base64Encode(sig);
  return layer;
}

absl::StatusOr<AttestationLayer> Signer::AttestStatement(
    std::string statement_json, absl::string_view predicate_type) const {
  DsseEnvelope envelope;
  envelope.payload_type = std::string(kInTotoPayloadType);
  envelope.payload = std::move(statement_json);
  SHAPIN_ASSIGN_OR_RETURN(
      std::string sig,
      key_.Sign(PreAuthEncoding(envelope.payload_type, envelope.payload)));
  envelope.signatures.push_back(DsseSignature{"", std::move(sig)});
  AttestationLayer layer;
  layer.media_type = std::string(kDsseMediaType);
  layer.envelope = SerializeDsseEnvelope(envelope);
  layer.annotations[std::string(kSignatureAnnotation)] = "";
  layer.annotations[std::string(kPredicateTypeAnnotation)] =
      std::string(predicate_type);
  return layer;
}

absl::StatusOr<AttestationLayer> Signer::AttestProvenance(
    const BuildProvenance& build) const {
  return AttestStatement(BuildSlsaV1Statement(build), kSlsaProvenanceV1);
}

absl::StatusOr<AttestationLayer> Signer::Attest(
    absl::string_view subject_name, const Digest& digest,
    absl::string_view predicate_type, const nlohmann::json& predicate) const {
  return AttestStatement(
      BuildStatement(subject_name, digest, predicate_type, predicate),
      predicate_type);
}

}  // namespace shapin::signature
