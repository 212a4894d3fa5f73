// Test-only stand-ins for Fulcio and Rekor: a CA that issues Fulcio-style
// code-signing certificates, and a log key that signs entry timestamps, so
// keyless paths (GitHub Actions identities, DSSE attestations, Sigstore
// bundles) can be exercised beyond the fixed interop vectors.
//
//   TestFulcio fulcio;
//   Certificate leaf = fulcio.Issue(signer.public_key(), {.uri = id});
//   TestRekor rekor;
//   TlogEntry e = rekor.Log(HashedRekordBody(sig, Sha256Hex(payload),
//                                            leaf_pem), 1700000000, 7);
#ifndef SHAPIN_COMMON_SIGNATURE_TEST_PKI_H_
#define SHAPIN_COMMON_SIGNATURE_TEST_PKI_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/signature/crypto.h"
#include "common/signature/rekor.h"

namespace shapin::signature::testing {

struct LeafOptions {
  std::string uri;    // SAN URI (GitHub Actions workflow identity), or
  std::string email;  // SAN email
  std::string issuer = "https://token.actions.githubusercontent.com";
  bool legacy_issuer_extension = false;  // .1.1 instead of .1.8
  bool code_signing = true;
  absl::Time not_before = absl::FromUnixSeconds(1700000000);
  absl::Duration lifetime = absl::Minutes(10);
};

class TestFulcio {
 public:
  TestFulcio();
  const Certificate& root() const { return root_; }
  std::string root_pem() const;
  Certificate Issue(const PublicKey& subject_key, const LeafOptions& o) const;

 private:
  PrivateKey key_;
  Certificate root_;
};

std::string CertificatePem(const Certificate& cert);

class TestRekor {
 public:
  TestRekor();
  const PublicKey& public_key() const { return key_.public_key(); }
  std::string public_key_pem() const { return key_.public_key().ToPem(); }
  // An entry with a valid SET for `body_json` (base64-encoded here).
  TlogEntry Log(absl::string_view body_json, int64_t integrated_time,
                int64_t log_index) const;

 private:
  PrivateKey key_;
};

// cosign's "dev.sigstore.cosign/bundle" annotation for `entry`.
std::string CosignBundleAnnotation(const TlogEntry& entry);

// Entry bodies as Rekor canonicalises them.
std::string HashedRekordBody(absl::string_view signature,
                             absl::string_view artifact_sha256_hex,
                             absl::string_view verifier_pem);
std::string DsseEntryBody(absl::string_view signature,
                          absl::string_view payload_sha256_hex,
                          absl::string_view verifier_pem);

}  // namespace shapin::signature::testing

#endif  // SHAPIN_COMMON_SIGNATURE_TEST_PKI_H_
