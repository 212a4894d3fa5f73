#include "common/signature/test_pki.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/signature/crypto.h"
#include "common/signature/strict_json.h"
#include "nlohmann/json.hpp"

namespace shapin::signature::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "test PKI: %s failed\n", what);
    abort();
  }
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, value);
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

void AddRawExtension(X509* cert, const char* oid, const std::string& value) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(data,
                        reinterpret_cast<const unsigned char*>(value.data()),
                        static_cast<int>(value.size()));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, data);
  Check(ext != nullptr, oid);
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(obj);
}

std::string Utf8StringDer(const std::string& text) {
  ASN1_UTF8STRING* s = ASN1_UTF8STRING_new();
  ASN1_STRING_set(s, text.data(), static_cast<int>(text.size()));
  unsigned char* der = nullptr;
  int len = i2d_ASN1_UTF8STRING(s, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  ASN1_UTF8STRING_free(s);
  return out;
}

X509* NewCert(EVP_PKEY* subject_key, absl::Time not_before,
              absl::Duration lifetime, long serial) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  ASN1_TIME_set(X509_getm_notBefore(x), absl::ToTimeT(not_before));
  ASN1_TIME_set(X509_getm_notAfter(x), absl::ToTimeT(not_before + lifetime));
  Check(X509_set_pubkey(x, subject_key) == 1, "X509_set_pubkey");
  return x;
}

Certificate Finish(X509* x, EVP_PKEY* issuer_key) {
  Check(X509_sign(x, issuer_key, EVP_sha256()) > 0, "X509_sign");
  unsigned char* der = nullptr;
  int len = i2d_X509(x, &der);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  X509_free(x);
  return *Certificate::FromDer(bytes);
}

}  // namespace

std::string CertificatePem(const Certificate& cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

TestFulcio::TestFulcio()
    : key_(*PrivateKey::GenerateP256()), root_([this] {
        X509* x = NewCert(key_.get(), absl::FromUnixSeconds(1600000000),
                          absl::Hours(24 * 365 * 20), 1);
        X509_NAME* name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(
            name, "O", MBSTRING_ASC,
            reinterpret_cast<const unsigned char*>("shapin-test"), -1, -1, 0);
        X509_NAME_add_entry_by_txt(
            name, "CN", MBSTRING_ASC,
            reinterpret_cast<const unsigned char*>("test-fulcio-root"), -1, -1,
            0);
        X509_set_issuer_name(x, name);
        AddExtension(x, x, NID_basic_constraints, "critical,CA:TRUE");
        AddExtension(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
        AddExtension(x, x, NID_subject_key_identifier, "hash");
        return Finish(x, key_.get());
      }()) {}

std::string TestFulcio::root_pem() const { return CertificatePem(root_); }

Certificate TestFulcio::Issue(const PublicKey& subject_key,
                              const LeafOptions& o) const {
  X509* x = NewCert(subject_key.get(), o.not_before, o.lifetime, 1000);
  X509_set_issuer_name(x, X509_get_subject_name(root_.get()));
  AddExtension(x, root_.get(), NID_key_usage, "critical,digitalSignature");
  if (o.code_signing) {
    AddExtension(x, root_.get(), NID_ext_key_usage, "codeSigning");
  }
  AddExtension(x, root_.get(), NID_authority_key_identifier, "keyid:always");
  const std::string san = o.uri.empty() ? absl::StrCat("email:", o.email)
                                        : absl::StrCat("URI:", o.uri);
  AddExtension(x, root_.get(), NID_subject_alt_name,
               absl::StrCat("critical,", san).c_str());
  if (o.legacy_issuer_extension) {
    AddRawExtension(x, "1.3.6.1.4.1.57264.1.1", o.issuer);
  } else {
    AddRawExtension(x, "1.3.6.1.4.1.57264.1.8", Utf8StringDer(o.issuer));
  }
  return Finish(x, key_.get());
}

TestRekor::TestRekor() : key_(*PrivateKey::GenerateP256()) {}

TlogEntry TestRekor::Log(absl::string_view body_json, int64_t integrated_time,
                         int64_t log_index) const {
  TlogEntry e;
  e.body_base64 = Base64Encode(body_json);
  e.integrated_time = integrated_time;
  e.log_index = log_index;
  e.log_id_hex = key_.public_key().Sha256Id();
  e.signed_entry_timestamp = *key_.Sign(SignedEntryTimestampPayload(e));
  return e;
}

std::string CosignBundleAnnotation(const TlogEntry& entry) {
  nlohmann::json doc = {
      {"SignedEntryTimestamp", Base64Encode(entry.signed_entry_timestamp)},
      {"Payload",
       {{"body", entry.body_base64},
        {"integratedTime", entry.integrated_time},
        {"logIndex", entry.log_index},
        {"logID", entry.log_id_hex}}}};
  return doc.dump();
}

std::string HashedRekordBody(absl::string_view signature,
                             absl::string_view artifact_sha256_hex,
                             absl::string_view verifier_pem) {
  nlohmann::json doc = {
      {"apiVersion", "0.0.1"},
      {"kind", "hashedrekord"},
      {"spec",
       {{"data",
         {{"hash",
           {{"algorithm", "sha256"},
            {"value", std::string(artifact_sha256_hex)}}}}},
        {"signature",
         {{"content", Base64Encode(signature)},
          {"publicKey", {{"content", Base64Encode(verifier_pem)}}}}}}}};
  return doc.dump();
}

std::string DsseEntryBody(absl::string_view signature,
                          absl::string_view payload_sha256_hex,
                          absl::string_view verifier_pem) {
  nlohmann::json doc = {
      {"apiVersion", "0.0.1"},
      {"kind", "dsse"},
      {"spec",
       {{"payloadHash",
         {{"algorithm", "sha256"}, {"value", std::string(payload_sha256_hex)}}},
        {"envelopeHash",
         {{"algorithm", "sha256"}, {"value", std::string(64, '0')}}},
        {"signatures", nlohmann::json::array(
                           {{{"signature", Base64Encode(signature)},
                             {"verifier", Base64Encode(verifier_pem)}}})}}}};
  return doc.dump();
}

}  // namespace shapin::signature::testing
