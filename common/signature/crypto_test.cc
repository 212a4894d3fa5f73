#include "common/signature/crypto.h"

#include <openssl/bn.h>
#include <openssl/ec.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/signature/test_fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::signature {
namespace {

using ::shapin::signature::testing::ReadInteropFile;
using ::shapin::signature::testing::StatusIs;
using ::testing::HasSubstr;

TEST(Base64Test, DecodesStandardWithPadding) {
  struct Case {
    std::string text;
    std::string bytes;
  };
  for (const Case& c : std::vector<Case>{{"", ""},
                                         {"Zg==", "f"},
                                         {"Zm8=", "fo"},
                                         {"Zm9v", "foo"},
                                         {"Zm9vYg==", "foob"},
                                         {"Zm9v\nYmFy", "foobar"},
                                         {"Zm9v\r\nYmE=\n", "fooba"},
                                         {"+/+/", "\xfb\xff\xbf"}}) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<std::string> got = Base64Decode(c.text);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, c.bytes);
  }
}

TEST(Base64Test, RejectsMalformed) {
  for (const char* text : {"Zg", "Zg=", "Z===", "Zm9v!", "Zm=v", "-_-_",
                           "Zm9v YmFy", "====", "Zg==Zg=="}) {
    SCOPED_TRACE(text);
    EXPECT_THAT(Base64Decode(text), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("base64")));
  }
}

TEST(Base64Test, EncodesWithPaddingAndRoundTrips) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(*Base64Decode(Base64Encode(all)), all);
}

TEST(Base64Test, LenientAcceptsUrlSafeAndMissingPadding) {
  EXPECT_EQ(*Base64DecodeLenient("Zg"), "f");
  EXPECT_EQ(*Base64DecodeLenient("Zm8"), "fo");
  EXPECT_EQ(*Base64DecodeLenient("-_-_"), "\xfb\xff\xbf");
  EXPECT_EQ(*Base64DecodeLenient("Zg=="), "f");
  EXPECT_FALSE(Base64DecodeLenient("Z").ok());
  EXPECT_FALSE(Base64DecodeLenient("Zm9v!").ok());
}

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Raw("abc").size(), 32u);
}

TEST(PublicKeyTest, ReadsCosignPub) {
  absl::StatusOr<PublicKey> key =
      PublicKey::FromPem(*ReadInteropFile("cosign.pub"));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->description(), "ecdsa-p256");
  absl::StatusOr<PublicKey> again = PublicKey::FromDer(key->der());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again == *key);
  absl::StatusOr<PublicKey> from_pem = PublicKey::FromPem(key->ToPem());
  ASSERT_TRUE(from_pem.ok());
  EXPECT_TRUE(*from_pem == *key);
}

TEST(PublicKeyTest, RejectsNonKeys) {
  EXPECT_THAT(
      PublicKey::FromPem("not a key"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("PUBLIC KEY")));
  EXPECT_THAT(
      PublicKey::FromPem(*ReadInteropFile("fulcio_v1.crt.pem")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("PUBLIC KEY")));
  EXPECT_THAT(PublicKey::FromDer("\x30\x03\x02\x01\x01"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("DER")));
}

// The raw r||s form of a DER ECDSA signature.
std::string RawRs(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  EXPECT_NE(sig, nullptr);
  std::string out(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig),
               reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig),
               reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return out;
}

TEST(SignVerifyTest, DerAndRawSignaturesVerify) {
  absl::StatusOr<PrivateKey> key = PrivateKey::GenerateP256();
  ASSERT_TRUE(key.ok()) << key.status();
  absl::StatusOr<std::string> sig = key->Sign("hello");
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_TRUE(*key->public_key().Verify("hello", *sig));
  EXPECT_TRUE(*key->public_key().Verify("hello", RawRs(*sig)));
  EXPECT_FALSE(*key->public_key().Verify("hellO", *sig));
  EXPECT_FALSE(*key->public_key().Verify("hello", ""));
  EXPECT_FALSE(*key->public_key().Verify("hello", std::string(64, '\0')));
  EXPECT_FALSE(*key->public_key().Verify("hello", "garbage"));
  // DER with trailing bytes is not accepted as DER.
  EXPECT_FALSE(*key->public_key().Verify("hello", *sig + "x"));
  std::string flipped = *sig;
  flipped[flipped.size() - 1] ^= 0x01;
  EXPECT_FALSE(*key->public_key().Verify("hello", flipped));
  EXPECT_TRUE(*key->public_key().VerifyPrehashed(Sha256Raw("hello"), *sig));
  EXPECT_FALSE(*key->public_key().VerifyPrehashed(Sha256Raw("other"), *sig));
}

TEST(PrivateKeyTest, PemRoundTripAndRejections) {
  absl::StatusOr<PrivateKey> key = PrivateKey::GenerateP256();
  ASSERT_TRUE(key.ok());
  absl::StatusOr<std::string> pem = key->ToPem();
  ASSERT_TRUE(pem.ok());
  EXPECT_THAT(*pem, HasSubstr("BEGIN PRIVATE KEY"));
  absl::StatusOr<PrivateKey> again = PrivateKey::FromPem(*pem);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->public_key() == key->public_key());
  EXPECT_THAT(
      PrivateKey::FromPem("-----BEGIN ENCRYPTED SIGSTORE PRIVATE "
                          "KEY-----\nxx\n-----END ENCRYPTED SIGSTORE "
                          "PRIVATE KEY-----\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("encrypted")));
  EXPECT_THAT(
      PrivateKey::FromPem("nope"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("private key")));
}

TEST(X509CertificateTest, ChainAndSingle) {
  absl::StatusOr<std::vector<Certificate>> chain =
      Certificate::ChainFromPem(*ReadInteropFile("fulcio-chain"));
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->size(), 2u);
  EXPECT_THAT(
      Certificate::FromPem(*ReadInteropFile("fulcio-chain")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected one")));
  absl::StatusOr<Certificate> root =
      Certificate::FromPem(*ReadInteropFile("fulcio_v1.crt.pem"));
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(*root == chain->back());
  EXPECT_THAT(root->SubjectName(), HasSubstr("CN=sigstore"));
  absl::StatusOr<Certificate> der = Certificate::FromDer(root->der());
  ASSERT_TRUE(der.ok());
  EXPECT_TRUE(*der == *root);
  EXPECT_THAT(
      Certificate::ChainFromPem("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                "-----END CERTIFICATE-----\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed")));
  EXPECT_THAT(
      Certificate::ChainFromPem(""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no PEM")));
}

TEST(X509CertificateTest, ChainNeedsRoots) {
  absl::StatusOr<Certificate> leaf =
      Certificate::FromPem(*ReadInteropFile("fulcio-cert"));
  ASSERT_TRUE(leaf.ok());
  EXPECT_THAT(
      VerifyCertificateChain(*leaf, {}, {}, absl::FromUnixSeconds(1700000000)),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("no trusted root")));
}

}  // namespace
}  // namespace shapin::signature
