// OpenSSL building blocks of the signature module: base64, public and private
// keys, X.509 certificates, and signing / verifying with SHA-256. Everything
// goes through OpenSSL 3 EVP APIs; nothing here hand-rolls cryptography.
//
//   SHAPIN_ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromPem(pem));
//   SHAPIN_ASSIGN_OR_RETURN(std::string sig, Base64Decode(annotation));
//   SHAPIN_ASSIGN_OR_RETURN(bool ok, key.Verify(payload, sig));
//   if (!ok) ...  // does not verify: a result, not an error
//
// Errors: INVALID_ARGUMENT for malformed input (bad base64, PEM, DER, key
// types shapin does not accept); INTERNAL only when OpenSSL itself fails
// (allocation, an unexpected library error).
#ifndef SHAPIN_COMMON_SIGNATURE_CRYPTO_H_
#define SHAPIN_COMMON_SIGNATURE_CRYPTO_H_

#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shapin::signature {

// Standard base64 (RFC 4648 section 4) with padding. CR and LF anywhere are
// ignored (Go's decoder does the same, and cosign annotations are sometimes
// wrapped at 76 columns); any other character outside the alphabet, padding
// anywhere but at the end, or a length that is not a multiple of 4 is
// INVALID_ARGUMENT. An empty input decodes to an empty string.
absl::StatusOr<std::string> Base64Decode(absl::string_view text);
// Standard base64 with padding, no line breaks.
std::string Base64Encode(absl::string_view bytes);
// What DSSE and Sigstore bundles accept: standard or URL-safe alphabet,
// padding optional.
absl::StatusOr<std::string> Base64DecodeLenient(absl::string_view text);

// Lowercase hex SHA-256 of `bytes`.
std::string Sha256Hex(absl::string_view bytes);
// Raw 32-byte SHA-256 of `bytes`.
std::string Sha256Raw(absl::string_view bytes);

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const;
};
struct X509Deleter {
  void operator()(X509* cert) const;
};

// A public key shapin accepts for signatures: ECDSA on P-256 or P-384, RSA of
// at least 2048 bits, or Ed25519. Copyable (shares the OpenSSL object, whose
// reference count OpenSSL maintains).
class PublicKey {
 public:
  // PKIX "PUBLIC KEY" PEM (what `cosign generate-key-pair` writes as
  // cosign.pub). Exactly one key; trailing text after the PEM block is
  // ignored, as OpenSSL's reader does.
  static absl::StatusOr<PublicKey> FromPem(absl::string_view pem);
  // DER SubjectPublicKeyInfo.
  static absl::StatusOr<PublicKey> FromDer(absl::string_view der);
  // Takes a reference to `key` (does not consume the caller's).
  static absl::StatusOr<PublicKey> FromEvp(EVP_PKEY* key);

  // DER SubjectPublicKeyInfo: the canonical form compared for equality.
  const std::string& der() const { return der_; }
  // Lowercase hex sha256 of der(): the Rekor log ID for a log's key.
  std::string Sha256Id() const { return Sha256Hex(der_); }
  std::string ToPem() const;
  // "ecdsa-p256", "ecdsa-p384", "rsa-2048", "ed25519".
  const std::string& description() const { return description_; }
  EVP_PKEY* get() const { return key_.get(); }

  // Whether `signature` is a valid signature of `message` (SHA-256 for ECDSA
  // and RSA PKCS#1 v1.5; pure Ed25519). For ECDSA the signature may be ASN.1
  // DER or raw r||s (2 x field size bytes). false (not an error) for a
  // signature that does not verify or cannot be parsed; INTERNAL only when
  // OpenSSL fails.
  absl::StatusOr<bool> Verify(absl::string_view message,
                              absl::string_view signature) const;
  // Like Verify, but `digest` is an already computed SHA-256 of the message
  // (Sigstore bundles' messageSignature). ECDSA and RSA only.
  absl::StatusOr<bool> VerifyPrehashed(absl::string_view digest,
                                       absl::string_view signature) const;

  friend bool operator==(const PublicKey& a, const PublicKey& b) {
    return a.der_ == b.der_;
  }

 private:
  friend class PrivateKey;
  PublicKey() = default;
  std::shared_ptr<EVP_PKEY> key_;
  std::string der_;
  std::string description_;
};

// An ECDSA P-256 private key used to sign (build-svc).
class PrivateKey {
 public:
  // Unencrypted PKCS#8 ("PRIVATE KEY") or SEC1 ("EC PRIVATE KEY") PEM of a
  // P-256 key. Encrypted keys (including cosign's "ENCRYPTED SIGSTORE
  // PRIVATE KEY") are INVALID_ARGUMENT.
  static absl::StatusOr<PrivateKey> FromPem(absl::string_view pem);
  // A fresh P-256 key (tests, and `shapin` tooling).
  static absl::StatusOr<PrivateKey> GenerateP256();

  // ASN.1 DER ECDSA signature of SHA-256(message).
  absl::StatusOr<std::string> Sign(absl::string_view message) const;
  const PublicKey& public_key() const { return public_key_; }
  // Unencrypted PKCS#8 PEM.
  absl::StatusOr<std::string> ToPem() const;
  // The OpenSSL key (owned by this object), for tests that issue
  // certificates.
  EVP_PKEY* get() const { return key_.get(); }

 private:
  PrivateKey() = default;
  std::shared_ptr<EVP_PKEY> key_;
  PublicKey public_key_;
};

// An X.509 certificate (copyable, shares the OpenSSL object).
class Certificate {
 public:
  // Exactly one "CERTIFICATE" PEM block.
  static absl::StatusOr<Certificate> FromPem(absl::string_view pem);
  static absl::StatusOr<Certificate> FromDer(absl::string_view der);
  // Every "CERTIFICATE" block in `pem`, in order; at least one.
  static absl::StatusOr<std::vector<Certificate>> ChainFromPem(
      absl::string_view pem);

  const std::string& der() const { return der_; }
  X509* get() const { return cert_.get(); }
  absl::StatusOr<PublicKey> public_key() const;
  absl::Time not_before() const { return not_before_; }
  absl::Time not_after() const { return not_after_; }
  // The subject alternative names of type email and URI, in order.
  std::vector<std::string> EmailAndUriSans() const;
  // The extended key usage includes code signing.
  bool HasCodeSigningEku() const;
  // The OIDC issuer Fulcio recorded: extension 1.3.6.1.4.1.57264.1.8 (a DER
  // UTF8String), else the deprecated 1.3.6.1.4.1.57264.1.1 (raw bytes).
  // nullopt when neither is present or the newer one is malformed.
  std::optional<std::string> FulcioIssuer() const;
  // "CN=…,O=…" for messages.
  std::string SubjectName() const;

  friend bool operator==(const Certificate& a, const Certificate& b) {
    return a.der_ == b.der_;
  }

 private:
  Certificate() = default;
  static absl::StatusOr<Certificate> FromX509(X509* owned);
  std::shared_ptr<X509> cert_;
  std::string der_;
  absl::Time not_before_;
  absl::Time not_after_;
};

// Verifies that `leaf` chains to one of `roots` through `intermediates` (and
// any further untrusted certificates in `untrusted`), with every
// certificate valid at `at`. OK, or FAILED_PRECONDITION with OpenSSL's
// reason ("certificate has expired", "unable to get local issuer
// certificate", ...); INTERNAL when OpenSSL fails.
absl::Status VerifyCertificateChain(const Certificate& leaf,
                                    const std::vector<Certificate>& roots,
                                    const std::vector<Certificate>& untrusted,
                                    absl::Time at);

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_CRYPTO_H_
