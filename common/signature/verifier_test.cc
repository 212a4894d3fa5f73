#include "common/signature/verifier.h"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/git_sha.h"
#include "common/signature/crypto.h"
#include "common/signature/dsse.h"
#include "common/signature/in_toto.h"
#include "common/signature/signer.h"
#include "common/signature/sigstore_bundle.h"
#include "common/signature/simple_signing.h"
#include "common/signature/test_fixtures.h"
#include "common/signature/test_pki.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::signature {
namespace {

using ::shapin::signature::testing::CertificatePem;
using ::shapin::signature::testing::CosignBundleAnnotation;
using ::shapin::signature::testing::DsseEntryBody;
using ::shapin::signature::testing::HashedRekordBody;
using ::shapin::signature::testing::LeafOptions;
using ::shapin::signature::testing::TestFulcio;
using ::shapin::signature::testing::TestRekor;
using ::testing::HasSubstr;

const Digest kImage = Digest::OfBytes("the image manifest");
const Digest kOtherImage = Digest::OfBytes("another image manifest");
constexpr absl::string_view kRepo = "ghcr.io/mconstant/pay2slay-api";
constexpr absl::string_view kCommit =
    "0123456789abcdef0123456789abcdef01234567";
constexpr absl::string_view kOtherCommit =
    "fedcba9876543210fedcba9876543210fedcba98";
constexpr absl::string_view kBuilder = "https://shapin.dev/build-svc@v1";
constexpr absl::string_view kGithubIssuer =
    "https://token.actions.githubusercontent.com";
constexpr absl::string_view kPay2slayIdentityRegex =
    R"(https://github\.com/mconstant/pay2slay/\.github/workflows/[^@]+@refs/heads/main)";
constexpr absl::string_view kPay2slayWorkflow =
    "https://github.com/mconstant/pay2slay/.github/workflows/"
    "release.yml@refs/heads/main";
constexpr int64_t kLoggedAt = 1700000100;  // within the test leaf's lifetime

std::string Flip(std::string s, size_t i) {
  s[i % s.size()] ^= 0x01;
  return s;
}

// Members are public: the case tables' lambdas take a VerifierTest&.
class VerifierTest : public ::testing::Test {
 public:
  VerifierTest()
      : key_(*PrivateKey::GenerateP256()),
        other_key_(*PrivateKey::GenerateP256()),
        signer_(key_) {}

  TrustConfig KeyConfig() const {
    TrustConfig c;
    c.public_keys_pem.push_back(key_.public_key().ToPem());
    c.allowed_builder_ids.push_back(std::string(kBuilder));
    return c;
  }

  TrustConfig KeylessConfig() const {
    TrustConfig c;
    c.fulcio_roots_pem.push_back(fulcio_.root_pem());
    c.rekor_public_keys_pem.push_back(rekor_.public_key_pem());
    c.identities.push_back(
        {.issuer = std::string(kGithubIssuer),
         .subject = "",
         .subject_regex = std::string(kPay2slayIdentityRegex)});
    c.allowed_builder_ids.push_back(std::string(kBuilder));
    return c;
  }

  VerificationResult Run(const TrustConfig& config,
                         const VerifyRequest& request) const {
    absl::StatusOr<TrustMaterial> trust = TrustMaterial::Create(config);
    EXPECT_TRUE(trust.ok()) << trust.status();
    if (!trust.ok()) return {};
    Verifier verifier(*std::move(trust));
    absl::StatusOr<VerificationResult> r = verifier.Verify(request);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : VerificationResult{};
  }

  VerifyRequest Request(std::vector<SignatureLayer> sigs,
                        std::vector<AttestationLayer> atts = {}) const {
    VerifyRequest r;
    r.image_digest = kImage;
    r.expected_commit = *GitSha::Parse(kCommit);
    r.signatures = std::move(sigs);
    r.attestations = std::move(atts);
    return r;
  }

  SignatureLayer Signed(const Digest& digest = kImage) const {
    return *signer_.SignImage(kRepo, digest);
  }

  // A layer whose payload is `payload`, signed by `key`.
  static SignatureLayer SignedPayload(const PrivateKey& key,
                                      std::string payload) {
    SignatureLayer l;
    l.media_type = std::string(kSimpleSigningMediaType);
    l.annotations[std::string(kSignatureAnnotation)] =
        Base64Encode(*key.Sign(payload));
    l.payload = std::move(payload);
    return l;
  }

  BuildProvenance Build(const Digest& subject = kImage,
                        absl::string_view commit = kCommit,
                        absl::string_view builder = kBuilder) const {
    return BuildProvenance{
        .subject_name = std::string(kRepo),
        .image_digest = subject,
        .builder_id = std::string(builder),
        .build_type = "https://shapin.dev/buildtypes/buildah/v1",
        .source_url = "https://github.com/mconstant/pay2slay",
        .branch = "main",
        .commit = *GitSha::Parse(commit),
        .dockerfile = "Dockerfile",
        .base_images = {},
        .invocation_id = "build-1",
        .started_on = absl::FromUnixSeconds(1700000000),
        .finished_on = absl::FromUnixSeconds(1700000060),
    };
  }

  // A keyless layer: signed by a fresh key certified by the test Fulcio for
  // `leaf`, logged by the test Rekor (unless `log` is false).
  SignatureLayer KeylessSigned(const LeafOptions& leaf,
                               const Digest& digest = kImage, bool log = true,
                               int64_t logged_at = kLoggedAt) const {
    PrivateKey ephemeral = *PrivateKey::GenerateP256();
    Certificate cert = fulcio_.Issue(ephemeral.public_key(), leaf);
    SignatureLayer l = *Signer(ephemeral).SignImage(kRepo, digest);
    l.annotations[std::string(kCertificateAnnotation)] = CertificatePem(cert);
    l.annotations[std::string(kChainAnnotation)] = fulcio_.root_pem();
    if (log) {
      const std::string sig =
          *Base64Decode(l.annotations[std::string(kSignatureAnnotation)]);
      TlogEntry e = rekor_.Log(
          HashedRekordBody(sig, Sha256Hex(l.payload), CertificatePem(cert)),
          logged_at, 42);
      l.annotations[std::string(kBundleAnnotation)] = CosignBundleAnnotation(e);
    }
    return l;
  }

  static LeafOptions Pay2slayLeaf() {
    LeafOptions o;
    o.uri = std::string(kPay2slayWorkflow);
    return o;
  }

  PrivateKey key_;
  PrivateKey other_key_;
  Signer signer_;
  TestFulcio fulcio_;
  TestRekor rekor_;
};

struct SigCase {
  std::string name;
  std::function<VerifyRequest(VerifierTest&)> request;
  Reason expected;
  std::function<TrustConfig(VerifierTest&)> config = nullptr;
};

class KeyBasedSignatureTest : public VerifierTest {
 public:
  void RunTable(const std::vector<SigCase>& cases) {
    for (const SigCase& c : cases) {
      SCOPED_TRACE(c.name);
      TrustConfig config = c.config ? c.config(*this) : KeyConfig();
      VerificationResult r = Run(config, c.request(*this));
      EXPECT_EQ(ReasonName(r.reason), ReasonName(c.expected)) << r.details;
      EXPECT_EQ(r.status() == VerificationStatus::kVerified,
                c.expected == Reason::kVerified);
    }
  }
};

TEST_F(KeyBasedSignatureTest, TamperMatrix) {
  RunTable({
      {"signed", [](VerifierTest& t) { return t.Request({t.Signed()}); },
       Reason::kVerified},
      {"payload tampered",
       [](VerifierTest& t) {
         SignatureLayer l = t.Signed();
         l.payload = absl::StrReplaceAll(l.payload, {{"pay2slay", "pay2play"}});
         return t.Request({l});
       },
       Reason::kKeyMismatch},
      {"signature tampered",
       [](VerifierTest& t) {
         SignatureLayer l = t.Signed();
         std::string& a = l.annotations[std::string(kSignatureAnnotation)];
         a = Base64Encode(Flip(*Base64Decode(a), 20));
         return t.Request({l});
       },
       Reason::kKeyMismatch},
      {"signature not base64",
       [](VerifierTest& t) {
         SignatureLayer l = t.Signed();
         l.annotations[std::string(kSignatureAnnotation)] = "!!not base64!!";
         return t.Request({l});
       },
       Reason::kInvalidSignature},
      {"signature annotation missing",
       [](VerifierTest& t) {
         SignatureLayer l = t.Signed();
         l.annotations.clear();
         return t.Request({l});
       },
       Reason::kInvalidSignature},
      {"signs another digest",
       [](VerifierTest& t) { return t.Request({t.Signed(kOtherImage)}); },
       Reason::kDigestMismatch},
      {"image digest unknown",
       [](VerifierTest& t) {
         VerifyRequest r = t.Request({t.Signed()});
         r.image_digest.reset();
         return r;
       },
       Reason::kDigestMismatch},
      {"wrong key",
       [](VerifierTest& t) {
         return t.Request({*Signer(t.other_key_).SignImage(kRepo, kImage)});
       },
       Reason::kKeyMismatch},
      {"missing", [](VerifierTest& t) { return t.Request({}); },
       Reason::kNoSignature},
      {"other media type only",
       [](VerifierTest& t) {
         SignatureLayer l = t.Signed();
         l.media_type = "text/plain";
         return t.Request({l});
       },
       Reason::kNoSignature},
      {"not configured",
       [](VerifierTest& t) { return t.Request({t.Signed()}); },
       Reason::kNotConfigured, [](VerifierTest&) { return TrustConfig{}; }},
      {"signed payload with another critical.type",
       [](VerifierTest& t) {
         return t.Request({SignedPayload(
             t.key_,
             absl::StrReplaceAll(
                 BuildSimpleSigningPayload(kRepo, kImage),
                 {{"cosign container image signature", "something else"}}))});
       },
       Reason::kInvalidPayload},
      {"signed payload with a duplicate key",
       [](VerifierTest& t) {
         return t.Request({SignedPayload(
             t.key_,
             absl::StrCat(
                 R"({"critical":{"identity":{"docker-reference":"x"},)",
                 R"("image":{"docker-manifest-digest":")", kOtherImage.str(),
                 R"(","docker-manifest-digest":")", kImage.str(),
                 R"("},"type":"cosign container image signature"},)",
                 R"("optional":null})"))});
       },
       Reason::kInvalidPayload},
      {"signed payload that is not JSON",
       [](VerifierTest& t) {
         return t.Request({SignedPayload(t.key_, "hello")});
       },
       Reason::kInvalidPayload},
      {"digest with upper-case hex",
       [](VerifierTest& t) {
         std::string upper(kImage.hex());
         for (char& c : upper) c = static_cast<char>(toupper(c));
         return t.Request({SignedPayload(
             t.key_,
             absl::StrReplaceAll(BuildSimpleSigningPayload(kRepo, kImage),
                                 {{kImage.hex(), upper}}))});
       },
       Reason::kDigestMismatch},
      {"raw r||s signature",
       [](VerifierTest& t) {
         SignatureLayer l = t.Signed();
         std::string& a = l.annotations[std::string(kSignatureAnnotation)];
         const std::string der = *Base64Decode(a);
         // DER: 30 len 02 rlen r 02 slen s; re-pack as 32+32.
         size_t i = 2;
         auto take = [&der, &i] {
           size_t len = static_cast<unsigned char>(der[i + 1]);
           std::string v = der.substr(i + 2, len);
           i += 2 + len;
           while (v.size() > 32) v.erase(0, 1);
           return std::string(32 - v.size(), '\0') + v;
         };
         std::string r = take();
         std::string s = take();
         a = Base64Encode(r + s);
         return t.Request({l});
       },
       Reason::kVerified},
      {"one good among bad",
       [](VerifierTest& t) {
         SignatureLayer bad = t.Signed(kOtherImage);
         SignatureLayer wrong = *Signer(t.other_key_).SignImage(kRepo, kImage);
         return t.Request({bad, wrong, t.Signed()});
       },
       Reason::kVerified},
      {"furthest failure wins: digest_mismatch over key_mismatch",
       [](VerifierTest& t) {
         SignatureLayer wrong = *Signer(t.other_key_).SignImage(kRepo, kImage);
         return t.Request({wrong, t.Signed(kOtherImage)});
       },
       Reason::kDigestMismatch},
  });
}

TEST_F(KeyBasedSignatureTest, WithRekor) {
  auto with_rekor = [](VerifierTest& t) {
    TrustConfig c = t.KeyConfig();
    c.rekor_public_keys_pem.push_back(t.rekor_.public_key_pem());
    return c;
  };
  auto logged = [](VerifierTest& t, absl::string_view artifact_payload,
                   const PublicKey& recorded_key) {
    SignatureLayer l = t.Signed();
    const std::string sig =
        *Base64Decode(l.annotations[std::string(kSignatureAnnotation)]);
    TlogEntry e =
        t.rekor_.Log(HashedRekordBody(sig, Sha256Hex(artifact_payload),
                                      recorded_key.ToPem()),
                     kLoggedAt, 7);
    l.annotations[std::string(kBundleAnnotation)] = CosignBundleAnnotation(e);
    return l;
  };
  RunTable({
      {"logged",
       [logged](VerifierTest& t) {
         SignatureLayer l = t.Signed();
         return t.Request({logged(t, l.payload, t.key_.public_key())});
       },
       Reason::kVerified, with_rekor},
      {"not logged", [](VerifierTest& t) { return t.Request({t.Signed()}); },
       Reason::kInvalidBundle, with_rekor},
      {"bundle malformed",
       [](VerifierTest& t) {
         SignatureLayer l = t.Signed();
         l.annotations[std::string(kBundleAnnotation)] = "{\"Payload\":";
         return t.Request({l});
       },
       Reason::kInvalidBundle, with_rekor},
      {"entry about another payload",
       [logged](VerifierTest& t) {
         return t.Request({logged(t, "other payload", t.key_.public_key())});
       },
       Reason::kInvalidBundle, with_rekor},
      {"entry records another key",
       [logged](VerifierTest& t) {
         SignatureLayer l = t.Signed();
         return t.Request({logged(t, l.payload, t.other_key_.public_key())});
       },
       Reason::kInvalidBundle, with_rekor},
      {"bundle ignored without Rekor keys",
       [](VerifierTest& t) {
         SignatureLayer l = t.Signed();
         l.annotations[std::string(kBundleAnnotation)] = "garbage";
         return t.Request({l});
       },
       Reason::kVerified},
  });
  // The log index of the verified entry is reported.
  SignatureLayer l = Signed();
  VerificationResult r =
      Run(with_rekor(*this),
          Request({logged(*this, l.payload, key_.public_key())}));
  EXPECT_EQ(r.rekor_log_index, 7);
  EXPECT_THAT(r.signer, HasSubstr("key sha256:"));
}

TEST_F(KeyBasedSignatureTest, KeylessGithubActionsIdentity) {
  auto keyless = [](VerifierTest& t) { return t.KeylessConfig(); };
  RunTable({
      {"pay2slay main workflow",
       [](VerifierTest& t) {
         return t.Request({t.KeylessSigned(Pay2slayLeaf())});
       },
       Reason::kVerified, keyless},
      {"legacy issuer extension",
       [](VerifierTest& t) {
         LeafOptions o = Pay2slayLeaf();
         o.legacy_issuer_extension = true;
         return t.Request({t.KeylessSigned(o)});
       },
       Reason::kVerified, keyless},
      {"feature branch",
       [](VerifierTest& t) {
         LeafOptions o = Pay2slayLeaf();
         o.uri = absl::StrReplaceAll(o.uri,
                                     {{"refs/heads/main", "refs/heads/evil"}});
         return t.Request({t.KeylessSigned(o)});
       },
       Reason::kUntrustedIdentity, keyless},
      {"another repository",
       [](VerifierTest& t) {
         LeafOptions o = Pay2slayLeaf();
         o.uri = absl::StrReplaceAll(o.uri,
                                     {{"mconstant/pay2slay", "evil/pay2slay"}});
         return t.Request({t.KeylessSigned(o)});
       },
       Reason::kUntrustedIdentity, keyless},
      {"identity only as a suffix (regex is anchored)",
       [](VerifierTest& t) {
         LeafOptions o = Pay2slayLeaf();
         o.uri = absl::StrCat("https://evil.example/?", o.uri);
         return t.Request({t.KeylessSigned(o)});
       },
       Reason::kUntrustedIdentity, keyless},
      {"another issuer",
       [](VerifierTest& t) {
         LeafOptions o = Pay2slayLeaf();
         o.issuer = "https://accounts.google.com";
         return t.Request({t.KeylessSigned(o)});
       },
       Reason::kUntrustedIdentity, keyless},
      {"no code-signing EKU",
       [](VerifierTest& t) {
         LeafOptions o = Pay2slayLeaf();
         o.code_signing = false;
         return t.Request({t.KeylessSigned(o)});
       },
       Reason::kUntrustedIdentity, keyless},
      {"logged after the certificate expired",
       [](VerifierTest& t) {
         return t.Request(
             {t.KeylessSigned(Pay2slayLeaf(), kImage, true, kLoggedAt + 3600)});
       },
       Reason::kUntrustedIdentity, keyless},
      {"not logged",
       [](VerifierTest& t) {
         return t.Request({t.KeylessSigned(Pay2slayLeaf(), kImage, false)});
       },
       Reason::kInvalidBundle, keyless},
      {"another image",
       [](VerifierTest& t) {
         return t.Request({t.KeylessSigned(Pay2slayLeaf(), kOtherImage)});
       },
       Reason::kDigestMismatch, keyless},
      {"signature by a key other than the certificate's",
       [](VerifierTest& t) {
         SignatureLayer l = t.KeylessSigned(Pay2slayLeaf());
         l.annotations[std::string(kSignatureAnnotation)] =
             Base64Encode(*t.other_key_.Sign(l.payload));
         return t.Request({l});
       },
       Reason::kInvalidSignature, keyless},
      {"certificate annotation malformed",
       [](VerifierTest& t) {
         SignatureLayer l = t.KeylessSigned(Pay2slayLeaf());
         l.annotations[std::string(kCertificateAnnotation)] = "-----BEGIN x";
         return t.Request({l});
       },
       Reason::kUntrustedIdentity, keyless},
      {"keyless signature, only keys configured",
       [](VerifierTest& t) {
         return t.Request({t.KeylessSigned(Pay2slayLeaf())});
       },
       Reason::kKeyMismatch},
      {"keyless without Rekor keys",
       [](VerifierTest& t) {
         return t.Request({t.KeylessSigned(Pay2slayLeaf())});
       },
       Reason::kNotConfigured,
       [](VerifierTest& t) {
         TrustConfig c = t.KeylessConfig();
         c.rekor_public_keys_pem.clear();
         return c;
       }},
      {"exact subject",
       [](VerifierTest& t) {
         return t.Request({t.KeylessSigned(Pay2slayLeaf())});
       },
       Reason::kVerified,
       [](VerifierTest& t) {
         TrustConfig c = t.KeylessConfig();
         c.identities[0].subject_regex.clear();
         c.identities[0].subject = std::string(kPay2slayWorkflow);
         return c;
       }},
  });
  VerificationResult r =
      Run(KeylessConfig(), Request({KeylessSigned(Pay2slayLeaf())}));
  EXPECT_EQ(r.signer,
            absl::StrCat(kPay2slayWorkflow, " (issuer ", kGithubIssuer, ")"));
}

struct AttCase {
  std::string name;
  std::function<VerifyRequest(VerifierTest&)> request;
  ProvenanceStatus expected;
  std::function<TrustConfig(VerifierTest&)> config = nullptr;
};

class ProvenanceVerifierTest : public VerifierTest {
 public:
  void RunTable(const std::vector<AttCase>& cases) {
    for (const AttCase& c : cases) {
      SCOPED_TRACE(c.name);
      TrustConfig config = c.config ? c.config(*this) : KeyConfig();
      VerificationResult r = Run(config, c.request(*this));
      EXPECT_EQ(ProvenanceStatusName(r.provenance_status),
                ProvenanceStatusName(c.expected))
          << r.provenance_details;
    }
  }

  AttestationLayer Attested(const BuildProvenance& b) const {
    return *signer_.AttestProvenance(b);
  }

  // An attestation layer whose envelope carries `statement`, signed by
  // `key`.
  static AttestationLayer AttestedStatement(
      const PrivateKey& key, std::string statement,
      absl::string_view payload_type = kInTotoPayloadType) {
    DsseEnvelope env;
    env.payload_type = std::string(payload_type);
    env.payload = std::move(statement);
    env.signatures.push_back(
        {"", *key.Sign(PreAuthEncoding(env.payload_type, env.payload))});
    AttestationLayer l;
    l.media_type = std::string(kDsseMediaType);
    l.envelope = SerializeDsseEnvelope(env);
    return l;
  }
};

TEST_F(ProvenanceVerifierTest, TamperMatrix) {
  RunTable({
      {"attested",
       [](VerifierTest& t) {
         auto& p = static_cast<ProvenanceVerifierTest&>(t);
         return t.Request({t.Signed()}, {p.Attested(t.Build())});
       },
       ProvenanceStatus::kVerified},
      {"subject is another image",
       [](VerifierTest& t) {
         auto& p = static_cast<ProvenanceVerifierTest&>(t);
         return t.Request({t.Signed()}, {p.Attested(t.Build(kOtherImage))});
       },
       ProvenanceStatus::kSubjectMismatch},
      {"built from another commit",
       [](VerifierTest& t) {
         auto& p = static_cast<ProvenanceVerifierTest&>(t);
         return t.Request({t.Signed()},
                          {p.Attested(t.Build(kImage, kOtherCommit))});
       },
       ProvenanceStatus::kCommitMismatch},
      {"builder not allowed",
       [](VerifierTest& t) {
         auto& p = static_cast<ProvenanceVerifierTest&>(t);
         return t.Request(
             {t.Signed()},
             {p.Attested(t.Build(kImage, kCommit, "https://evil"))});
       },
       ProvenanceStatus::kBuilderNotAllowed},
      {"payload tampered",
       [](VerifierTest& t) {
         auto& p = static_cast<ProvenanceVerifierTest&>(t);
         AttestationLayer l = p.Attested(t.Build());
         DsseEnvelope env = *ParseDsseEnvelope(l.envelope);
         env.payload =
             absl::StrReplaceAll(env.payload, {{kCommit, kOtherCommit}});
         l.envelope = SerializeDsseEnvelope(env);
         return t.Request({t.Signed()}, {l});
       },
       ProvenanceStatus::kUntrusted},
      {"signed by another key",
       [](VerifierTest& t) {
         return t.Request({t.Signed()},
                          {*Signer(t.other_key_).AttestProvenance(t.Build())});
       },
       ProvenanceStatus::kUntrusted},
      {"missing", [](VerifierTest& t) { return t.Request({t.Signed()}); },
       ProvenanceStatus::kMissing},
      {"only an SBOM",
       [](VerifierTest& t) {
         return t.Request(
             {t.Signed()},
             {*t.signer_.Attest(kRepo, kImage, "https://spdx.dev/Document",
                                {{"spdxVersion", "SPDX-2.3"}})});
       },
       ProvenanceStatus::kMissing},
      {"no builder allow-list",
       [](VerifierTest& t) {
         auto& p = static_cast<ProvenanceVerifierTest&>(t);
         return t.Request({t.Signed()}, {p.Attested(t.Build())});
       },
       ProvenanceStatus::kNotConfigured,
       [](VerifierTest& t) {
         TrustConfig c = t.KeyConfig();
         c.allowed_builder_ids.clear();
         return c;
       }},
      {"wrong payloadType",
       [](VerifierTest& t) {
         return t.Request(
             {t.Signed()},
             {AttestedStatement(t.key_, BuildSlsaV1Statement(t.Build()),
                                "text/plain")});
       },
       ProvenanceStatus::kInvalid},
      {"malformed envelope",
       [](VerifierTest& t) {
         AttestationLayer l;
         l.media_type = std::string(kDsseMediaType);
         l.envelope = "{\"payloadType\":1}";
         return t.Request({t.Signed()}, {l});
       },
       ProvenanceStatus::kInvalid},
      {"no commit expected: any commit passes",
       [](VerifierTest& t) {
         auto& p = static_cast<ProvenanceVerifierTest&>(t);
         VerifyRequest r = t.Request(
             {t.Signed()}, {p.Attested(t.Build(kImage, kOtherCommit))});
         r.expected_commit.reset();
         return r;
       },
       ProvenanceStatus::kVerified},
      {"SLSA v0.2 with materials",
       [](VerifierTest& t) {
         nlohmann::json predicate = {
             {"builder", {{"id", std::string(kBuilder)}}},
             {"materials",
              nlohmann::json::array(
                  {{{"uri", "git+https://github.com/mconstant/pay2slay"},
                    {"digest", {{"sha1", std::string(kCommit)}}}}})}};
         std::string statement =
             BuildStatement(kRepo, kImage, kSlsaProvenanceV02, predicate);
         statement =
             absl::StrReplaceAll(statement, {{kStatementV1, kStatementV01}});
         return t.Request({t.Signed()}, {AttestedStatement(t.key_, statement)});
       },
       ProvenanceStatus::kVerified},
      {"best of several: one good",
       [](VerifierTest& t) {
         auto& p = static_cast<ProvenanceVerifierTest&>(t);
         return t.Request({t.Signed()},
                          {p.Attested(t.Build(kImage, kOtherCommit)),
                           p.Attested(t.Build())});
       },
       ProvenanceStatus::kVerified},
  });
  VerificationResult r =
      Run(KeyConfig(), Request({Signed()}, {Attested(Build())}));
  EXPECT_EQ(r.builder_id, kBuilder);
  EXPECT_EQ(r.source_commit, kCommit);
}

TEST_F(ProvenanceVerifierTest, KeylessAttestationWithDsseLogEntry) {
  PrivateKey ephemeral = *PrivateKey::GenerateP256();
  Certificate cert = fulcio_.Issue(ephemeral.public_key(), Pay2slayLeaf());
  AttestationLayer l = *Signer(ephemeral).AttestProvenance(Build());
  DsseEnvelope env = *ParseDsseEnvelope(l.envelope);
  TlogEntry e =
      rekor_.Log(DsseEntryBody(env.signatures[0].sig, Sha256Hex(env.payload),
                               CertificatePem(cert)),
                 kLoggedAt, 9);
  l.annotations[std::string(kCertificateAnnotation)] = CertificatePem(cert);
  l.annotations[std::string(kBundleAnnotation)] = CosignBundleAnnotation(e);
  VerificationResult r =
      Run(KeylessConfig(), Request({KeylessSigned(Pay2slayLeaf())}, {l}));
  EXPECT_EQ(r.reason, Reason::kVerified) << r.details;
  EXPECT_EQ(r.provenance_status, ProvenanceStatus::kVerified)
      << r.provenance_details;

  l.annotations.erase(std::string(kBundleAnnotation));
  r = Run(KeylessConfig(), Request({KeylessSigned(Pay2slayLeaf())}, {l}));
  EXPECT_EQ(r.provenance_status, ProvenanceStatus::kUntrusted)
      << r.provenance_details;
  EXPECT_THAT(r.provenance_details, HasSubstr("invalid_bundle"));
}

// --- Sigstore bundles (cosign v3) ------------------------------------------

class SigstoreBundleVerifyTest : public VerifierTest {
 public:
  static nlohmann::json DsseContent(const DsseEnvelope& env) {
    nlohmann::json sigs = nlohmann::json::array();
    for (const DsseSignature& s : env.signatures) {
      sigs.push_back({{"sig", Base64Encode(s.sig)}, {"keyid", s.keyid}});
    }
    return {{"payload", Base64Encode(env.payload)},
            {"payloadType", env.payload_type},
            {"signatures", sigs}};
  }

  static nlohmann::json TlogJson(const TlogEntry& e, absl::string_view kind) {
    return {
        {"logIndex", absl::StrCat(e.log_index)},
        {"logId",
         {{"keyId", Base64Encode(absl::HexStringToBytes(e.log_id_hex))}}},
        {"kindVersion", {{"kind", std::string(kind)}, {"version", "0.0.1"}}},
        {"integratedTime", absl::StrCat(e.integrated_time)},
        {"inclusionPromise",
         {{"signedEntryTimestamp", Base64Encode(e.signed_entry_timestamp)}}},
        {"canonicalizedBody", e.body_base64}};
  }

  static std::string Bundle(const nlohmann::json& material,
                            absl::string_view content_key,
                            const nlohmann::json& content) {
    nlohmann::json doc = {
        {"mediaType", std::string(kSigstoreBundleV03MediaType)},
        {"verificationMaterial", material},
        {std::string(content_key), content}};
    return doc.dump();
  }

  static DsseEnvelope SignedEnvelope(const PrivateKey& key,
                                     std::string statement) {
    DsseEnvelope env;
    env.payload_type = std::string(kInTotoPayloadType);
    env.payload = std::move(statement);
    env.signatures.push_back(
        {"", *key.Sign(PreAuthEncoding(env.payload_type, env.payload))});
    return env;
  }

  std::string KeyDsseBundle(const PrivateKey& key,
                            const Digest& subject) const {
    DsseEnvelope env =
        SignedEnvelope(key, BuildStatement(kRepo, subject, kCosignSignPredicate,
                                           nlohmann::json::object()));
    return Bundle({{"publicKey", {{"hint", "shapin"}}}}, "dsseEnvelope",
                  DsseContent(env));
  }

  std::string MessageBundle(const PrivateKey& key,
                            absl::string_view manifest) const {
    return Bundle({{"publicKey", {{"hint", "shapin"}}}}, "messageSignature",
                  {{"messageDigest",
                    {{"algorithm", "SHA2_256"},
                     {"digest", Base64Encode(Sha256Raw(manifest))}}},
                   {"signature", Base64Encode(*key.Sign(manifest))}});
  }

  VerifyRequest BundleRequest(std::vector<std::string> bundles) const {
    VerifyRequest r = Request({});
    r.bundles = std::move(bundles);
    return r;
  }
};

TEST_F(SigstoreBundleVerifyTest, KeyBasedDsseAndMessageSignatures) {
  struct Case {
    std::string name;
    std::string bundle;
    Reason expected;
  };
  std::string tampered = KeyDsseBundle(key_, kImage);
  tampered[tampered.find("\"payload\":\"") + 20] ^= 0x01;
  for (const Case& c : std::vector<Case>{
           {"dsse cosign/sign/v1", KeyDsseBundle(key_, kImage),
            Reason::kVerified},
           {"dsse about another image", KeyDsseBundle(key_, kOtherImage),
            Reason::kDigestMismatch},
           {"dsse by another key", KeyDsseBundle(other_key_, kImage),
            Reason::kKeyMismatch},
           {"message signature of the manifest",
            MessageBundle(key_, "the image manifest"), Reason::kVerified},
           {"message signature of another manifest",
            MessageBundle(key_, "another image manifest"),
            Reason::kDigestMismatch},
           {"malformed", "{\"mediaType\":", Reason::kInvalidBundle},
           {"unknown media type",
            R"({"mediaType":"application/x","verificationMaterial":{}})",
            Reason::kInvalidBundle},
       }) {
    SCOPED_TRACE(c.name);
    VerificationResult r = Run(KeyConfig(), BundleRequest({c.bundle}));
    EXPECT_EQ(ReasonName(r.reason), ReasonName(c.expected)) << r.details;
  }
}

TEST_F(SigstoreBundleVerifyTest, KeylessDsseWithTlogEntry) {
  PrivateKey ephemeral = *PrivateKey::GenerateP256();
  Certificate cert = fulcio_.Issue(ephemeral.public_key(), Pay2slayLeaf());
  auto make = [&](const std::string& statement, bool log) {
    DsseEnvelope env = SignedEnvelope(ephemeral, statement);
    nlohmann::json material = {
        {"certificate", {{"rawBytes", Base64Encode(cert.der())}}},
        {"tlogEntries", nlohmann::json::array()}};
    if (log) {
      TlogEntry e = rekor_.Log(
          DsseEntryBody(env.signatures[0].sig, Sha256Hex(env.payload),
                        CertificatePem(cert)),
          kLoggedAt, 11);
      material["tlogEntries"].push_back(TlogJson(e, "dsse"));
    }
    return Bundle(material, "dsseEnvelope", DsseContent(env));
  };
  const std::string sign_statement = BuildStatement(
      kRepo, kImage, kCosignSignPredicate, nlohmann::json::object());
  VerificationResult r =
      Run(KeylessConfig(), BundleRequest({make(sign_statement, true)}));
  EXPECT_EQ(r.reason, Reason::kVerified) << r.details;
  EXPECT_EQ(r.rekor_log_index, 11);
  EXPECT_THAT(r.signer, HasSubstr("pay2slay"));

  r = Run(KeylessConfig(), BundleRequest({make(sign_statement, false)}));
  EXPECT_EQ(r.reason, Reason::kInvalidBundle) << r.details;

  // A provenance bundle next to the signature bundle.
  r = Run(KeylessConfig(),
          BundleRequest({make(sign_statement, true),
                         make(BuildSlsaV1Statement(Build()), true)}));
  EXPECT_EQ(r.reason, Reason::kVerified) << r.details;
  EXPECT_EQ(r.provenance_status, ProvenanceStatus::kVerified)
      << r.provenance_details;
}

TEST_F(SigstoreBundleVerifyTest, MessageSignatureWithHashedRekordEntry) {
  TrustConfig config = KeyConfig();
  config.rekor_public_keys_pem.push_back(rekor_.public_key_pem());
  const std::string manifest = "the image manifest";
  const std::string sig = *key_.Sign(manifest);
  TlogEntry e = rekor_.Log(
      HashedRekordBody(sig, Sha256Hex(manifest), key_.public_key().ToPem()),
      kLoggedAt, 5);
  std::string bundle = Bundle(
      {{"publicKey", {{"hint", "k"}}},
       {"tlogEntries", nlohmann::json::array({TlogJson(e, "hashedrekord")})}},
      "messageSignature",
      {{"messageDigest",
        {{"algorithm", "SHA2_256"},
         {"digest", Base64Encode(Sha256Raw(manifest))}}},
       {"signature", Base64Encode(sig)}});
  VerificationResult r = Run(config, BundleRequest({bundle}));
  EXPECT_EQ(r.reason, Reason::kVerified) << r.details;
  EXPECT_EQ(r.rekor_log_index, 5);
  r = Run(config, BundleRequest({MessageBundle(key_, manifest)}));
  EXPECT_EQ(r.reason, Reason::kInvalidBundle) << r.details;
}

}  // namespace
}  // namespace shapin::signature
