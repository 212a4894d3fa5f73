#include "common/signature/rekor.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/signature/crypto.h"
#include "common/signature/simple_signing.h"
#include "common/signature/test_fixtures.h"
#include "common/signature/test_pki.h"
#include "common/signature/trust.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::signature {
namespace {

using ::shapin::signature::testing::LoadFixtureSignatures;
using ::shapin::signature::testing::ReadInteropFile;
using ::shapin::signature::testing::RekorPublicKeyPem;
using ::shapin::signature::testing::StatusIs;
using ::shapin::signature::testing::TestRekor;
using ::testing::HasSubstr;

SignatureLayer KeyRekorLayer() {
  return LoadFixtureSignatures("dir-img-cosign-key-rekor-valid")->front();
}

TrustMaterial RekorTrust(const std::string& pem) {
  TrustConfig c;
  c.rekor_public_keys_pem.push_back(pem);
  return *TrustMaterial::Create(c);
}

TEST(CosignBundleTest, ParsesFixtureAnnotation) {
  SignatureLayer layer = KeyRekorLayer();
  absl::StatusOr<TlogEntry> e =
      ParseCosignBundle(layer.annotations.at(std::string(kBundleAnnotation)));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->integrated_time, 1674251859);
  EXPECT_EQ(e->log_index, 11608800);
  EXPECT_EQ(e->log_id_hex,
            "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d");
  EXPECT_FALSE(e->signed_entry_timestamp.empty());
}

TEST(CosignBundleTest, SetPayloadIsCanonicalJson) {
  TlogEntry e;
  e.body_base64 = "eyJhIjoxfQ==";
  e.integrated_time = 1674251859;
  e.log_index = 11608800;
  e.log_id_hex = "c0d2";
  EXPECT_EQ(SignedEntryTimestampPayload(e),
            "{\"body\":\"eyJhIjoxfQ==\",\"integratedTime\":1674251859,"
            "\"logID\":\"c0d2\",\"logIndex\":11608800}");
}

TEST(CosignBundleTest, FixtureSetVerifiesAndTamperingBreaksIt) {
  SignatureLayer layer = KeyRekorLayer();
  TlogEntry e =
      *ParseCosignBundle(layer.annotations.at(std::string(kBundleAnnotation)));
  TrustMaterial trust = RekorTrust(RekorPublicKeyPem());
  ASSERT_TRUE(VerifySignedEntryTimestamp(e, trust).ok());

  struct Case {
    std::string name;
    void (*tamper)(TlogEntry&);
  };
  for (const Case& c : std::vector<Case>{
           {"integratedTime", [](TlogEntry& t) { ++t.integrated_time; }},
           {"logIndex", [](TlogEntry& t) { ++t.log_index; }},
           {"body", [](TlogEntry& t) { t.body_base64[10] ^= 0x01; }},
           {"set", [](TlogEntry& t) { t.signed_entry_timestamp[8] ^= 0x01; }},
       }) {
    SCOPED_TRACE(c.name);
    TlogEntry t = e;
    c.tamper(t);
    EXPECT_THAT(VerifySignedEntryTimestamp(t, trust),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("does not verify")));
  }
  TlogEntry no_set = e;
  no_set.signed_entry_timestamp.clear();
  EXPECT_THAT(VerifySignedEntryTimestamp(no_set, trust),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no signed entry timestamp")));
}

TEST(CosignBundleTest, SetCheckedAgainstAnotherKeyFails) {
  SignatureLayer layer = KeyRekorLayer();
  TlogEntry e =
      *ParseCosignBundle(layer.annotations.at(std::string(kBundleAnnotation)));
  const std::string other_pem = *ReadInteropFile("cosign.pub");
  TrustMaterial other = RekorTrust(other_pem);
  EXPECT_THAT(VerifySignedEntryTimestamp(e, other),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no configured Rekor key with log ID")));
  // Even when the entry claims the other key's log ID, the SET fails.
  e.log_id_hex = PublicKey::FromPem(other_pem)->Sha256Id();
  EXPECT_THAT(VerifySignedEntryTimestamp(e, other),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("does not verify")));
}

TEST(RekorEntryBodyTest, FixtureBodyBindsSignaturePayloadAndKey) {
  SignatureLayer layer = KeyRekorLayer();
  TlogEntry e =
      *ParseCosignBundle(layer.annotations.at(std::string(kBundleAnnotation)));
  absl::StatusOr<RekorEntryBody> body = ParseRekorEntryBody(e.body_base64);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->kind, "hashedrekord");
  EXPECT_EQ(body->artifact_sha256_hex, Sha256Hex(layer.payload));
  const std::string sig =
      *Base64Decode(layer.annotations.at(std::string(kSignatureAnnotation)));
  const PublicKey key = *PublicKey::FromPem(*ReadInteropFile("cosign2.pub"));
  const PublicKey other = *PublicKey::FromPem(*ReadInteropFile("cosign.pub"));
  EXPECT_TRUE(
      CheckEntryBinding(*body, sig, Sha256Hex(layer.payload), &key, nullptr)
          .ok());
  EXPECT_THAT(
      CheckEntryBinding(*body, sig, Sha256Hex("other payload"), &key, nullptr),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("artifact")));
  EXPECT_THAT(CheckEntryBinding(*body, "other signature",
                                Sha256Hex(layer.payload), &key, nullptr),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("different signature")));
  EXPECT_THAT(
      CheckEntryBinding(*body, sig, Sha256Hex(layer.payload), &other, nullptr),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("different public key")));
}

TEST(RekorEntryBodyTest, KeylessFixtureRecordsTheCertificate) {
  SignatureLayer layer =
      LoadFixtureSignatures("dir-img-cosign-fulcio-rekor-valid")->front();
  TlogEntry e =
      *ParseCosignBundle(layer.annotations.at(std::string(kBundleAnnotation)));
  RekorEntryBody body = *ParseRekorEntryBody(e.body_base64);
  const Certificate leaf = *Certificate::FromPem(
      layer.annotations.at(std::string(kCertificateAnnotation)));
  const std::string sig =
      *Base64Decode(layer.annotations.at(std::string(kSignatureAnnotation)));
  EXPECT_TRUE(
      CheckEntryBinding(body, sig, Sha256Hex(layer.payload), nullptr, &leaf)
          .ok());
  const Certificate other =
      *Certificate::FromPem(*ReadInteropFile("fulcio-cert"));
  EXPECT_THAT(
      CheckEntryBinding(body, sig, Sha256Hex(layer.payload), nullptr, &other),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("different certificate")));
}

TEST(RekorEntryBodyTest, DsseAndInTotoKinds) {
  const PublicKey key = *PublicKey::FromPem(*ReadInteropFile("cosign.pub"));
  const std::string pem = key.ToPem();
  RekorEntryBody dsse = *ParseRekorEntryBody(
      Base64Encode(testing::DsseEntryBody("sig", Sha256Hex("payload"), pem)));
  EXPECT_EQ(dsse.kind, "dsse");
  EXPECT_TRUE(
      CheckEntryBinding(dsse, "sig", Sha256Hex("payload"), &key, nullptr).ok());

  const std::string intoto1 = absl::StrCat(
      R"({"apiVersion":"0.0.1","kind":"intoto","spec":{"content":{"hash":)",
      R"({"algorithm":"sha256","value":")", std::string(64, 'a'),
      R"("},"payloadHash":{"algorithm":"sha256","value":")",
      Sha256Hex("payload"), R"("}},"publicKey":")", Base64Encode(pem),
      R"("}})");
  RekorEntryBody v1 = *ParseRekorEntryBody(Base64Encode(intoto1));
  EXPECT_TRUE(v1.signatures.empty());
  EXPECT_TRUE(
      CheckEntryBinding(v1, "any", Sha256Hex("payload"), &key, nullptr).ok());

  const std::string intoto2 = absl::StrCat(
      R"({"apiVersion":"0.0.2","kind":"intoto","spec":{"content":{"envelope":)",
      R"({"payloadType":"application/vnd.in-toto+json","signatures":[{"sig":")",
      Base64Encode(Base64Encode("sig")), R"(","publicKey":")",
      Base64Encode(pem),
      R"("}]},"payloadHash":{"algorithm":"sha256","value":")",
      Sha256Hex("payload"), R"("}}}})");
  RekorEntryBody v2 = *ParseRekorEntryBody(Base64Encode(intoto2));
  EXPECT_TRUE(
      CheckEntryBinding(v2, "sig", Sha256Hex("payload"), &key, nullptr).ok());
  EXPECT_FALSE(
      CheckEntryBinding(v2, "gis", Sha256Hex("payload"), &key, nullptr).ok());
}

TEST(RekorEntryBodyTest, RejectsUnknownKinds) {
  EXPECT_THAT(ParseRekorEntryBody(Base64Encode(
                  R"({"apiVersion":"0.0.1","kind":"jar","spec":{}})")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unsupported kind jar")));
  EXPECT_THAT(ParseRekorEntryBody("%%%"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("body")));
}

TEST(TestRekorTest, LogsVerifiableEntries) {
  TestRekor rekor;
  TlogEntry e = rekor.Log("{\"kind\":\"x\"}", 1700000000, 3);
  TrustMaterial trust = RekorTrust(rekor.public_key_pem());
  EXPECT_TRUE(VerifySignedEntryTimestamp(e, trust).ok());
  absl::StatusOr<TlogEntry> parsed =
      ParseCosignBundle(testing::CosignBundleAnnotation(e));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(SignedEntryTimestampPayload(*parsed),
            SignedEntryTimestampPayload(e));
}

}  // namespace
}  // namespace shapin::signature
