// Parsers fed malformed input return errors (or "unverified"), never crash.
// Run in the sanitizer build too (-DSHAPIN_SANITIZE=ON).
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/git_sha.h"
#include "common/signature/crypto.h"
#include "common/signature/dsse.h"
#include "common/signature/in_toto.h"
#include "common/signature/rekor.h"
#include "common/signature/signer.h"
#include "common/signature/sigstore_bundle.h"
#include "common/signature/simple_signing.h"
#include "common/signature/test_fixtures.h"
#include "common/signature/trust.h"
#include "common/signature/verifier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::signature {
namespace {

using ::shapin::signature::testing::LoadFixtureSignatures;
using ::shapin::signature::testing::ReadInteropFile;
using ::shapin::signature::testing::RekorPublicKeyPem;
using ::shapin::signature::testing::StatusIs;
using ::testing::HasSubstr;

std::string Deep(int levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

std::string Huge() {
  return absl::StrCat("\"", std::string(5 << 20, 'a'), "\"");
}

// Every input is INVALID_ARGUMENT with a message starting with `prefix`.
template <typename Parser>
void ExpectAllRejected(absl::string_view prefix,
                       const std::vector<std::string>& inputs, Parser parse) {
  for (const std::string& input : inputs) {
    SCOPED_TRACE(input.substr(0, 120));
    auto result = parse(input);
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                                 ::testing::StartsWith(std::string(prefix))));
  }
}

TEST(MalformedInputTest, SimpleSigningPayload) {
  ExpectAllRejected(
      "simple-signing payload: ",
      {"", "null", "[]", "{}", "\"x\"", R"({"critical":null})",
       R"({"critical":{}})", R"({"critical":{"type":1}})",
       R"({"critical":{"type":"x"}})",
       R"({"critical":{"type":"x","image":[]}})",
       R"({"critical":{"type":"x","image":{"docker-manifest-digest":5}}})",
       R"({"critical":{"type":"x","image":{"docker-manifest-digest":"d"},"identity":[]}})",
       R"({"critical":{"type":"x","image":{"docker-manifest-digest":"d"},"identity":{"docker-reference":1}}})",
       R"({"critical":{"type":"x","image":{"docker-manifest-digest":"d"}},"optional":5})",
       R"({"critical":{"type":"x","type":"x","image":{"docker-manifest-digest":"d"}}})",
       "{\"critical\":{\"type\":\"\xff\"}}", Deep(100), Huge(),
       R"({"critical":{"type":"x","image":{"docker-manifest-digest":"d"}}} trailing)"},
      [](const std::string& s) { return ParseSimpleSigningPayload(s); });
}

TEST(MalformedInputTest, DsseEnvelope) {
  ExpectAllRejected(
      "DSSE envelope: ",
      {"", "[]", "{}", R"({"payloadType":1,"payload":"","signatures":[]})",
       R"({"payloadType":"t","payload":"***","signatures":[{"sig":"AA=="}]})",
       R"({"payloadType":"t","payload":"","signatures":[]})",
       R"({"payloadType":"t","payload":""})",
       R"({"payloadType":"t","payload":"","signatures":{}})",
       R"({"payloadType":"t","payload":"","signatures":[1]})",
       R"({"payloadType":"t","payload":"","signatures":[{"sig":1}]})",
       R"({"payloadType":"t","payload":"","signatures":[{"sig":""}]})",
       R"({"payloadType":"t","payload":"","signatures":[{"sig":"AA==","keyid":2}]})",
       R"({"payloadType":"t","payloadType":"t","payload":"","signatures":[{"sig":"AA=="}]})",
       Deep(100)},
      [](const std::string& s) { return ParseDsseEnvelope(s); });
}

TEST(MalformedInputTest, Statement) {
  ExpectAllRejected(
      "in-toto statement: ",
      {"", "{}", R"({"_type":"x"})",
       R"({"_type":"https://in-toto.io/Statement/v1"})",
       R"({"_type":"https://in-toto.io/Statement/v1","subject":{}})",
       R"({"_type":"https://in-toto.io/Statement/v1","subject":[]})",
       R"({"_type":"https://in-toto.io/Statement/v1","subject":[1]})",
       R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"n"}]})",
       R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":1}}]})",
       R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{}}]})",
       R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{}}],"predicateType":"p","predicate":[]})",
       R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"a":"b","a":"c"}}],"predicateType":"p"})"},
      [](const std::string& s) { return ParseStatement(s); });
}

TEST(MalformedInputTest, CosignBundleAnnotation) {
  ExpectAllRejected(
      "rekor bundle: ",
      {"", "{}", "[]", R"({"SignedEntryTimestamp":"***","Payload":{}})",
       R"({"SignedEntryTimestamp":"","Payload":{}})",
       R"({"SignedEntryTimestamp":"AA=="})",
       R"({"SignedEntryTimestamp":"AA==","Payload":{"body":1}})",
       R"({"SignedEntryTimestamp":"AA==","Payload":{"body":"","integratedTime":"1","logIndex":1,"logID":"ab"}})",
       R"({"SignedEntryTimestamp":"AA==","Payload":{"body":"","integratedTime":-1,"logIndex":1,"logID":"ab"}})",
       R"({"SignedEntryTimestamp":"AA==","Payload":{"body":"","integratedTime":1.5,"logIndex":1,"logID":"ab"}})",
       R"({"SignedEntryTimestamp":"AA==","Payload":{"body":"","integratedTime":99999999999999999999,"logIndex":1,"logID":"ab"}})",
       R"({"SignedEntryTimestamp":"AA==","Payload":{"body":"","integratedTime":9007199254740993,"logIndex":1,"logID":"ab"}})",
       R"({"SignedEntryTimestamp":"AA==","Payload":{"body":"","integratedTime":1,"logIndex":1,"logID":"AB"}})",
       R"({"SignedEntryTimestamp":"AA==","Payload":{"body":"","integratedTime":1,"logIndex":1,"logID":""}})",
       R"({"SignedEntryTimestamp":"AA==","Payload":{"body":"","integratedTime":1,"logIndex":1}})"},
      [](const std::string& s) { return ParseCosignBundle(s); });
}

TEST(MalformedInputTest, RekorEntryBody) {
  auto b64 = [](absl::string_view s) { return Base64Encode(s); };
  ExpectAllRejected(
      "rekor entry: ",
      {"***", b64("not json"), b64("{}"), b64(R"({"kind":"hashedrekord"})"),
       b64(R"({"kind":"hashedrekord","apiVersion":"0.0.1","spec":{}})"),
       b64(R"({"kind":"hashedrekord","apiVersion":"0.0.1","spec":{"signature":{"content":"***"}}})"),
       b64(R"({"kind":"hashedrekord","apiVersion":"0.0.1","spec":{"signature":{"content":"AA==","publicKey":{"content":"AA=="}},"data":{"hash":{"algorithm":"sha1","value":"ab"}}}})"),
       b64(R"({"kind":"hashedrekord","apiVersion":"0.0.2","spec":{}})"),
       b64(R"({"kind":"intoto","apiVersion":"0.0.2","spec":{"content":{"payloadHash":{"algorithm":"sha256","value":"zz"}}}})"),
       b64(R"({"kind":"dsse","apiVersion":"0.0.1","spec":{"payloadHash":{"algorithm":"sha256","value":")" +
           std::string(64, 'a') + R"("},"signatures":[]}})")},
      [](const std::string& s) { return ParseRekorEntryBody(s); });
}

TEST(MalformedInputTest, SigstoreBundle) {
  const std::string mt =
      R"("mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json")";
  ExpectAllRejected(
      "sigstore bundle: ",
      {"", "{}", R"({"mediaType":"application/json"})",
       absl::StrCat("{", mt, "}"),
       absl::StrCat("{", mt, R"(,"verificationMaterial":{}})"),
       absl::StrCat("{", mt, R"(,"verificationMaterial":{"publicKey":{}}})"),
       absl::StrCat(
           "{", mt,
           R"(,"verificationMaterial":{"publicKey":{}},"messageSignature":{},"dsseEnvelope":{}})"),
       absl::StrCat(
           "{", mt,
           R"(,"verificationMaterial":{"certificate":{"rawBytes":"AAAA"}},"messageSignature":{}})"),
       absl::StrCat(
           "{", mt,
           R"(,"verificationMaterial":{"x509CertificateChain":{"certificates":[]}},"messageSignature":{}})"),
       absl::StrCat(
           "{", mt,
           R"(,"verificationMaterial":{"publicKey":{},"tlogEntries":[{"logIndex":"x"}]},"messageSignature":{}})"),
       absl::StrCat(
           "{", mt,
           R"(,"verificationMaterial":{"publicKey":{},"tlogEntries":{}},"messageSignature":{}})"),
       absl::StrCat(
           "{", mt,
           R"(,"verificationMaterial":{"publicKey":{}},"messageSignature":{"signature":"AA=="}})"),
       absl::StrCat(
           "{", mt,
           R"(,"verificationMaterial":{"publicKey":{}},"dsseEnvelope":{"payloadType":"t"}})")},
      [](const std::string& s) { return ParseSigstoreBundle(s); });
}

TEST(MalformedInputTest, TrustConfiguration) {
  struct Case {
    std::string name;
    std::function<void(TrustConfig&)> edit;
    std::string message;
  };
  for (
      const Case& c : std::vector<Case>{
          {"bad key", [](TrustConfig& t) { t.public_keys_pem = {"x"}; },
           "public_keys_pem[0]"},
          {"bad root", [](TrustConfig& t) { t.fulcio_roots_pem = {"x"}; },
           "fulcio_roots_pem[0]"},
          {"intermediates without roots",
           [](TrustConfig& t) {
             t.fulcio_intermediates_pem = {
                 *ReadInteropFile("fulcio_v1.crt.pem")};
           },
           "without fulcio_roots_pem"},
          {"bad rekor key",
           [](TrustConfig& t) { t.rekor_public_keys_pem = {"x"}; },
           "rekor_public_keys_pem[0]"},
          {"identity without issuer",
           [](TrustConfig& t) {
             t.identities = {
                 {.issuer = "", .subject = "a", .subject_regex = ""}};
           },
           "empty issuer"},
          {"identity with both",
           [](TrustConfig& t) {
             t.identities = {
                 {.issuer = "i", .subject = "a", .subject_regex = "b"}};
           },
           "exactly one"},
          {"identity with neither",
           [](TrustConfig& t) {
             t.identities = {
                 {.issuer = "i", .subject = "", .subject_regex = ""}};
           },
           "exactly one"},
          {"bad regex",
           [](TrustConfig& t) {
             t.identities = {
                 {.issuer = "i", .subject = "", .subject_regex = "(("}};
           },
           "subject_regex"},
          {"trusted root not JSON",
           [](TrustConfig& t) { t.trusted_root_json = "{"; },
           "trusted_root.json"},
          {"trusted root tlog key",
           [](TrustConfig& t) {
             t.trusted_root_json =
                 R"({"tlogs":[{"publicKey":{"rawBytes":"AAAA"}}]})";
           },
           "tlogs[0]"},
          {"trusted root CA",
           [](TrustConfig& t) {
             t.trusted_root_json =
                 R"({"certificateAuthorities":[{"certChain":{"certificates":[{"rawBytes":"AAAA"}]}}]})";
           },
           "certificateAuthorities[0]"},
          {"trusted root validity",
           [](TrustConfig& t) {
             t.trusted_root_json = absl::StrCat(
                 R"({"tlogs":[{"publicKey":{"rawBytes":")",
                 Base64Encode(PublicKey::FromPem(RekorPublicKeyPem())->der()),
                 R"(","validFor":{"start":"yesterday"}}}]})");
           },
           "validFor.start"},
      }) {
    SCOPED_TRACE(c.name);
    TrustConfig t;
    c.edit(t);
    EXPECT_THAT(
        TrustMaterial::Create(t),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(MalformedInputTest, TrustedRootJsonIsUsed) {
  // A trusted_root.json with the public-good Rekor key, valid from 2021,
  // and the interop Fulcio root.
  absl::StatusOr<Certificate> root =
      Certificate::FromPem(*ReadInteropFile("fulcio_v1.crt.pem"));
  ASSERT_TRUE(root.ok());
  TrustConfig t;
  t.trusted_root_json = absl::StrCat(
      R"({"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1",)",
      R"("tlogs":[{"baseUrl":"https://rekor.sigstore.dev","hashAlgorithm":"SHA2_256",)",
      R"("publicKey":{"rawBytes":")",
      Base64Encode(PublicKey::FromPem(RekorPublicKeyPem())->der()),
      R"(","keyDetails":"PKIX_ECDSA_P256_SHA_256","validFor":{"start":"2021-01-12T11:53:27.000Z"}},)",
      R"("logId":{"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="}}],)",
      R"("certificateAuthorities":[{"certChain":{"certificates":[{"rawBytes":")",
      Base64Encode(root->der()),
      R"("}]},"validFor":{"start":"2021-03-07T03:20:29.000Z"}}]})");
  t.identities = {{.issuer = "https://github.com/login/oauth",
                   .subject = "mitr@redhat.com",
                   .subject_regex = ""}};
  absl::StatusOr<TrustMaterial> trust = TrustMaterial::Create(t);
  ASSERT_TRUE(trust.ok()) << trust.status();
  EXPECT_TRUE(trust->keyless_configured());
  EXPECT_TRUE(trust->tlog_configured());
  Verifier verifier(*std::move(trust));
  VerifyRequest r;
  r.image_digest = Digest::OfBytes(
      *ReadInteropFile("dir-img-cosign-fulcio-rekor-valid/manifest.json"));
  r.signatures = *LoadFixtureSignatures("dir-img-cosign-fulcio-rekor-valid");
  absl::StatusOr<VerificationResult> result = verifier.Verify(r);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->reason, Reason::kVerified) << result->details;

  // A Rekor key only valid after the entry was logged does not count.
  TrustConfig late = t;
  late.trusted_root_json = absl::StrReplaceAll(
      t.trusted_root_json,
      {{"2021-01-12T11:53:27.000Z", "2024-01-01T00:00:00Z"}});
  Verifier late_verifier(*TrustMaterial::Create(late));
  result = late_verifier.Verify(r);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->reason, Reason::kInvalidBundle) << result->details;
}

// Truncations and byte flips of real documents, through the parsers and the
// whole verifier: errors or "unverified", never a crash, never an error
// status from the verifier.
TEST(MalformedInputTest, MutatedRealDocuments) {
  const SignatureLayer keyless =
      LoadFixtureSignatures("dir-img-cosign-fulcio-rekor-valid")->front();
  const Digest image = Digest::OfBytes(
      *ReadInteropFile("dir-img-cosign-fulcio-rekor-valid/manifest.json"));
  TrustConfig config;
  config.fulcio_roots_pem = {*ReadInteropFile("fulcio_v1.crt.pem")};
  config.rekor_public_keys_pem = {RekorPublicKeyPem()};
  config.identities = {{.issuer = "https://github.com/login/oauth",
                        .subject = "mitr@redhat.com",
                        .subject_regex = ""}};
  PrivateKey key = *PrivateKey::GenerateP256();
  config.public_keys_pem = {key.public_key().ToPem()};
  config.allowed_builder_ids = {"b"};
  Verifier verifier(*TrustMaterial::Create(config));
  const AttestationLayer att = *Signer(key).AttestProvenance(BuildProvenance{
      .subject_name = "r",
      .image_digest = image,
      .builder_id = "b",
      .build_type = "t",
      .source_url = "u",
      .branch = "main",
      .commit = *GitSha::Parse("0123456789abcdef0123456789abcdef01234567"),
      .dockerfile = "Dockerfile",
      .base_images = {},
      .invocation_id = "1",
      .started_on = absl::FromUnixSeconds(1),
      .finished_on = absl::FromUnixSeconds(2),
  });

  auto verify = [&](const SignatureLayer& sig, const AttestationLayer& a,
                    const std::string& bundle) {
    VerifyRequest r;
    r.image_digest = image;
    r.signatures = {sig};
    r.attestations = {a};
    r.bundles = {bundle};
    absl::StatusOr<VerificationResult> result = verifier.Verify(r);
    EXPECT_TRUE(result.ok()) << result.status();
  };
  auto mutations = [](const std::string& doc,
                      const std::function<void(const std::string&)>& use) {
    const size_t stride = doc.size() > 400 ? doc.size() / 200 : 1;
    for (size_t i = 0; i < doc.size(); i += stride) {
      use(doc.substr(0, i));
      std::string flipped = doc;
      flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
      use(flipped);
    }
  };

  mutations(keyless.payload, [&](const std::string& m) {
    (void)ParseSimpleSigningPayload(m);
    SignatureLayer l = keyless;
    l.payload = m;
    verify(l, att, "");
  });
  for (absl::string_view annotation :
       {kSignatureAnnotation, kCertificateAnnotation, kChainAnnotation,
        kBundleAnnotation}) {
    SCOPED_TRACE(annotation);
    mutations(keyless.annotations.at(std::string(annotation)),
              [&](const std::string& m) {
                if (annotation == kBundleAnnotation) (void)ParseCosignBundle(m);
                SignatureLayer l = keyless;
                l.annotations[std::string(annotation)] = m;
                verify(l, att, "");
              });
  }
  mutations(att.envelope, [&](const std::string& m) {
    absl::StatusOr<DsseEnvelope> env = ParseDsseEnvelope(m);
    if (env.ok()) (void)ParseStatement(env->payload);
    AttestationLayer a = att;
    a.envelope = m;
    verify(keyless, a, m);  // also as a (malformed) Sigstore bundle
  });
}

}  // namespace
}  // namespace shapin::signature
