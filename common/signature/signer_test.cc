#include "common/signature/signer.h"

#include <string>

#include "absl/time/time.h"
#include "common/digest.h"
#include "common/git_sha.h"
#include "common/signature/crypto.h"
#include "common/signature/dsse.h"
#include "common/signature/in_toto.h"
#include "common/signature/simple_signing.h"
#include "common/signature/test_fixtures.h"
#include "common/signature/verifier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::signature {
namespace {

using ::shapin::signature::testing::LoadFixtureSignatures;
using ::testing::HasSubstr;

TEST(SimpleSigningPayloadTest, ByteIdenticalToCosign) {
  SignatureLayer fixture =
      LoadFixtureSignatures("dir-img-cosign-valid")->front();
  const Digest digest = *Digest::Parse(
      "sha256:"
      "634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00");
  EXPECT_EQ(BuildSimpleSigningPayload(
                "192.168.64.2:5000/cosign-signed-single-sample", digest),
            fixture.payload);
}

TEST(SimpleSigningPayloadTest, OptionalAndEscaping) {
  const Digest digest = Digest::OfBytes("m");
  EXPECT_EQ(BuildSimpleSigningPayload("r", digest, {{"b", "2"}, {"a", "<&>"}}),
            absl::StrCat(R"({"critical":{"identity":{"docker-reference":"r"},)",
                         R"("image":{"docker-manifest-digest":")", digest.str(),
                         R"("},"type":"cosign container image signature"},)",
                         R"("optional":{"a":"\u003c\u0026\u003e","b":"2"}})"));
  EXPECT_EQ(GoJsonString("a\"b\\\n\x01\xe2\x80\xa8"),
            "\"a\\\"b\\\\\\n\\u0001\\u2028\"");
  SimpleSigningPayload p = *ParseSimpleSigningPayload(
      BuildSimpleSigningPayload("r", digest, {{"a", "1"}}));
  EXPECT_EQ(p.docker_reference, "r");
  EXPECT_EQ(p.manifest_digest, digest.str());
  EXPECT_EQ(p.type, kCosignSignatureType);
}

class CosignSignerTest : public ::testing::Test {
 protected:
  CosignSignerTest()
      : key_(*PrivateKey::FromPem(*PrivateKey::GenerateP256()->ToPem())),
        signer_(key_) {}
  PrivateKey key_;
  Signer signer_;
  const Digest digest_ = Digest::OfBytes("manifest bytes");
};

TEST_F(CosignSignerTest, SignatureLayerIsCosignShaped) {
  absl::StatusOr<SignatureLayer> l = signer_.SignImage("ghcr.io/a/b", digest_);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->media_type, kSimpleSigningMediaType);
  EXPECT_EQ(l->payload, BuildSimpleSigningPayload("ghcr.io/a/b", digest_));
  ASSERT_EQ(l->annotations.size(), 1u);
  const std::string sig =
      *Base64Decode(l->annotations.at(std::string(kSignatureAnnotation)));
  EXPECT_EQ(sig[0], '\x30');  // ASN.1 DER SEQUENCE
  EXPECT_TRUE(*key_.public_key().Verify(l->payload, sig));
}

TEST_F(CosignSignerTest, AttestationLayerIsCosignShaped) {
  BuildProvenance build{
      .subject_name = "ghcr.io/a/b",
      .image_digest = digest_,
      .builder_id = "https://shapin.dev/build-svc@v1",
      .build_type = "https://shapin.dev/buildtypes/buildah/v1",
      .source_url = "https://github.com/a/b",
      .branch = "main",
      .commit = *GitSha::Parse("0123456789abcdef0123456789abcdef01234567"),
      .dockerfile = "Dockerfile",
      .base_images = {},
      .invocation_id = "7",
      .started_on = absl::FromUnixSeconds(1),
      .finished_on = absl::FromUnixSeconds(2),
  };
  absl::StatusOr<AttestationLayer> l = signer_.AttestProvenance(build);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->media_type, kDsseMediaType);
  EXPECT_EQ(l->annotations.at(std::string(kPredicateTypeAnnotation)),
            kSlsaProvenanceV1);
  EXPECT_EQ(l->annotations.at(std::string(kSignatureAnnotation)), "");
  DsseEnvelope env = *ParseDsseEnvelope(l->envelope);
  EXPECT_EQ(env.payload_type, kInTotoPayloadType);
  EXPECT_EQ(env.payload, BuildSlsaV1Statement(build));
  ASSERT_EQ(env.signatures.size(), 1u);
  EXPECT_TRUE(*key_.public_key().Verify(
      PreAuthEncoding(env.payload_type, env.payload), env.signatures[0].sig));
}

TEST_F(CosignSignerTest, RoundTripThroughTheVerifier) {
  TrustConfig config;
  config.public_keys_pem.push_back(signer_.public_key().ToPem());
  config.allowed_builder_ids.push_back("https://shapin.dev/build-svc@v1");
  Verifier verifier(*TrustMaterial::Create(config));
  const GitSha sha = *GitSha::Parse("0123456789abcdef0123456789abcdef01234567");
  VerifyRequest request;
  request.image_digest = digest_;
  request.expected_commit = sha;
  request.signatures.push_back(*signer_.SignImage("ghcr.io/a/b", digest_));
  request.attestations.push_back(*signer_.AttestProvenance(BuildProvenance{
      .subject_name = "ghcr.io/a/b",
      .image_digest = digest_,
      .builder_id = "https://shapin.dev/build-svc@v1",
      .build_type = "t",
      .source_url = "https://github.com/a/b",
      .branch = "main",
      .commit = sha,
      .dockerfile = "Dockerfile",
      .base_images = {},
      .invocation_id = "7",
      .started_on = absl::FromUnixSeconds(1),
      .finished_on = absl::FromUnixSeconds(2),
  }));
  absl::StatusOr<VerificationResult> r = verifier.Verify(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reason, Reason::kVerified) << r->details;
  EXPECT_EQ(r->provenance_status, ProvenanceStatus::kVerified)
      << r->provenance_details;
  EXPECT_EQ(r->source_commit, sha.str());
  EXPECT_THAT(r->signer, HasSubstr("key sha256:"));
}

}  // namespace
}  // namespace shapin::signature
