#include "common/signature/sigstore_bundle.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/signature/crypto.h"
#include "common/signature/dsse.h"
#include "common/signature/rekor.h"
#include "common/signature/strict_json.h"
#include "common/status_macros.h"

namespace shapin::signature {
namespace {

using Json = nlohmann::json;

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

absl::Status BundleError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("sigstore bundle: ", what));
}

absl::StatusOr<std::string> DecodedString(const Json& object,
                                          absl::string_view key,
                                          absl::string_view where) {
  const std::string* text = FindString(object, key);
  if (text == nullptr) return BundleError(absl::StrCat("no string ", where));
  absl::StatusOr<std::string> bytes = Base64DecodeLenient(*text);
  if (!bytes.ok()) {
    return BundleError(absl::StrCat(where, ": ", bytes.status().message()));
  }
  return bytes;
}

bool KnownMediaType(absl::string_view type) {
  return type == kSigstoreBundleV03MediaType ||
         type == "application/vnd.dev.sigstore.bundle+json;version=0.1" ||
         type == "application/vnd.dev.sigstore.bundle+json;version=0.2" ||
         type == "application/vnd.dev.sigstore.bundle+json;version=0.3";
}

absl::Status ParseMaterial(const Json& material, SigstoreBundle& out) {
  if (const Json* chain = FindObject(material, "x509CertificateChain");
      chain != nullptr) {
    const Json* certs = FindArray(*chain, "certificates");
    if (certs == nullptr || certs->empty()) {
      return BundleError("empty x509CertificateChain");
    }
    for (const Json& c : *certs) {
      SHAPIN_ASSIGN_OR_RETURN(
          std::string der,
          DecodedString(c, "rawBytes", "x509CertificateChain rawBytes"));
      absl::StatusOr<Certificate> cert = Certificate::FromDer(der);
      if (!cert.ok()) return BundleError(cert.status().message());
      out.certificates.push_back(*std::move(cert));
    }
  } else if (const Json* cert = FindObject(material, "certificate");
             cert != nullptr) {
    SHAPIN_ASSIGN_OR_RETURN(
        std::string der,
        DecodedString(*cert, "rawBytes", "certificate rawBytes"));
    absl::StatusOr<Certificate> parsed = Certificate::FromDer(der);
    if (!parsed.ok()) return BundleError(parsed.status().message());
    out.certificates.push_back(*std::move(parsed));
  } else if (const Json* key = FindObject(material, "publicKey");
             key != nullptr) {
    if (const std::string* hint = FindString(*key, "hint"); hint != nullptr) {
      out.public_key_hint = *hint;
    }
  } else {
    return BundleError(
        "verificationMaterial has no certificate, chain or public key");
  }
  const Json* entries = FindMember(material, "tlogEntries");
  if (entries == nullptr) return absl::OkStatus();
  if (!entries->is_array()) return BundleError("tlogEntries is not an array");
  for (size_t i = 0; i < entries->size(); ++i) {
    const Json& e = (*entries)[i];
    const std::string where = absl::StrCat("tlogEntries[", i, "]");
    TlogEntry entry;
    std::optional<int64_t> index = FindInt64(e, "logIndex");
    std::optional<int64_t> time = FindInt64(e, "integratedTime");
    if (!index.has_value() || !time.has_value() || *index < 0 || *time < 0 ||
        *index > kMaxSafeInteger || *time > kMaxSafeInteger) {
      return BundleError(absl::StrCat(
          where, ": logIndex / integratedTime missing or invalid"));
    }
    entry.log_index = *index;
    entry.integrated_time = *time;
    const Json* log_id = FindObject(e, "logId");
    if (log_id == nullptr)
      return BundleError(absl::StrCat(where, ": no logId"));
    SHAPIN_ASSIGN_OR_RETURN(std::string key_id,
                            DecodedString(*log_id, "keyId", "logId.keyId"));
    entry.log_id_hex = absl::BytesToHexString(key_id);
    if (const Json* kv = FindObject(e, "kindVersion"); kv != nullptr) {
      if (const std::string* kind = FindString(*kv, "kind"); kind != nullptr) {
        entry.kind = *kind;
      }
    }
    SHAPIN_ASSIGN_OR_RETURN(
        std::string body,
        DecodedString(e, "canonicalizedBody", "canonicalizedBody"));
    entry.body_base64 = Base64Encode(body);
    if (const Json* promise = FindObject(e, "inclusionPromise");
        promise != nullptr) {
      SHAPIN_ASSIGN_OR_RETURN(
          entry.signed_entry_timestamp,
          DecodedString(*promise, "signedEntryTimestamp",
                        "inclusionPromise.signedEntryTimestamp"));
    }
    out.tlog_entries.push_back(std::move(entry));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SigstoreBundle> ParseSigstoreBundle(absl::string_view json) {
  absl::StatusOr<Json> doc = ParseStrictJson(json);
  if (!doc.ok()) return BundleError(doc.status().message());
  if (!doc->is_object()) return BundleError("not a JSON object");
  SigstoreBundle out;
  const std::string* media_type = FindString(*doc, "mediaType");
  if (media_type == nullptr || !KnownMediaType(*media_type)) {
    return BundleError(absl::StrCat(
        "unsupported mediaType ",
        media_type == nullptr ? std::string("(none)") : *media_type));
  }
  out.media_type = *media_type;
  const Json* material = FindObject(*doc, "verificationMaterial");
  if (material == nullptr) return BundleError("no verificationMaterial");
  SHAPIN_RETURN_IF_ERROR(ParseMaterial(*material, out));
  const Json* message = FindObject(*doc, "messageSignature");
  const Json* envelope = FindObject(*doc, "dsseEnvelope");
  if ((message == nullptr) == (envelope == nullptr)) {
    return BundleError(
        "exactly one of messageSignature and dsseEnvelope must be present");
  }
  if (envelope != nullptr) {
    absl::StatusOr<DsseEnvelope> env = DsseEnvelopeFromJson(*envelope);
    if (!env.ok()) return BundleError(env.status().message());
    out.dsse_envelope = *std::move(env);
    return out;
  }
  MessageSignature sig;
  const Json* digest = FindObject(*message, "messageDigest");
  if (digest == nullptr)
    return BundleError("no messageSignature.messageDigest");
  const std::string* algorithm = FindString(*digest, "algorithm");
  if (algorithm == nullptr) {
    return BundleError("no messageDigest.algorithm");
  }
  sig.digest_algorithm = *algorithm;
  SHAPIN_ASSIGN_OR_RETURN(
      sig.digest, DecodedString(*digest, "digest", "messageDigest.digest"));
  SHAPIN_ASSIGN_OR_RETURN(
      sig.signature,
      DecodedString(*message, "signature", "messageSignature.signature"));
  out.message_signature = std::move(sig);
  return out;
}

}  // namespace shapin::signature
