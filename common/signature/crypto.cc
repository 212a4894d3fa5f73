#include "common/signature/crypto.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/status_macros.h"

namespace shapin::signature {
namespace {

// Inputs larger than this are refused before they reach OpenSSL (whose
// length parameters are int).
constexpr size_t kMaxCryptoInputBytes = size_t{64} << 20;

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;
struct StoreDeleter {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct StackDeleter {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};
struct Asn1ObjectDeleter {
  void operator()(ASN1_OBJECT* o) const { ASN1_OBJECT_free(o); }
};
struct Utf8StringDeleter {
  void operator()(ASN1_UTF8STRING* s) const { ASN1_UTF8STRING_free(s); }
};

// The most recent OpenSSL error as text (and the queue cleared), for
// messages.
std::string TakeOpenSslError() {
  unsigned long code = ERR_peek_last_error();
  std::string text = "no OpenSSL error recorded";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    text = buf;
  }
  ERR_clear_error();
  return text;
}

absl::Status OpenSslInternal(absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("openssl: ", what, ": ", TakeOpenSslError()));
}

BioPtr MemoryBio(absl::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return "";
  return std::string(data, static_cast<size_t>(len));
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// Decodes canonical padded standard base64 that has already been stripped
// of line breaks.
absl::StatusOr<std::string> DecodeCanonical(absl::string_view text) {
  if (text.empty()) return std::string();
  if (text.size() > kMaxCryptoInputBytes) {
    return absl::InvalidArgumentError("base64 text too large");
  }
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("base64 length ", text.size(), " is not a multiple of 4"));
  }
  size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  for (size_t i = 0; i < text.size() - padding; ++i) {
    if (!IsBase64Char(text[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid base64 character '",
                       absl::CHexEscape(text.substr(i, 1)), "' at ", i));
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0 || static_cast<size_t>(n) != out.size()) {
    ERR_clear_error();
    return absl::InvalidArgumentError("invalid base64");
  }
  out.resize(out.size() - padding);
  return out;
}

// The EVP digest for signatures made with `key`: SHA-256, or none for
// Ed25519 (which hashes internally).
const EVP_MD* DigestFor(EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

// Strict DER form of an ECDSA signature: `sig` itself when it is canonical
// DER, the DER re-encoding of raw r||s when it has exactly 2 * field bytes,
// nullopt otherwise.
std::optional<std::string> EcdsaSignatureDer(absl::string_view sig,
                                             int field_bytes) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  EcdsaSigPtr parsed(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (parsed != nullptr &&
      p == reinterpret_cast<const unsigned char*>(sig.data()) + sig.size()) {
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(parsed.get(), &der);
    if (len > 0) {
      std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
      OPENSSL_free(der);
      if (out == sig) return out;
    }
  }
  ERR_clear_error();
  if (sig.size() != static_cast<size_t>(2 * field_bytes)) return std::nullopt;
  EcdsaSigPtr raw(ECDSA_SIG_new());
  if (raw == nullptr) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(sig.data());
  BIGNUM* r = BN_bin2bn(bytes, field_bytes, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + field_bytes, field_bytes, nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(raw.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(raw.get(), &der);
  if (len <= 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

absl::Time Asn1TimeToAbsl(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return absl::InfinitePast();
  }
  return absl::FromTM(tm, absl::UTCTimeZone());
}

std::string Asn1StringBytes(const ASN1_STRING* s) {
  if (s == nullptr) return "";
  const unsigned char* data = ASN1_STRING_get0_data(s);
  int len = ASN1_STRING_length(s);
  if (data == nullptr || len <= 0) return "";
  return std::string(reinterpret_cast<const char*>(data),
                     static_cast<size_t>(len));
}

// The contents (OCTET STRING value) of the extension `oid`, nullopt when
// absent.
std::optional<std::string> ExtensionValue(X509* cert, const char* oid) {
  std::unique_ptr<ASN1_OBJECT, Asn1ObjectDeleter> obj(OBJ_txt2obj(oid, 1));
  if (obj == nullptr) {
    ERR_clear_error();
    return std::nullopt;
  }
  int index = X509_get_ext_by_OBJ(cert, obj.get(), -1);
  if (index < 0) return std::nullopt;
  X509_EXTENSION* ext = X509_get_ext(cert, index);
  if (ext == nullptr) return std::nullopt;
  return Asn1StringBytes(X509_EXTENSION_get_data(ext));
}

}  // namespace

absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  if (text.size() > kMaxCryptoInputBytes) {
    return absl::InvalidArgumentError("base64 text too large");
  }
  if (absl::StrContains(text, '\n') || absl::StrContains(text, '\r')) {
    std::string stripped;
    stripped.reserve(text.size());
    for (char c : text) {
      if (c != '\n' && c != '\r') stripped.push_back(c);
    }
    return DecodeCanonical(stripped);
  }
  return DecodeCanonical(text);
}

std::string Base64Encode(absl::string_view bytes) {
  if (bytes.empty()) return "";
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

absl::StatusOr<std::string> Base64DecodeLenient(absl::string_view text) {
  if (text.size() > kMaxCryptoInputBytes) {
    return absl::InvalidArgumentError("base64 text too large");
  }
  std::string normal;
  normal.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '\n' || c == '\r') continue;
    if (c == '-') c = '+';
    if (c == '_') c = '/';
    normal.push_back(c);
  }
  while (!normal.empty() && normal.back() == '=') normal.pop_back();
  if (normal.size() % 4 == 1) {
    return absl::InvalidArgumentError("invalid base64 length");
  }
  while (normal.size() % 4 != 0) normal.push_back('=');
  return DecodeCanonical(normal);
}

std::string Sha256Raw(absl::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) !=
      1) {
    // Only on allocation failure; an empty hash never matches anything.
    ERR_clear_error();
    return "";
  }
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string Sha256Hex(absl::string_view bytes) {
  return absl::BytesToHexString(Sha256Raw(bytes));
}

void EvpPkeyDeleter::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
void X509Deleter::operator()(X509* cert) const { X509_free(cert); }

// --- PublicKey
// ----------------------------------------------------------------

absl::StatusOr<PublicKey> PublicKey::FromEvp(EVP_PKEY* key) {
  if (key == nullptr) return absl::InvalidArgumentError("no public key");
  std::string description;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t group_len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof(group), &group_len) != 1) {
        ERR_clear_error();
        return absl::InvalidArgumentError("EC key without a named curve");
      }
      absl::string_view g(group, group_len);
      if (g == "prime256v1" || g == "P-256") {
        description = "ecdsa-p256";
      } else if (g == "secp384r1" || g == "P-384") {
        description = "ecdsa-p384";
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("unsupported EC curve ", g, " (P-256 or P-384)"));
      }
      break;
    }
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(key);
      if (bits < 2048) {
        return absl::InvalidArgumentError(
            absl::StrCat("RSA key of ", bits, " bits (at least 2048)"));
      }
      description = absl::StrCat("rsa-", bits);
      break;
    }
    case EVP_PKEY_ED25519:
      description = "ed25519";
      break;
    default:
      return absl::InvalidArgumentError(
          "unsupported public key type (ECDSA, RSA or Ed25519)");
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return OpenSslInternal("i2d_PUBKEY");
  PublicKey out;
  out.der_.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  if (EVP_PKEY_up_ref(key) != 1) return OpenSslInternal("EVP_PKEY_up_ref");
  out.key_ = std::shared_ptr<EVP_PKEY>(key, EvpPkeyDeleter());
  out.description_ = std::move(description);
  return out;
}

absl::StatusOr<PublicKey> PublicKey::FromPem(absl::string_view pem) {
  if (pem.size() > kMaxCryptoInputBytes) {
    return absl::InvalidArgumentError("public key PEM too large");
  }
  BioPtr bio = MemoryBio(pem);
  if (bio == nullptr) return OpenSslInternal("BIO_new_mem_buf");
  std::unique_ptr<EVP_PKEY, EvpPkeyDeleter> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a PEM \"PUBLIC KEY\": ", TakeOpenSslError()));
  }
  return FromEvp(key.get());
}

absl::StatusOr<PublicKey> PublicKey::FromDer(absl::string_view der) {
  if (der.size() > kMaxCryptoInputBytes) {
    return absl::InvalidArgumentError("public key DER too large");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<EVP_PKEY, EvpPkeyDeleter> key(
      d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a DER SubjectPublicKeyInfo: ", TakeOpenSslError()));
  }
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return absl::InvalidArgumentError("trailing bytes after public key DER");
  }
  return FromEvp(key.get());
}

std::string PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    ERR_clear_error();
    return "";
  }
  return BioContents(bio.get());
}

absl::StatusOr<bool> PublicKey::Verify(absl::string_view message,
                                       absl::string_view signature) const {
  if (message.size() > kMaxCryptoInputBytes || signature.empty() ||
      signature.size() > 8192) {
    return false;
  }
  std::string sig(signature);
  if (EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_EC) {
    std::optional<std::string> der =
        EcdsaSignatureDer(signature, (EVP_PKEY_get_bits(key_.get()) + 7) / 8);
    if (!der.has_value()) return false;
    sig = *std::move(der);
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslInternal("EVP_MD_CTX_new");
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(key_.get()), nullptr,
                           key_.get()) != 1) {
    return OpenSslInternal("EVP_DigestVerifyInit");
  }
  int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
      reinterpret_cast<const unsigned char*>(message.data()), message.size());
  ERR_clear_error();
  return rc == 1;
}

absl::StatusOr<bool> PublicKey::VerifyPrehashed(
    absl::string_view digest, absl::string_view signature) const {
  const int type = EVP_PKEY_get_base_id(key_.get());
  if (type == EVP_PKEY_ED25519 || digest.size() != 32 || signature.empty() ||
      signature.size() > 8192) {
    return false;
  }
  std::string sig(signature);
  if (type == EVP_PKEY_EC) {
    std::optional<std::string> der =
        EcdsaSignatureDer(signature, (EVP_PKEY_get_bits(key_.get()) + 7) / 8);
    if (!der.has_value()) return false;
    sig = *std::move(der);
  }
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
  if (ctx == nullptr) return OpenSslInternal("EVP_PKEY_CTX_new");
  if (EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    return OpenSslInternal("EVP_PKEY_verify_init");
  }
  int rc = EVP_PKEY_verify(
      ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
      reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
  ERR_clear_error();
  return rc == 1;
}

// --- PrivateKey
// ---------------------------------------------------------------

namespace {

// Refuses to prompt for a passphrase: encrypted keys fail to load.
int NoPassphrase(char*, int, int, void*) { return -1; }

}  // namespace

absl::StatusOr<PrivateKey> PrivateKey::FromPem(absl::string_view pem) {
  if (pem.size() > kMaxCryptoInputBytes) {
    return absl::InvalidArgumentError("private key PEM too large");
  }
  if (absl::StrContains(pem, "ENCRYPTED")) {
    return absl::InvalidArgumentError(
        "encrypted private keys are not supported; use an unencrypted "
        "PKCS#8 P-256 key");
  }
  BioPtr bio = MemoryBio(pem);
  if (bio == nullptr) return OpenSslInternal("BIO_new_mem_buf");
  EVP_PKEY* raw =
      PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (raw == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not an unencrypted PEM private key: ", TakeOpenSslError()));
  }
  PrivateKey out;
  out.key_ = std::shared_ptr<EVP_PKEY>(raw, EvpPkeyDeleter());
  SHAPIN_ASSIGN_OR_RETURN(out.public_key_, PublicKey::FromEvp(raw));
  if (out.public_key_.description() != "ecdsa-p256") {
    return absl::InvalidArgumentError(
        absl::StrCat("signing key must be ECDSA P-256, got ",
                     out.public_key_.description()));
  }
  return out;
}

absl::StatusOr<PrivateKey> PrivateKey::GenerateP256() {
  EVP_PKEY* raw = EVP_EC_gen("P-256");
  if (raw == nullptr) return OpenSslInternal("EVP_EC_gen");
  PrivateKey out;
  out.key_ = std::shared_ptr<EVP_PKEY>(raw, EvpPkeyDeleter());
  SHAPIN_ASSIGN_OR_RETURN(out.public_key_, PublicKey::FromEvp(raw));
  return out;
}

absl::StatusOr<std::string> PrivateKey::Sign(absl::string_view message) const {
  if (message.size() > kMaxCryptoInputBytes) {
    return absl::InvalidArgumentError("message too large to sign");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslInternal("EVP_MD_CTX_new");
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                         key_.get()) != 1) {
    return OpenSslInternal("EVP_DigestSignInit");
  }
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, msg, message.size()) != 1) {
    return OpenSslInternal("EVP_DigestSign (size)");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, msg, message.size()) != 1) {
    return OpenSslInternal("EVP_DigestSign");
  }
  sig.resize(len);
  return sig;
}

absl::StatusOr<std::string> PrivateKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) return OpenSslInternal("BIO_new");
  if (PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0,
                               nullptr, nullptr) != 1) {
    return OpenSslInternal("PEM_write_bio_PrivateKey");
  }
  return BioContents(bio.get());
}

// --- Certificate
// --------------------------------------------------------------

absl::StatusOr<Certificate> Certificate::FromX509(X509* owned) {
  Certificate out;
  out.cert_ = std::shared_ptr<X509>(owned, X509Deleter());
  unsigned char* der = nullptr;
  int len = i2d_X509(owned, &der);
  if (len <= 0) return OpenSslInternal("i2d_X509");
  out.der_.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  out.not_before_ = Asn1TimeToAbsl(X509_get0_notBefore(owned));
  out.not_after_ = Asn1TimeToAbsl(X509_get0_notAfter(owned));
  return out;
}

absl::StatusOr<Certificate> Certificate::FromPem(absl::string_view pem) {
  SHAPIN_ASSIGN_OR_RETURN(std::vector<Certificate> certs, ChainFromPem(pem));
  if (certs.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected one PEM certificate, found ", certs.size()));
  }
  return certs.front();
}

absl::StatusOr<Certificate> Certificate::FromDer(absl::string_view der) {
  if (der.size() > kMaxCryptoInputBytes) {
    return absl::InvalidArgumentError("certificate DER too large");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a DER certificate: ", TakeOpenSslError()));
  }
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(cert);
    return absl::InvalidArgumentError("trailing bytes after certificate DER");
  }
  return FromX509(cert);
}

absl::StatusOr<std::vector<Certificate>> Certificate::ChainFromPem(
    absl::string_view pem) {
  if (pem.size() > kMaxCryptoInputBytes) {
    return absl::InvalidArgumentError("certificate PEM too large");
  }
  size_t blocks = 0;
  for (size_t pos = pem.find("-----BEGIN "); pos != absl::string_view::npos;
       pos = pem.find("-----BEGIN ", pos + 1)) {
    ++blocks;
  }
  if (blocks == 0) {
    return absl::InvalidArgumentError("no PEM certificate found");
  }
  BioPtr bio = MemoryBio(pem);
  if (bio == nullptr) return OpenSslInternal("BIO_new_mem_buf");
  std::vector<Certificate> out;
  while (X509* cert =
             PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) {
    SHAPIN_ASSIGN_OR_RETURN(Certificate c, FromX509(cert));
    out.push_back(std::move(c));
  }
  ERR_clear_error();
  if (out.size() != blocks) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed PEM certificate (", out.size(), " of ", blocks,
                     " blocks parsed)"));
  }
  return out;
}

absl::StatusOr<PublicKey> Certificate::public_key() const {
  EVP_PKEY* key = X509_get0_pubkey(cert_.get());
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate public key unreadable: ", TakeOpenSslError()));
  }
  return PublicKey::FromEvp(key);
}

std::vector<std::string> Certificate::EmailAndUriSans() const {
  std::vector<std::string> out;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(
          cert_.get(), NID_subject_alt_name, nullptr, nullptr)));
  ERR_clear_error();
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_EMAIL) {
      out.push_back(Asn1StringBytes(name->d.rfc822Name));
    } else if (name->type == GEN_URI) {
      out.push_back(Asn1StringBytes(name->d.uniformResourceIdentifier));
    }
  }
  return out;
}

bool Certificate::HasCodeSigningEku() const {
  const uint32_t flags = X509_get_extension_flags(cert_.get());
  if ((flags & EXFLAG_INVALID) != 0 || (flags & EXFLAG_XKUSAGE) == 0) {
    return false;
  }
  return (X509_get_extended_key_usage(cert_.get()) & XKU_CODE_SIGN) != 0;
}

std::optional<std::string> Certificate::FulcioIssuer() const {
  if (std::optional<std::string> v2 =
          ExtensionValue(cert_.get(), "1.3.6.1.4.1.57264.1.8");
      v2.has_value()) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(v2->data());
    std::unique_ptr<ASN1_UTF8STRING, Utf8StringDeleter> s(
        d2i_ASN1_UTF8STRING(nullptr, &p, static_cast<long>(v2->size())));
    if (s == nullptr ||
        p != reinterpret_cast<const unsigned char*>(v2->data()) + v2->size()) {
      ERR_clear_error();
      return std::nullopt;
    }
    return Asn1StringBytes(s.get());
  }
  return ExtensionValue(cert_.get(), "1.3.6.1.4.1.57264.1.1");
}

std::string Certificate::SubjectName() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert_.get()), 0,
                     XN_FLAG_RFC2253);
  return BioContents(bio.get());
}

absl::Status VerifyCertificateChain(const Certificate& leaf,
                                    const std::vector<Certificate>& roots,
                                    const std::vector<Certificate>& untrusted,
                                    absl::Time at) {
  if (roots.empty()) {
    return absl::FailedPreconditionError("no trusted root certificates");
  }
  std::unique_ptr<X509_STORE, StoreDeleter> store(X509_STORE_new());
  if (store == nullptr) return OpenSslInternal("X509_STORE_new");
  for (const Certificate& root : roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      // Adding the same root twice is harmless; anything else is not.
      ERR_clear_error();
    }
  }
  std::unique_ptr<STACK_OF(X509), StackDeleter> chain(sk_X509_new_null());
  if (chain == nullptr) return OpenSslInternal("sk_X509_new_null");
  for (const Certificate& c : untrusted) {
    if (sk_X509_push(chain.get(), c.get()) <= 0) {
      return OpenSslInternal("sk_X509_push");
    }
  }
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  if (ctx == nullptr) return OpenSslInternal("X509_STORE_CTX_new");
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), chain.get()) !=
      1) {
    return OpenSslInternal("X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()),
                             absl::ToTimeT(at));
  if (X509_verify_cert(ctx.get()) == 1) {
    ERR_clear_error();
    return absl::OkStatus();
  }
  const int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return absl::FailedPreconditionError(absl::StrCat(
      "certificate chain of ",
      leaf.SubjectName().empty() ? std::string("the leaf") : leaf.SubjectName(),
      " does not verify at ",
      absl::FormatTime(absl::RFC3339_sec, at, absl::UTCTimeZone()), ": ",
      X509_verify_cert_error_string(err)));
}

}  // namespace shapin::signature
