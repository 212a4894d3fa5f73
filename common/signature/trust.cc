#include "common/signature/trust.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/signature/crypto.h"
#include "common/signature/strict_json.h"
#include "common/status_macros.h"
#include "re2/re2.h"

namespace shapin::signature {

struct TrustMaterial::CompiledIdentity {
  KeylessIdentity config;
  std::unique_ptr<re2::RE2> regex;  // set when config.subject is empty

  bool MatchesSubject(const std::string& san) const {
    if (!config.subject.empty()) return san == config.subject;
    return regex != nullptr && re2::RE2::FullMatch(san, *regex);
  }
};

namespace {

using Json = nlohmann::json;

absl::Status Prefixed(absl::string_view where, const absl::Status& s) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
}

absl::StatusOr<absl::Time> ParseValidityTime(const Json& valid_for,
                                             absl::string_view key,
                                             absl::Time fallback) {
  const std::string* text = FindString(valid_for, key);
  if (text == nullptr) return fallback;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, *text, &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat("validFor.", key, " \"", *text, "\": ", err));
  }
  return t;
}

absl::Status ParseValidity(const Json& entry, absl::Time* from,
                           absl::Time* until) {
  const Json* valid_for = FindObject(entry, "validFor");
  if (valid_for == nullptr) return absl::OkStatus();
  SHAPIN_ASSIGN_OR_RETURN(
      *from, ParseValidityTime(*valid_for, "start", absl::InfinitePast()));
  SHAPIN_ASSIGN_OR_RETURN(
      *until, ParseValidityTime(*valid_for, "end", absl::InfiniteFuture()));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TransparencyLog>> ParseTrustedRootLogs(
    const Json& root) {
  std::vector<TransparencyLog> out;
  const Json* tlogs = FindArray(root, "tlogs");
  if (tlogs == nullptr) return out;
  for (size_t i = 0; i < tlogs->size(); ++i) {
    const std::string where = absl::StrCat("tlogs[", i, "]");
    const Json& entry = (*tlogs)[i];
    const Json* public_key = FindObject(entry, "publicKey");
    const std::string* raw =
        public_key == nullptr ? nullptr : FindString(*public_key, "rawBytes");
    if (raw == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": no publicKey.rawBytes"));
    }
    absl::StatusOr<std::string> der = Base64DecodeLenient(*raw);
    if (!der.ok()) return Prefixed(where, der.status());
    absl::StatusOr<PublicKey> key = PublicKey::FromDer(*der);
    if (!key.ok()) return Prefixed(where, key.status());
    TransparencyLog log{*key, key->Sha256Id()};
    absl::Status validity =
        ParseValidity(*public_key, &log.valid_from, &log.valid_until);
    if (!validity.ok()) return Prefixed(where, validity);
    out.push_back(std::move(log));
  }
  return out;
}

absl::StatusOr<std::vector<CertificateAuthority>> ParseTrustedRootCas(
    const Json& root) {
  std::vector<CertificateAuthority> out;
  const Json* cas = FindArray(root, "certificateAuthorities");
  if (cas == nullptr) return out;
  for (size_t i = 0; i < cas->size(); ++i) {
    const std::string where = absl::StrCat("certificateAuthorities[", i, "]");
    const Json& entry = (*cas)[i];
    const Json* chain = FindObject(entry, "certChain");
    const Json* certs =
        chain == nullptr ? nullptr : FindArray(*chain, "certificates");
    if (certs == nullptr || certs->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": no certChain.certificates"));
    }
    CertificateAuthority ca;
    for (size_t j = 0; j < certs->size(); ++j) {
      const std::string* raw = FindString((*certs)[j], "rawBytes");
      if (raw == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": certificates[", j, "] has no rawBytes"));
      }
      absl::StatusOr<std::string> der = Base64DecodeLenient(*raw);
      if (!der.ok()) return Prefixed(where, der.status());
      absl::StatusOr<Certificate> cert = Certificate::FromDer(*der);
      if (!cert.ok()) return Prefixed(where, cert.status());
      // The chain is ordered leaf-most first; the last one is the root.
      if (j + 1 == certs->size()) {
        ca.roots.push_back(*std::move(cert));
      } else {
        ca.intermediates.push_back(*std::move(cert));
      }
    }
    absl::Status validity =
        ParseValidity(entry, &ca.valid_from, &ca.valid_until);
    if (!validity.ok()) return Prefixed(where, validity);
    out.push_back(std::move(ca));
  }
  return out;
}

}  // namespace

TrustMaterial::TrustMaterial() = default;
TrustMaterial::~TrustMaterial() = default;
TrustMaterial::TrustMaterial(TrustMaterial&&) noexcept = default;
TrustMaterial& TrustMaterial::operator=(TrustMaterial&&) noexcept = default;

absl::StatusOr<TrustMaterial> TrustMaterial::Create(const TrustConfig& config) {
  TrustMaterial out;
  for (size_t i = 0; i < config.public_keys_pem.size(); ++i) {
    absl::StatusOr<PublicKey> key =
        PublicKey::FromPem(config.public_keys_pem[i]);
    if (!key.ok()) {
      return Prefixed(absl::StrCat("public_keys_pem[", i, "]"), key.status());
    }
    out.keys_.push_back(*std::move(key));
  }
  if (!config.fulcio_roots_pem.empty()) {
    CertificateAuthority ca;
    for (size_t i = 0; i < config.fulcio_roots_pem.size(); ++i) {
      absl::StatusOr<std::vector<Certificate>> certs =
          Certificate::ChainFromPem(config.fulcio_roots_pem[i]);
      if (!certs.ok()) {
        return Prefixed(absl::StrCat("fulcio_roots_pem[", i, "]"),
                        certs.status());
      }
      for (Certificate& c : *certs) ca.roots.push_back(std::move(c));
    }
    for (size_t i = 0; i < config.fulcio_intermediates_pem.size(); ++i) {
      absl::StatusOr<std::vector<Certificate>> certs =
          Certificate::ChainFromPem(config.fulcio_intermediates_pem[i]);
      if (!certs.ok()) {
        return Prefixed(absl::StrCat("fulcio_intermediates_pem[", i, "]"),
                        certs.status());
      }
      for (Certificate& c : *certs) ca.intermediates.push_back(std::move(c));
    }
    out.authorities_.push_back(std::move(ca));
  } else if (!config.fulcio_intermediates_pem.empty()) {
    return absl::InvalidArgumentError(
        "fulcio_intermediates_pem without fulcio_roots_pem");
  }
  for (size_t i = 0; i < config.rekor_public_keys_pem.size(); ++i) {
    absl::StatusOr<PublicKey> key =
        PublicKey::FromPem(config.rekor_public_keys_pem[i]);
    if (!key.ok()) {
      return Prefixed(absl::StrCat("rekor_public_keys_pem[", i, "]"),
                      key.status());
    }
    out.logs_.push_back(TransparencyLog{*key, key->Sha256Id()});
  }
  if (!config.trusted_root_json.empty()) {
    absl::StatusOr<Json> root = ParseStrictJson(config.trusted_root_json);
    if (!root.ok()) return Prefixed("trusted_root.json", root.status());
    if (!root->is_object()) {
      return absl::InvalidArgumentError("trusted_root.json: not an object");
    }
    absl::StatusOr<std::vector<TransparencyLog>> logs =
        ParseTrustedRootLogs(*root);
    if (!logs.ok()) return Prefixed("trusted_root.json", logs.status());
    for (TransparencyLog& log : *logs) out.logs_.push_back(std::move(log));
    absl::StatusOr<std::vector<CertificateAuthority>> cas =
        ParseTrustedRootCas(*root);
    if (!cas.ok()) return Prefixed("trusted_root.json", cas.status());
    for (CertificateAuthority& ca : *cas) {
      out.authorities_.push_back(std::move(ca));
    }
  }
  for (size_t i = 0; i < config.identities.size(); ++i) {
    const KeylessIdentity& id = config.identities[i];
    const std::string where = absl::StrCat("identities[", i, "]");
    if (id.issuer.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": empty issuer"));
    }
    if (id.subject.empty() == id.subject_regex.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": exactly one of subject and subject_regex must be set"));
    }
    auto compiled = std::make_unique<CompiledIdentity>();
    compiled->config = id;
    if (!id.subject_regex.empty()) {
      re2::RE2::Options options;
      options.set_log_errors(false);
      compiled->regex = std::make_unique<re2::RE2>(id.subject_regex, options);
      if (!compiled->regex->ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": subject_regex \"", id.subject_regex,
                         "\": ", compiled->regex->error()));
      }
    }
    out.identities_.push_back(std::move(compiled));
  }
  out.allowed_builder_ids_ = config.allowed_builder_ids;
  return out;
}

const TransparencyLog* TrustMaterial::FindLog(absl::string_view log_id_hex,
                                              absl::Time at) const {
  for (const TransparencyLog& log : logs_) {
    if (log.log_id_hex == log_id_hex && at >= log.valid_from &&
        at <= log.valid_until) {
      return &log;
    }
  }
  return nullptr;
}

absl::StatusOr<std::string> TrustMaterial::VerifyKeylessCertificate(
    const Certificate& leaf, const std::vector<Certificate>& chain,
    absl::Time at) const {
  if (authorities_.empty()) {
    return absl::FailedPreconditionError("no Fulcio roots configured");
  }
  absl::Status chain_status = absl::FailedPreconditionError(absl::StrCat(
      "no Fulcio authority valid at ",
      absl::FormatTime(absl::RFC3339_sec, at, absl::UTCTimeZone())));
  bool chained = false;
  for (const CertificateAuthority& ca : authorities_) {
    if (at < ca.valid_from || at > ca.valid_until) continue;
    std::vector<Certificate> untrusted = chain;
    untrusted.insert(untrusted.end(), ca.intermediates.begin(),
                     ca.intermediates.end());
    absl::Status s = VerifyCertificateChain(leaf, ca.roots, untrusted, at);
    if (s.ok()) {
      chained = true;
      break;
    }
    if (s.code() == absl::StatusCode::kInternal) return s;
    chain_status = s;
  }
  if (!chained) return chain_status;
  if (!leaf.HasCodeSigningEku()) {
    return absl::FailedPreconditionError(
        "certificate lacks the code-signing extended key usage");
  }
  std::optional<std::string> issuer = leaf.FulcioIssuer();
  if (!issuer.has_value()) {
    return absl::FailedPreconditionError(
        "certificate has no OIDC issuer extension (1.3.6.1.4.1.57264.1.8 or "
        ".1.1)");
  }
  const std::vector<std::string> sans = leaf.EmailAndUriSans();
  if (sans.empty()) {
    return absl::FailedPreconditionError(
        "certificate has no email or URI subject alternative name");
  }
  for (const auto& id : identities_) {
    if (id->config.issuer != *issuer) continue;
    for (const std::string& san : sans) {
      if (id->MatchesSubject(san)) {
        return absl::StrCat(san, " (issuer ", *issuer, ")");
      }
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("identity ", absl::StrJoin(sans, ","), " with issuer ",
                   *issuer, " matches no configured identity"));
}

}  // namespace shapin::signature
