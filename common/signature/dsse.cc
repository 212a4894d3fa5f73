#include "common/signature/dsse.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/signature/crypto.h"
#include "common/signature/simple_signing.h"
#include "common/signature/strict_json.h"

namespace shapin::signature {
namespace {

using Json = nlohmann::json;

absl::Status EnvelopeError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("DSSE envelope: ", what));
}

}  // namespace

absl::StatusOr<DsseEnvelope> DsseEnvelopeFromJson(const Json& doc) {
  if (!doc.is_object()) return EnvelopeError("not a JSON object");
  DsseEnvelope out;
  const std::string* type = FindString(doc, "payloadType");
  if (type == nullptr) return EnvelopeError("no string payloadType");
  out.payload_type = *type;
  const std::string* payload = FindString(doc, "payload");
  if (payload == nullptr) return EnvelopeError("no string payload");
  absl::StatusOr<std::string> decoded = Base64DecodeLenient(*payload);
  if (!decoded.ok()) {
    return EnvelopeError(absl::StrCat("payload: ", decoded.status().message()));
  }
  out.payload = *std::move(decoded);
  const Json* signatures = FindArray(doc, "signatures");
  if (signatures == nullptr || signatures->empty()) {
    return EnvelopeError("no signatures");
  }
  for (size_t i = 0; i < signatures->size(); ++i) {
    const Json& s = (*signatures)[i];
    const std::string* sig = FindString(s, "sig");
    if (sig == nullptr) {
      return EnvelopeError(absl::StrCat("signatures[", i, "] has no sig"));
    }
    absl::StatusOr<std::string> sig_bytes = Base64DecodeLenient(*sig);
    if (!sig_bytes.ok() || sig_bytes->empty()) {
      return EnvelopeError(
          absl::StrCat("signatures[", i, "].sig is not base64"));
    }
    DsseSignature entry;
    entry.sig = *std::move(sig_bytes);
    if (const Json* keyid = FindMember(s, "keyid"); keyid != nullptr) {
      if (!keyid->is_string()) {
        return EnvelopeError(
            absl::StrCat("signatures[", i, "].keyid is not a string"));
      }
      entry.keyid = keyid->get<std::string>();
    }
    out.signatures.push_back(std::move(entry));
  }
  return out;
}

absl::StatusOr<DsseEnvelope> ParseDsseEnvelope(absl::string_view json) {
  absl::StatusOr<Json> doc = ParseStrictJson(json);
  if (!doc.ok()) return EnvelopeError(doc.status().message());
  return DsseEnvelopeFromJson(*doc);
}

std::string PreAuthEncoding(absl::string_view payload_type,
                            absl::string_view payload) {
  return absl::StrCat("DSSEv1 ", payload_type.size(), " ", payload_type, " ",
                      payload.size(), " ", payload);
}

std::string SerializeDsseEnvelope(const DsseEnvelope& envelope) {
  std::string out = absl::StrCat(
      "{\"payloadType\":", GoJsonString(envelope.payload_type),
      ",\"payload\":\"", Base64Encode(envelope.payload), "\",\"signatures\":[");
  for (size_t i = 0; i < envelope.signatures.size(); ++i) {
    if (i > 0) out.push_back(',');
    absl::StrAppend(
        &out, "{\"keyid\":", GoJsonString(envelope.signatures[i].keyid),
        ",\"sig\":\"", Base64Encode(envelope.signatures[i].sig), "\"}");
  }
  absl::StrAppend(&out, "]}");
  return out;
}

}  // namespace shapin::signature
