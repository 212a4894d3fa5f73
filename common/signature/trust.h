// Trust configuration for signature verification: which public keys, which
// keyless (Fulcio) identities, which Rekor logs, which builders.
//
// TrustConfig is what a service reads from its configuration (PEM text,
// strings); TrustMaterial is the validated, parsed form the verifier uses.
// Validation happens once, at start-up: a malformed PEM or regex in the
// configuration is INVALID_ARGUMENT there, never a per-image verdict.
//
//   TrustConfig config;
//   config.identities.push_back(
//       {.issuer = "https://token.actions.githubusercontent.com",
//        .subject_regex = "https://github.com/mconstant/pay2slay/"
//                         "\\.github/workflows/.*@refs/heads/main"});
//   config.trusted_root_json = ReadFile("/etc/shapin/trusted_root.json");
//   SHAPIN_ASSIGN_OR_RETURN(TrustMaterial trust,
//   TrustMaterial::Create(config));
#ifndef SHAPIN_COMMON_SIGNATURE_TRUST_H_
#define SHAPIN_COMMON_SIGNATURE_TRUST_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/signature/crypto.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace shapin::signature {

// One allowed keyless signer: the OIDC issuer recorded by Fulcio must equal
// `issuer`, and some email / URI subject alternative name must equal
// `subject`, or — when `subject` is empty — fully match the RE2 expression
// `subject_regex` (anchored at both ends, unlike cosign's
// --certificate-identity-regexp, which matches anywhere).
struct KeylessIdentity {
  std::string issuer;
  std::string subject;
  std::string subject_regex;
};

struct TrustConfig {
  // Key-based: PKIX "PUBLIC KEY" PEM blocks (cosign.pub). One block each.
  std::vector<std::string> public_keys_pem;
  // Keyless: Fulcio root certificates (PEM, several blocks allowed per
  // entry) and optional intermediates.
  std::vector<std::string> fulcio_roots_pem;
  std::vector<std::string> fulcio_intermediates_pem;
  std::vector<KeylessIdentity> identities;
  // Rekor log public keys (PEM). When any is configured (here or through
  // trusted_root_json), every key-based signature must carry a Rekor bundle
  // whose SET verifies; keyless signatures always need one.
  std::vector<std::string> rekor_public_keys_pem;
  // The contents of a Sigstore trusted_root.json (the public-good instance's
  // comes from its TUF repository): adds its Fulcio CAs and Rekor keys, each
  // with its validity period. Empty: not used.
  std::string trusted_root_json;
  // Builder ids accepted in SLSA provenance (exact match). Empty: provenance
  // is not evaluated (provenance_status not_configured).
  std::vector<std::string> allowed_builder_ids;
};

// A Rekor instance: its key, log ID and the period the key was used in.
struct TransparencyLog {
  PublicKey key;
  std::string log_id_hex;  // sha256 of the key's DER, lowercase hex
  absl::Time valid_from = absl::InfinitePast();
  absl::Time valid_until = absl::InfiniteFuture();
};

// A Fulcio instance: roots (self-signed anchors), intermediates, and the
// period it issued certificates in.
struct CertificateAuthority {
  std::vector<Certificate> roots;
  std::vector<Certificate> intermediates;
  absl::Time valid_from = absl::InfinitePast();
  absl::Time valid_until = absl::InfiniteFuture();
};

class TrustMaterial {
 public:
  // INVALID_ARGUMENT naming the offending entry ("public_keys_pem[1]: …",
  // "identities[0]: subject_regex …", "trusted_root.json: tlogs[0] …").
  static absl::StatusOr<TrustMaterial> Create(const TrustConfig& config);
  TrustMaterial();
  ~TrustMaterial();
  TrustMaterial(TrustMaterial&&) noexcept;
  TrustMaterial& operator=(TrustMaterial&&) noexcept;

  const std::vector<PublicKey>& keys() const { return keys_; }
  const std::vector<CertificateAuthority>& authorities() const {
    return authorities_;
  }
  const std::vector<TransparencyLog>& logs() const { return logs_; }
  const std::vector<std::string>& allowed_builder_ids() const {
    return allowed_builder_ids_;
  }
  size_t identity_count() const { return identities_.size(); }

  bool keys_configured() const { return !keys_.empty(); }
  bool keyless_configured() const {
    return !authorities_.empty() && !identities_.empty();
  }
  bool tlog_configured() const { return !logs_.empty(); }

  // The log whose ID is `log_id_hex` and whose validity covers `at`;
  // nullptr when there is none.
  const TransparencyLog* FindLog(absl::string_view log_id_hex,
                                 absl::Time at) const;

  // Verifies a Fulcio leaf certificate as cosign does, at `at` (the Rekor
  // integration time): the chain (leaf, then `chain` from the signature's
  // annotation and the configured intermediates) leads to a configured root
  // of an authority valid at `at`; the leaf has the code-signing EKU; and
  // some configured identity matches its SAN and OIDC issuer. Returns
  // "<SAN> (issuer <issuer>)"; FAILED_PRECONDITION saying what failed.
  absl::StatusOr<std::string> VerifyKeylessCertificate(
      const Certificate& leaf, const std::vector<Certificate>& chain,
      absl::Time at) const;

 private:
  struct CompiledIdentity;

  std::vector<PublicKey> keys_;
  std::vector<CertificateAuthority> authorities_;
  std::vector<TransparencyLog> logs_;
  std::vector<std::unique_ptr<CompiledIdentity>> identities_;
  std::vector<std::string> allowed_builder_ids_;
};

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_TRUST_H_
