#include "common/signature/rekor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/signature/crypto.h"
#include "common/signature/strict_json.h"
#include "common/status_macros.h"

namespace shapin::signature {
namespace {

using Json = nlohmann::json;

// Integers above this cannot round-trip through the float64 that cosign's
// canonicaliser (and JavaScript) uses, so a SET over them is ambiguous.
constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

absl::Status BundleError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("rekor bundle: ", what));
}

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return !s.empty();
}

absl::Status EntryError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("rekor entry: ", what));
}

// "sha256" hash object {"algorithm":"sha256","value":"<hex>"} → hex.
std::optional<std::string> Sha256HashValue(const Json* hash) {
  if (hash == nullptr) return std::nullopt;
  const std::string* algorithm = FindString(*hash, "algorithm");
  const std::string* value = FindString(*hash, "value");
  if (algorithm == nullptr || value == nullptr || *algorithm != "sha256" ||
      value->size() != 64) {
    return std::nullopt;
  }
  std::string lower = absl::AsciiStrToLower(*value);
  if (!IsLowerHex(lower)) return std::nullopt;
  return lower;
}

absl::StatusOr<std::string> DecodedField(const Json& object,
                                         absl::string_view key,
                                         absl::string_view where) {
  const std::string* text = FindString(object, key);
  if (text == nullptr) {
    return EntryError(absl::StrCat("no string ", where));
  }
  absl::StatusOr<std::string> bytes = Base64Decode(*text);
  if (!bytes.ok()) {
    return EntryError(absl::StrCat(where, ": ", bytes.status().message()));
  }
  return bytes;
}

absl::Status ParseHashedRekord(const Json& spec, RekorEntryBody& out) {
  const Json* signature = FindObject(spec, "signature");
  if (signature == nullptr) return EntryError("no spec.signature");
  SHAPIN_ASSIGN_OR_RETURN(
      std::string sig,
      DecodedField(*signature, "content", "spec.signature.content"));
  out.signatures.push_back(std::move(sig));
  const Json* public_key = FindObject(*signature, "publicKey");
  if (public_key == nullptr) {
    return EntryError("no spec.signature.publicKey");
  }
  SHAPIN_ASSIGN_OR_RETURN(
      std::string pem,
      DecodedField(*public_key, "content", "spec.signature.publicKey.content"));
  out.verifier_pems.push_back(std::move(pem));
  const Json* data = FindObject(spec, "data");
  if (data == nullptr) return EntryError("no spec.data");
  std::optional<std::string> hash = Sha256HashValue(FindObject(*data, "hash"));
  if (hash.has_value()) {
    out.artifact_sha256_hex = *hash;
    return absl::OkStatus();
  }
  // rekord 0.0.1 may carry the artifact itself.
  if (out.kind == "rekord" && FindString(*data, "content") != nullptr) {
    SHAPIN_ASSIGN_OR_RETURN(
        std::string content,
        DecodedField(*data, "content", "spec.data.content"));
    out.artifact_sha256_hex = Sha256Hex(content);
    return absl::OkStatus();
  }
  return EntryError("no sha256 spec.data.hash");
}

absl::Status ParseInToto(const Json& spec, RekorEntryBody& out) {
  const Json* content = FindObject(spec, "content");
  if (content == nullptr) return EntryError("no spec.content");
  std::optional<std::string> hash =
      Sha256HashValue(FindObject(*content, "payloadHash"));
  if (!hash.has_value()) {
    return EntryError("no sha256 spec.content.payloadHash");
  }
  out.artifact_sha256_hex = *hash;
  if (out.api_version == "0.0.1") {
    SHAPIN_ASSIGN_OR_RETURN(std::string pem,
                            DecodedField(spec, "publicKey", "spec.publicKey"));
    out.verifier_pems.push_back(std::move(pem));
    return absl::OkStatus();
  }
  const Json* envelope = FindObject(*content, "envelope");
  const Json* signatures =
      envelope == nullptr ? nullptr : FindArray(*envelope, "signatures");
  if (signatures == nullptr || signatures->empty()) {
    return EntryError("no spec.content.envelope.signatures");
  }
  for (const Json& s : *signatures) {
    SHAPIN_ASSIGN_OR_RETURN(
        std::string pem,
        DecodedField(s, "publicKey", "envelope.signatures[].publicKey"));
    out.verifier_pems.push_back(std::move(pem));
    SHAPIN_ASSIGN_OR_RETURN(
        std::string sig, DecodedField(s, "sig", "envelope.signatures[].sig"));
    out.signatures.push_back(std::move(sig));
  }
  return absl::OkStatus();
}

absl::Status ParseDsse(const Json& spec, RekorEntryBody& out) {
  std::optional<std::string> hash =
      Sha256HashValue(FindObject(spec, "payloadHash"));
  if (!hash.has_value()) return EntryError("no sha256 spec.payloadHash");
  out.artifact_sha256_hex = *hash;
  const Json* signatures = FindArray(spec, "signatures");
  if (signatures == nullptr || signatures->empty()) {
    return EntryError("no spec.signatures");
  }
  for (const Json& s : *signatures) {
    SHAPIN_ASSIGN_OR_RETURN(
        std::string pem,
        DecodedField(s, "verifier", "spec.signatures[].verifier"));
    out.verifier_pems.push_back(std::move(pem));
    SHAPIN_ASSIGN_OR_RETURN(
        std::string sig,
        DecodedField(s, "signature", "spec.signatures[].signature"));
    out.signatures.push_back(std::move(sig));
  }
  return absl::OkStatus();
}

// Whether `pem` (from an entry body) is the verifier used: the same
// certificate, or the same public key.
bool SameVerifier(absl::string_view pem, const PublicKey* key,
                  const Certificate* cert) {
  if (cert != nullptr) {
    if (!absl::StrContains(pem, "CERTIFICATE")) return false;
    absl::StatusOr<std::vector<Certificate>> certs =
        Certificate::ChainFromPem(pem);
    return certs.ok() && !certs->empty() && certs->front() == *cert;
  }
  if (key == nullptr) return false;
  absl::StatusOr<PublicKey> recorded = PublicKey::FromPem(pem);
  return recorded.ok() && *recorded == *key;
}

}  // namespace

absl::StatusOr<TlogEntry> ParseCosignBundle(absl::string_view annotation) {
  absl::StatusOr<Json> doc = ParseStrictJson(annotation);
  if (!doc.ok()) return BundleError(doc.status().message());
  if (!doc->is_object()) return BundleError("not a JSON object");
  TlogEntry entry;
  const std::string* set = FindString(*doc, "SignedEntryTimestamp");
  if (set == nullptr) return BundleError("no SignedEntryTimestamp");
  absl::StatusOr<std::string> set_bytes = Base64Decode(*set);
  if (!set_bytes.ok() || set_bytes->empty()) {
    return BundleError("SignedEntryTimestamp is not base64");
  }
  entry.signed_entry_timestamp = *std::move(set_bytes);
  const Json* payload = FindObject(*doc, "Payload");
  if (payload == nullptr) return BundleError("no Payload object");
  const std::string* body = FindString(*payload, "body");
  if (body == nullptr) return BundleError("no string Payload.body");
  entry.body_base64 = *body;
  const Json* time = FindMember(*payload, "integratedTime");
  const Json* index = FindMember(*payload, "logIndex");
  if (time == nullptr || !time->is_number_integer() || index == nullptr ||
      !index->is_number_integer()) {
    return BundleError("Payload.integratedTime / logIndex are not integers");
  }
  std::optional<int64_t> t = FindInt64(*payload, "integratedTime");
  std::optional<int64_t> i = FindInt64(*payload, "logIndex");
  if (!t.has_value() || !i.has_value() || *t < 0 || *i < 0 ||
      *t > kMaxSafeInteger || *i > kMaxSafeInteger) {
    return BundleError("Payload.integratedTime / logIndex out of range");
  }
  entry.integrated_time = *t;
  entry.log_index = *i;
  const std::string* log_id = FindString(*payload, "logID");
  if (log_id == nullptr || !IsLowerHex(*log_id)) {
    return BundleError("Payload.logID is not lowercase hex");
  }
  entry.log_id_hex = *log_id;
  return entry;
}

std::string SignedEntryTimestampPayload(const TlogEntry& entry) {
  // Keys in JCS order (UTF-16 code unit order, here plain ASCII order);
  // integers below 2^53 print as plain decimals in ES6 number form.
  return absl::StrCat("{\"body\":", CanonicalJsonString(entry.body_base64),
                      ",\"integratedTime\":", entry.integrated_time,
                      ",\"logID\":", CanonicalJsonString(entry.log_id_hex),
                      ",\"logIndex\":", entry.log_index, "}");
}

absl::StatusOr<const TransparencyLog*> VerifySignedEntryTimestamp(
    const TlogEntry& entry, const TrustMaterial& trust) {
  if (entry.signed_entry_timestamp.empty()) {
    return absl::FailedPreconditionError(
        "log entry has no signed entry timestamp");
  }
  if (entry.integrated_time < 0 || entry.integrated_time > kMaxSafeInteger ||
      entry.log_index < 0 || entry.log_index > kMaxSafeInteger) {
    return absl::FailedPreconditionError(
        "log entry integratedTime / logIndex out of range");
  }
  const TransparencyLog* log =
      trust.FindLog(entry.log_id_hex, entry.integrated_at());
  if (log == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("no configured Rekor key with log ID ", entry.log_id_hex,
                     " valid at ", entry.integrated_time));
  }
  SHAPIN_ASSIGN_OR_RETURN(bool ok,
                          log->key.Verify(SignedEntryTimestampPayload(entry),
                                          entry.signed_entry_timestamp));
  if (!ok) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signed entry timestamp of log index ", entry.log_index,
        " does not verify with the Rekor key ", log->log_id_hex.substr(0, 12)));
  }
  return log;
}

absl::StatusOr<RekorEntryBody> ParseRekorEntryBody(
    absl::string_view body_base64) {
  absl::StatusOr<std::string> bytes = Base64Decode(body_base64);
  if (!bytes.ok()) {
    return EntryError(absl::StrCat("body: ", bytes.status().message()));
  }
  absl::StatusOr<Json> doc = ParseStrictJson(*bytes);
  if (!doc.ok()) return EntryError(doc.status().message());
  RekorEntryBody out;
  const std::string* kind = FindString(*doc, "kind");
  const std::string* version = FindString(*doc, "apiVersion");
  const Json* spec = FindObject(*doc, "spec");
  if (kind == nullptr || version == nullptr || spec == nullptr) {
    return EntryError("no kind / apiVersion / spec");
  }
  out.kind = *kind;
  out.api_version = *version;
  if ((out.kind == "hashedrekord" || out.kind == "rekord") &&
      out.api_version == "0.0.1") {
    SHAPIN_RETURN_IF_ERROR(ParseHashedRekord(*spec, out));
  } else if (out.kind == "intoto" &&
             (out.api_version == "0.0.1" || out.api_version == "0.0.2")) {
    SHAPIN_RETURN_IF_ERROR(ParseInToto(*spec, out));
  } else if (out.kind == "dsse" && out.api_version == "0.0.1") {
    SHAPIN_RETURN_IF_ERROR(ParseDsse(*spec, out));
  } else {
    return EntryError(
        absl::StrCat("unsupported kind ", out.kind, " ", out.api_version));
  }
  return out;
}

absl::Status CheckEntryBinding(const RekorEntryBody& body,
                               absl::string_view signature,
                               absl::string_view artifact_sha256_hex,
                               const PublicKey* key, const Certificate* cert) {
  if (body.artifact_sha256_hex != artifact_sha256_hex) {
    return absl::FailedPreconditionError(absl::StrCat(
        "log entry is about artifact sha256:", body.artifact_sha256_hex,
        ", not sha256:", artifact_sha256_hex));
  }
  if (!body.signatures.empty()) {
    bool found = false;
    for (const std::string& recorded : body.signatures) {
      if (recorded == signature) {
        found = true;
        break;
      }
      // intoto 0.0.2 records the DSSE signature's base64 text, base64'd.
      absl::StatusOr<std::string> inner = Base64DecodeLenient(recorded);
      if (inner.ok() && *inner == signature) {
        found = true;
        break;
      }
    }
    if (!found) {
      return absl::FailedPreconditionError(
          "log entry records a different signature");
    }
  }
  for (const std::string& pem : body.verifier_pems) {
    if (SameVerifier(pem, key, cert)) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("log entry records a different ",
                   cert != nullptr ? "certificate" : "public key"));
}

}  // namespace shapin::signature
