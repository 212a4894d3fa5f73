#include "common/signature/verifier.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/error_code.h"
#include "common/signature/crypto.h"
#include "common/signature/dsse.h"
#include "common/signature/in_toto.h"
#include "common/signature/rekor.h"
#include "common/signature/sigstore_bundle.h"
#include "common/signature/simple_signing.h"
#include "common/status_macros.h"

namespace shapin::signature {
namespace {

int ReasonRank(Reason r) {
  switch (r) {
    case Reason::kVerified:
      return 100;
    case Reason::kDigestMismatch:
      return 8;
    case Reason::kUntrustedIdentity:
      return 7;
    case Reason::kInvalidBundle:
      return 6;
    case Reason::kInvalidPayload:
      return 5;
    case Reason::kKeyMismatch:
      return 4;
    case Reason::kInvalidSignature:
      return 3;
    case Reason::kNotConfigured:
      return 2;
    case Reason::kNoSignature:
      return 1;
  }
  return 0;
}

int ProvenanceRank(ProvenanceStatus s) {
  switch (s) {
    case ProvenanceStatus::kVerified:
      return 100;
    case ProvenanceStatus::kCommitMismatch:
      return 7;
    case ProvenanceStatus::kBuilderNotAllowed:
      return 6;
    case ProvenanceStatus::kSubjectMismatch:
      return 5;
    case ProvenanceStatus::kUntrusted:
      return 4;
    case ProvenanceStatus::kInvalid:
      return 3;
    case ProvenanceStatus::kNotConfigured:
      return 2;
    case ProvenanceStatus::kMissing:
      return 1;
  }
  return 0;
}

// The outcome of one signature (or attestation signer) check.
struct Check {
  Reason reason = Reason::kVerified;
  std::string detail;
  std::string signer;
  std::optional<int64_t> log_index;

  bool ok() const { return reason == Reason::kVerified; }
};

Check Fail(Reason reason, std::string detail) {
  Check c;
  c.reason = reason;
  c.detail = std::move(detail);
  return c;
}

// What is known about who made one signature.
struct Evidence {
  std::string signature;     // raw signature bytes
  std::string signed_bytes;  // what was signed (payload or DSSE PAE)
  // For Sigstore message signatures: the SHA-256 that was signed, instead of
  // signed_bytes.
  std::optional<std::string> prehashed;
  std::optional<Certificate> leaf;
  std::vector<Certificate> chain;
  std::vector<TlogEntry> tlog_entries;
  // Why the carried tlog evidence could not be read ("" when fine).
  std::string tlog_problem;
  // sha256 hex of what a tlog entry must record as its artifact.
  std::string tlog_artifact_sha256;
};

std::string KeyLabel(const PublicKey& key) {
  return absl::StrCat("key sha256:", key.Sha256Id().substr(0, 16));
}

class Run {
 public:
  Run(const TrustMaterial& trust, const VerifyRequest& request)
      : trust_(trust), request_(request) {}

  absl::StatusOr<VerificationResult> Execute();

 private:
  absl::StatusOr<bool> VerifyWith(const PublicKey& key,
                                  const Evidence& e) const;
  // Checks the tlog entries of `e` against the configured logs, bound to
  // the key or certificate that verified the signature.
  absl::StatusOr<Check> CheckTlog(const Evidence& e, const PublicKey* key,
                                  const Certificate* cert) const;
  absl::StatusOr<Check> CheckSigner(const Evidence& e) const;

  absl::StatusOr<Check> CheckSignatureLayer(const SignatureLayer& layer) const;
  absl::StatusOr<Check> CheckBundleSignature(const SigstoreBundle& bundle,
                                             const Statement* statement) const;
  // Provenance of one DSSE envelope whose statement is SLSA provenance.
  absl::StatusOr<std::pair<ProvenanceStatus, std::string>> CheckProvenance(
      const DsseEnvelope& envelope, const Statement& statement,
      Evidence evidence_template);

  void RecordSignature(absl::string_view label, const Check& c);
  void RecordProvenance(absl::string_view label, ProvenanceStatus s,
                        const std::string& detail);

  absl::Status ProcessAttestationLayer(size_t i, const AttestationLayer& layer);
  absl::Status ProcessBundle(size_t i, const std::string& json);

  const TrustMaterial& trust_;
  const VerifyRequest& request_;
  VerificationResult result_;
  std::vector<std::string> details_;
  std::vector<std::string> provenance_details_;
  bool any_signature_ = false;
  bool any_provenance_ = false;
};

void Run::RecordSignature(absl::string_view label, const Check& c) {
  any_signature_ = true;
  details_.push_back(absl::StrCat(label, ": ", ReasonName(c.reason),
                                  c.detail.empty() ? "" : " (", c.detail,
                                  c.detail.empty() ? "" : ")"));
  if (result_.reason == Reason::kVerified) return;  // already have one
  if (c.ok()) {
    result_.reason = Reason::kVerified;
    result_.signer = c.signer;
    result_.rekor_log_index = c.log_index;
    return;
  }
  if (ReasonRank(c.reason) > ReasonRank(result_.reason)) {
    result_.reason = c.reason;
  }
}

void Run::RecordProvenance(absl::string_view label, ProvenanceStatus s,
                           const std::string& detail) {
  any_provenance_ = true;
  provenance_details_.push_back(absl::StrCat(
      label, ": ", ProvenanceStatusName(s), detail.empty() ? "" : " (", detail,
      detail.empty() ? "" : ")"));
  if (ProvenanceRank(s) > ProvenanceRank(result_.provenance_status)) {
    result_.provenance_status = s;
  }
}

absl::StatusOr<bool> Run::VerifyWith(const PublicKey& key,
                                     const Evidence& e) const {
  if (e.prehashed.has_value()) {
    return key.VerifyPrehashed(*e.prehashed, e.signature);
  }
  return key.Verify(e.signed_bytes, e.signature);
}

absl::StatusOr<Check> Run::CheckTlog(const Evidence& e, const PublicKey* key,
                                     const Certificate* cert) const {
  if (!e.tlog_problem.empty()) {
    return Fail(Reason::kInvalidBundle, e.tlog_problem);
  }
  if (e.tlog_entries.empty()) {
    return Fail(Reason::kInvalidBundle,
                cert != nullptr
                    ? "keyless signature without a Rekor bundle"
                    : "no Rekor bundle, but Rekor keys are configured");
  }
  std::string first_problem;
  for (const TlogEntry& entry : e.tlog_entries) {
    absl::StatusOr<const TransparencyLog*> log =
        VerifySignedEntryTimestamp(entry, trust_);
    if (!log.ok()) {
      if (log.status().code() == absl::StatusCode::kInternal) {
        return log.status();
      }
      if (first_problem.empty())
        first_problem = std::string(log.status().message());
      continue;
    }
    absl::StatusOr<RekorEntryBody> body =
        ParseRekorEntryBody(entry.body_base64);
    if (!body.ok()) {
      if (first_problem.empty())
        first_problem = std::string(body.status().message());
      continue;
    }
    absl::Status bound = CheckEntryBinding(*body, e.signature,
                                           e.tlog_artifact_sha256, key, cert);
    if (!bound.ok()) {
      if (first_problem.empty()) first_problem = std::string(bound.message());
      continue;
    }
    Check ok;
    ok.log_index = entry.log_index;
    return ok;
  }
  return Fail(Reason::kInvalidBundle, first_problem);
}

absl::StatusOr<Check> Run::CheckSigner(const Evidence& e) const {
  // Key-based: any configured key that verifies.
  for (const PublicKey& key : trust_.keys()) {
    SHAPIN_ASSIGN_OR_RETURN(bool ok, VerifyWith(key, e));
    if (!ok) continue;
    Check c;
    if (trust_.tlog_configured()) {
      SHAPIN_ASSIGN_OR_RETURN(c, CheckTlog(e, &key, nullptr));
      if (!c.ok()) return c;
    }
    c.signer = KeyLabel(key);
    return c;
  }
  if (!e.leaf.has_value()) {
    if (trust_.keys_configured()) {
      return Fail(Reason::kKeyMismatch,
                  "no configured public key verifies the signature");
    }
    return Fail(Reason::kNotConfigured,
                "key-based signature but no public keys are configured");
  }
  // Keyless.
  if (!trust_.keyless_configured()) {
    if (trust_.keys_configured()) {
      return Fail(Reason::kKeyMismatch,
                  "no configured public key verifies the signature (keyless "
                  "identities are not configured)");
    }
    return Fail(Reason::kNotConfigured,
                "keyless signature but no Fulcio roots / identities are "
                "configured");
  }
  if (!trust_.tlog_configured()) {
    return Fail(Reason::kNotConfigured,
                "keyless signature but no Rekor keys are configured");
  }
  absl::StatusOr<PublicKey> leaf_key = e.leaf->public_key();
  if (!leaf_key.ok()) {
    if (leaf_key.status().code() == absl::StatusCode::kInternal) {
      return leaf_key.status();
    }
    return Fail(Reason::kUntrustedIdentity,
                absl::StrCat("certificate key: ", leaf_key.status().message()));
  }
  SHAPIN_ASSIGN_OR_RETURN(bool ok, VerifyWith(*leaf_key, e));
  if (!ok) {
    return Fail(Reason::kInvalidSignature,
                "signature does not verify with the certificate's key");
  }
  SHAPIN_ASSIGN_OR_RETURN(Check c, CheckTlog(e, nullptr, &*e.leaf));
  if (!c.ok()) return c;
  // The certificate must have been valid, and its chain trusted, when the
  // log integrated the entry (Fulcio certificates live 10 minutes).
  absl::Time at = absl::InfiniteFuture();
  for (const TlogEntry& entry : e.tlog_entries) {
    if (c.log_index == entry.log_index) at = entry.integrated_at();
  }
  absl::StatusOr<std::string> identity =
      trust_.VerifyKeylessCertificate(*e.leaf, e.chain, at);
  if (!identity.ok()) {
    if (identity.status().code() == absl::StatusCode::kInternal) {
      return identity.status();
    }
    return Fail(Reason::kUntrustedIdentity,
                std::string(identity.status().message()));
  }
  c.signer = *identity;
  return c;
}

// Reads the keyless material and Rekor bundle annotations of a cosign layer
// into `e`. A malformed certificate is an untrusted identity.
std::optional<Check> ReadLayerMaterial(
    const std::map<std::string, std::string>& annotations, Evidence& e) {
  if (auto it = annotations.find(std::string(kCertificateAnnotation));
      it != annotations.end() && !it->second.empty()) {
    absl::StatusOr<Certificate> leaf = Certificate::FromPem(it->second);
    if (!leaf.ok()) {
      return Fail(
          Reason::kUntrustedIdentity,
          absl::StrCat("certificate annotation: ", leaf.status().message()));
    }
    e.leaf = *std::move(leaf);
    if (auto chain = annotations.find(std::string(kChainAnnotation));
        chain != annotations.end() && !chain->second.empty()) {
      absl::StatusOr<std::vector<Certificate>> certs =
          Certificate::ChainFromPem(chain->second);
      if (!certs.ok()) {
        return Fail(
            Reason::kUntrustedIdentity,
            absl::StrCat("chain annotation: ", certs.status().message()));
      }
      e.chain = *std::move(certs);
    }
  }
  if (auto it = annotations.find(std::string(kBundleAnnotation));
      it != annotations.end() && !it->second.empty()) {
    absl::StatusOr<TlogEntry> entry = ParseCosignBundle(it->second);
    if (entry.ok()) {
      e.tlog_entries.push_back(*std::move(entry));
    } else {
      e.tlog_problem = std::string(entry.status().message());
    }
  }
  return std::nullopt;
}

Check CheckPayloadDigest(const SimpleSigningPayload& payload,
                         const std::optional<Digest>& image) {
  if (payload.type != kCosignSignatureType) {
    return Fail(Reason::kInvalidPayload,
                absl::StrCat("critical.type is \"",
                             absl::CHexEscape(payload.type), "\""));
  }
  if (!image.has_value()) {
    return Fail(Reason::kDigestMismatch,
                "no image manifest digest to check the payload against");
  }
  if (payload.manifest_digest != image->str()) {
    return Fail(
        Reason::kDigestMismatch,
        absl::StrCat("payload signs ",
                     absl::CHexEscape(payload.manifest_digest.substr(0, 80)),
                     ", image is ", image->str()));
  }
  return Check();
}

absl::StatusOr<Check> Run::CheckSignatureLayer(
    const SignatureLayer& layer) const {
  auto sig_it = layer.annotations.find(std::string(kSignatureAnnotation));
  if (sig_it == layer.annotations.end() || sig_it->second.empty()) {
    return Fail(Reason::kInvalidSignature, "no signature annotation");
  }
  absl::StatusOr<std::string> sig = Base64Decode(sig_it->second);
  if (!sig.ok() || sig->empty()) {
    return Fail(Reason::kInvalidSignature,
                absl::StrCat("signature annotation: ",
                             sig.ok() ? "empty" : sig.status().message()));
  }
  Evidence e;
  e.signature = *std::move(sig);
  e.signed_bytes = layer.payload;
  e.tlog_artifact_sha256 = Sha256Hex(layer.payload);
  if (std::optional<Check> bad = ReadLayerMaterial(layer.annotations, e)) {
    return *bad;
  }
  SHAPIN_ASSIGN_OR_RETURN(Check signer, CheckSigner(e));
  if (!signer.ok()) return signer;
  // Only now, with the payload authenticated, is its content believed.
  absl::StatusOr<SimpleSigningPayload> payload =
      ParseSimpleSigningPayload(layer.payload);
  if (!payload.ok()) {
    return Fail(Reason::kInvalidPayload,
                std::string(payload.status().message()));
  }
  Check digest = CheckPayloadDigest(*payload, request_.image_digest);
  if (!digest.ok()) return digest;
  return signer;
}

// Evidence for a Sigstore bundle, content fields left to the caller.
Evidence BundleEvidence(const SigstoreBundle& bundle) {
  Evidence e;
  if (!bundle.certificates.empty()) {
    e.leaf = bundle.certificates.front();
    e.chain.assign(bundle.certificates.begin() + 1, bundle.certificates.end());
  }
  e.tlog_entries = bundle.tlog_entries;
  return e;
}

absl::StatusOr<Check> Run::CheckBundleSignature(
    const SigstoreBundle& bundle, const Statement* statement) const {
  Evidence e = BundleEvidence(bundle);
  if (bundle.message_signature.has_value()) {
    const MessageSignature& m = *bundle.message_signature;
    if (m.digest_algorithm != "SHA2_256" || m.digest.size() != 32) {
      return Fail(Reason::kInvalidBundle,
                  absl::StrCat("message digest algorithm ", m.digest_algorithm,
                               " (SHA2_256 expected)"));
    }
    e.signature = m.signature;
    e.prehashed = m.digest;
    e.tlog_artifact_sha256 = absl::BytesToHexString(m.digest);
    SHAPIN_ASSIGN_OR_RETURN(Check signer, CheckSigner(e));
    if (!signer.ok()) return signer;
    // A message signature signs the manifest bytes themselves.
    if (!request_.image_digest.has_value() ||
        e.tlog_artifact_sha256 != request_.image_digest->hex()) {
      return Fail(Reason::kDigestMismatch,
                  absl::StrCat("bundle signs sha256:", e.tlog_artifact_sha256));
    }
    return signer;
  }
  const DsseEnvelope& env = *bundle.dsse_envelope;
  e.signed_bytes = PreAuthEncoding(env.payload_type, env.payload);
  e.tlog_artifact_sha256 = Sha256Hex(env.payload);
  Check best = Fail(Reason::kInvalidSignature, "no signature verified");
  for (const DsseSignature& s : env.signatures) {
    e.signature = s.sig;
    SHAPIN_ASSIGN_OR_RETURN(Check signer, CheckSigner(e));
    if (!signer.ok()) {
      if (ReasonRank(signer.reason) > ReasonRank(best.reason) ||
          best.detail == "no signature verified") {
        best = signer;
      }
      continue;
    }
    if (!request_.image_digest.has_value() || statement == nullptr ||
        !CoversDigest(*statement, *request_.image_digest)) {
      return Fail(Reason::kDigestMismatch,
                  "statement subject is not the image digest");
    }
    return signer;
  }
  return best;
}

absl::StatusOr<std::pair<ProvenanceStatus, std::string>> Run::CheckProvenance(
    const DsseEnvelope& envelope, const Statement& statement, Evidence e) {
  e.signed_bytes = PreAuthEncoding(envelope.payload_type, envelope.payload);
  e.tlog_artifact_sha256 = Sha256Hex(envelope.payload);
  Check signer = Fail(Reason::kInvalidSignature, "no signature");
  for (const DsseSignature& s : envelope.signatures) {
    e.signature = s.sig;
    SHAPIN_ASSIGN_OR_RETURN(signer, CheckSigner(e));
    if (signer.ok()) break;
  }
  if (!signer.ok()) {
    return std::make_pair(
        ProvenanceStatus::kUntrusted,
        absl::StrCat(ReasonName(signer.reason), ": ", signer.detail));
  }
  if (!request_.image_digest.has_value() ||
      !CoversDigest(statement, *request_.image_digest)) {
    return std::make_pair(ProvenanceStatus::kSubjectMismatch,
                          "no subject has the image digest");
  }
  absl::StatusOr<ProvenanceFacts> facts = ExtractProvenance(statement);
  if (!facts.ok()) {
    return std::make_pair(ProvenanceStatus::kInvalid,
                          std::string(facts.status().message()));
  }
  const std::vector<std::string>& allowed = trust_.allowed_builder_ids();
  if (std::find(allowed.begin(), allowed.end(), facts->builder_id) ==
      allowed.end()) {
    return std::make_pair(
        ProvenanceStatus::kBuilderNotAllowed,
        absl::StrCat("builder ", absl::CHexEscape(facts->builder_id)));
  }
  if (request_.expected_commit.has_value()) {
    if (!facts->source_commit.has_value()) {
      return std::make_pair(ProvenanceStatus::kCommitMismatch,
                            "provenance records no source commit");
    }
    if (*facts->source_commit != request_.expected_commit->str()) {
      return std::make_pair(
          ProvenanceStatus::kCommitMismatch,
          absl::StrCat("built from ",
                       absl::CHexEscape(facts->source_commit->substr(0, 40)),
                       ", deploying ", request_.expected_commit->str()));
    }
  }
  if (result_.provenance_status != ProvenanceStatus::kVerified) {
    result_.builder_id = facts->builder_id;
    result_.source_commit = facts->source_commit.value_or("");
  }
  return std::make_pair(ProvenanceStatus::kVerified,
                        absl::StrCat("builder ", facts->builder_id,
                                     ", signed by ", signer.signer));
}

absl::Status Run::ProcessAttestationLayer(size_t i,
                                          const AttestationLayer& layer) {
  const std::string label = absl::StrCat("att[", i, "]");
  if (layer.media_type != kDsseMediaType) return absl::OkStatus();
  absl::StatusOr<DsseEnvelope> env = ParseDsseEnvelope(layer.envelope);
  if (!env.ok()) {
    RecordProvenance(label, ProvenanceStatus::kInvalid,
                     std::string(env.status().message()));
    return absl::OkStatus();
  }
  if (env->payload_type != kInTotoPayloadType) {
    RecordProvenance(
        label, ProvenanceStatus::kInvalid,
        absl::StrCat("payloadType ", absl::CHexEscape(env->payload_type)));
    return absl::OkStatus();
  }
  absl::StatusOr<Statement> statement = ParseStatement(env->payload);
  if (!statement.ok()) {
    RecordProvenance(label, ProvenanceStatus::kInvalid,
                     std::string(statement.status().message()));
    return absl::OkStatus();
  }
  if (!IsSlsaProvenance(statement->predicate_type)) {
    provenance_details_.push_back(
        absl::StrCat(label, ": ignored predicate ",
                     absl::CHexEscape(statement->predicate_type)));
    return absl::OkStatus();
  }
  Evidence e;
  if (std::optional<Check> bad = ReadLayerMaterial(layer.annotations, e)) {
    RecordProvenance(label, ProvenanceStatus::kUntrusted, bad->detail);
    return absl::OkStatus();
  }
  SHAPIN_ASSIGN_OR_RETURN(auto outcome,
                          CheckProvenance(*env, *statement, std::move(e)));
  RecordProvenance(label, outcome.first, outcome.second);
  return absl::OkStatus();
}

absl::Status Run::ProcessBundle(size_t i, const std::string& json) {
  const std::string label = absl::StrCat("bundle[", i, "]");
  absl::StatusOr<SigstoreBundle> bundle = ParseSigstoreBundle(json);
  if (!bundle.ok()) {
    RecordSignature(label, Fail(Reason::kInvalidBundle,
                                std::string(bundle.status().message())));
    return absl::OkStatus();
  }
  if (bundle->message_signature.has_value()) {
    SHAPIN_ASSIGN_OR_RETURN(Check c, CheckBundleSignature(*bundle, nullptr));
    RecordSignature(label, c);
    return absl::OkStatus();
  }
  const DsseEnvelope& env = *bundle->dsse_envelope;
  absl::StatusOr<Statement> statement =
      env.payload_type == kInTotoPayloadType
          ? ParseStatement(env.payload)
          : absl::StatusOr<Statement>(absl::InvalidArgumentError(absl::StrCat(
                "payloadType ", absl::CHexEscape(env.payload_type))));
  if (!statement.ok()) {
    RecordSignature(label, Fail(Reason::kInvalidPayload,
                                std::string(statement.status().message())));
    return absl::OkStatus();
  }
  if (IsSlsaProvenance(statement->predicate_type)) {
    if (trust_.allowed_builder_ids().empty()) return absl::OkStatus();
    SHAPIN_ASSIGN_OR_RETURN(
        auto outcome,
        CheckProvenance(env, *statement, BundleEvidence(*bundle)));
    RecordProvenance(label, outcome.first, outcome.second);
    return absl::OkStatus();
  }
  if (statement->predicate_type != kCosignSignPredicate) {
    details_.push_back(
        absl::StrCat(label, ": ignored predicate ",
                     absl::CHexEscape(statement->predicate_type)));
    return absl::OkStatus();
  }
  SHAPIN_ASSIGN_OR_RETURN(Check c, CheckBundleSignature(*bundle, &*statement));
  RecordSignature(label, c);
  return absl::OkStatus();
}

absl::StatusOr<VerificationResult> Run::Execute() {
  result_.reason = Reason::kNoSignature;
  result_.provenance_status = trust_.allowed_builder_ids().empty()
                                  ? ProvenanceStatus::kNotConfigured
                                  : ProvenanceStatus::kMissing;
  if (!trust_.keys_configured() && !trust_.keyless_configured()) {
    result_.reason = Reason::kNotConfigured;
    result_.provenance_status = ProvenanceStatus::kNotConfigured;
    result_.details = "no public keys or keyless identities are configured";
    return result_;
  }
  size_t other_layers = 0;
  for (size_t i = 0; i < request_.signatures.size(); ++i) {
    const SignatureLayer& layer = request_.signatures[i];
    if (layer.media_type != kSimpleSigningMediaType) {
      ++other_layers;
      continue;
    }
    SHAPIN_ASSIGN_OR_RETURN(Check c, CheckSignatureLayer(layer));
    RecordSignature(absl::StrCat("sig[", i, "]"), c);
  }
  for (size_t i = 0; i < request_.bundles.size(); ++i) {
    SHAPIN_RETURN_IF_ERROR(ProcessBundle(i, request_.bundles[i]));
  }
  if (!any_signature_) {
    details_.push_back(
        other_layers == 0
            ? std::string("no signature found")
            : absl::StrCat("no signature found (", other_layers,
                           " layer(s) of other media types ignored)"));
  }
  if (!trust_.allowed_builder_ids().empty()) {
    for (size_t i = 0; i < request_.attestations.size(); ++i) {
      SHAPIN_RETURN_IF_ERROR(
          ProcessAttestationLayer(i, request_.attestations[i]));
    }
    if (!any_provenance_) {
      provenance_details_.push_back("no SLSA provenance attestation found");
    }
  } else {
    provenance_details_.push_back("no builder allow-list configured");
  }
  result_.details = absl::StrJoin(details_, "; ");
  result_.provenance_details = absl::StrJoin(provenance_details_, "; ");
  return result_;
}

}  // namespace

Verifier::Verifier(TrustMaterial trust) : trust_(std::move(trust)) {}

absl::StatusOr<VerificationResult> Verifier::Verify(
    const VerifyRequest& request) const {
  Run run(trust_, request);
  absl::StatusOr<VerificationResult> result = run.Execute();
  if (!result.ok()) {
    return ShapinError(
        ErrorCode::kVerifyToolError,
        absl::StrCat("signature verifier failed: ", result.status().message()));
  }
  return result;
}

}  // namespace shapin::signature
