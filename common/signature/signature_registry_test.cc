// Round trips through a real registry (Debian's docker-registry): build-svc
// signs and attests, deploy-svc fetches and verifies; every tampered part
// gives its reason; an unreachable registry is VERIFY_TOOL_ERROR.
#include "common/signature/signature_registry.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/error_code.h"
#include "common/git_sha.h"
#include "common/image_ref.h"
#include "common/registry/registry_client.h"
#include "common/registry/testing/fake_clock.h"
#include "common/registry/testing/oci_layout_builder.h"
#include "common/registry/testing/registry_server.h"
#include "common/signature/crypto.h"
#include "common/signature/dsse.h"
#include "common/signature/in_toto.h"
#include "common/signature/policy.h"
#include "common/signature/signer.h"
#include "common/signature/sigstore_bundle.h"
#include "common/signature/simple_signing.h"
#include "common/signature/test_fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::signature {
namespace {

using ::shapin::registry::RegistryClient;
using ::shapin::registry::RegistryClientOptions;
using ::shapin::registry::testing::FakeClock;
using ::shapin::registry::testing::OciLayoutBuilder;
using ::shapin::registry::testing::RegistryServer;
using ::shapin::registry::testing::TempDir;
using ::shapin::signature::testing::LoadFixtureSignatures;
using ::shapin::signature::testing::ReadInteropFile;
using ::shapin::signature::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::string_view kCommit =
    "0123456789abcdef0123456789abcdef01234567";
constexpr absl::string_view kOtherCommit =
    "fedcba9876543210fedcba9876543210fedcba98";
constexpr absl::string_view kBuilder = "https://shapin.dev/build-svc@v1";

// Members are public: the case table's lambdas take the fixture.
class SignatureRegistryTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    auto r = RegistryServer::Start();
    ASSERT_TRUE(r.ok()) << r.status();
    registry_ = r->release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }

  SignatureRegistryTest()
      : key_(*PrivateKey::GenerateP256()),
        other_key_(*PrivateKey::GenerateP256()),
        signer_(key_) {}

  void SetUp() override {
    ASSERT_NE(registry_, nullptr);
    if (!registry_->running()) {
      ASSERT_TRUE(registry_->Restart().ok());
    }
    client_ = MakeClient(false);
    store_ = std::make_unique<RegistrySignatureStore>(client_.get());
  }

  std::unique_ptr<RegistryClient> MakeClient(bool read_only) {
    RegistryClientOptions options;
    options.clock = &clock_;
    options.read_only = read_only;
    auto c = RegistryClient::Create(std::move(options));
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }

  ImageRef Repo(absl::string_view name) {
    return *ImageRef::Parse(absl::StrCat(registry_->host(), "/", name));
  }

  // Pushes a small image tagged v1; returns its digest.
  Digest PushImage(const ImageRef& repo, uint64_t seed) {
    auto dir = TempDir::Create("shapin-sig-img");
    EXPECT_TRUE(dir.ok());
    auto b = OciLayoutBuilder::Create(dir->path());
    auto layer = b->AddRandomBlob(1024, seed);
    auto image = b->AddImage({*layer});
    EXPECT_TRUE(b->WriteIndex({*image}).ok());
    auto pushed = client_->PushOciLayout(dir->path(), repo, {"v1"});
    EXPECT_TRUE(pushed.ok()) << pushed.status();
    return pushed->digest;
  }

  BuildProvenance Build(const Digest& subject,
                        absl::string_view commit = kCommit) const {
    return BuildProvenance{
        .subject_name = "app",
        .image_digest = subject,
        .builder_id = std::string(kBuilder),
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

  Verifier MakeVerifier() const {
    TrustConfig c;
    c.public_keys_pem.push_back(key_.public_key().ToPem());
    c.allowed_builder_ids.push_back(std::string(kBuilder));
    return Verifier(*TrustMaterial::Create(c));
  }

  VerificationResult VerifyIn(const ImageRef& repo, const Digest& digest) {
    absl::StatusOr<VerificationResult> r = VerifyImageInRegistry(
        *store_, MakeVerifier(), repo, digest, *GitSha::Parse(kCommit));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : VerificationResult{};
  }

  static RegistryServer* registry_;
  FakeClock clock_;
  std::unique_ptr<RegistryClient> client_;
  std::unique_ptr<RegistrySignatureStore> store_;
  PrivateKey key_;
  PrivateKey other_key_;
  Signer signer_;
};

RegistryServer* SignatureRegistryTest::registry_ = nullptr;

TEST_F(SignatureRegistryTest, SignAttestFetchVerify) {
  ImageRef repo = Repo("roundtrip/app");
  Digest digest = PushImage(repo, 1);
  ASSERT_TRUE(store_
                  ->PublishSignature(repo, digest,
                                     *signer_.SignImage(repo.name(), digest))
                  .ok());
  ASSERT_TRUE(store_
                  ->PublishAttestation(repo, digest,
                                       *signer_.AttestProvenance(Build(digest)))
                  .ok());
  VerificationResult r = VerifyIn(repo, digest);
  EXPECT_EQ(r.reason, Reason::kVerified) << r.details;
  EXPECT_EQ(r.provenance_status, ProvenanceStatus::kVerified)
      << r.provenance_details;
  EXPECT_EQ(r.source_commit, kCommit);
  // Signing never changes the image's tags.
  EXPECT_EQ(*client_->Resolve(*repo.with_tag("v1")), digest);
  std::vector<std::string> tags = *client_->ListTags(repo);
  EXPECT_THAT(tags, ::testing::UnorderedElementsAre(
                        "v1", absl::StrCat(digest.tag_fallback(), ".sig"),
                        absl::StrCat(digest.tag_fallback(), ".att")));
}

TEST_F(SignatureRegistryTest, TamperMatrix) {
  struct Case {
    std::string name;
    // Publishes what the case needs for `digest` in `repo`.
    std::function<void(SignatureRegistryTest&, const ImageRef&, const Digest&)>
        publish;
    Reason reason;
    ProvenanceStatus provenance;
  };
  auto sign = [](SignatureRegistryTest& t, const ImageRef& repo,
                 const Digest& d) {
    ASSERT_TRUE(
        t.store_
            ->PublishSignature(repo, d, *t.signer_.SignImage(repo.name(), d))
            .ok());
  };
  std::vector<Case> cases = {
      {"missing .sig",
       [](SignatureRegistryTest&, const ImageRef&, const Digest&) {},
       Reason::kNoSignature, ProvenanceStatus::kMissing},
      {"wrong key",
       [](SignatureRegistryTest& t, const ImageRef& repo, const Digest& d) {
         ASSERT_TRUE(
             t.store_
                 ->PublishSignature(
                     repo, d, *Signer(t.other_key_).SignImage(repo.name(), d))
                 .ok());
       },
       Reason::kKeyMismatch, ProvenanceStatus::kMissing},
      {"signature of another digest",
       [](SignatureRegistryTest& t, const ImageRef& repo, const Digest& d) {
         ASSERT_TRUE(
             t.store_
                 ->PublishSignature(repo, d,
                                    *t.signer_.SignImage(
                                        repo.name(), Digest::OfBytes("other")))
                 .ok());
       },
       Reason::kDigestMismatch, ProvenanceStatus::kMissing},
      {"payload tampered",
       [](SignatureRegistryTest& t, const ImageRef& repo, const Digest& d) {
         SignatureLayer l = *t.signer_.SignImage(repo.name(), d);
         l.payload = absl::StrReplaceAll(l.payload, {{"null", "{}"}});
         ASSERT_TRUE(t.store_->PublishSignature(repo, d, l).ok());
       },
       Reason::kKeyMismatch, ProvenanceStatus::kMissing},
      {"signature tampered",
       [](SignatureRegistryTest& t, const ImageRef& repo, const Digest& d) {
         SignatureLayer l = *t.signer_.SignImage(repo.name(), d);
         l.annotations[std::string(kSignatureAnnotation)] = "AAAA";
         ASSERT_TRUE(t.store_->PublishSignature(repo, d, l).ok());
       },
       Reason::kKeyMismatch, ProvenanceStatus::kMissing},
      {"provenance of another commit",
       [sign](SignatureRegistryTest& t, const ImageRef& repo, const Digest& d) {
         sign(t, repo, d);
         ASSERT_TRUE(t.store_
                         ->PublishAttestation(repo, d,
                                              *t.signer_.AttestProvenance(
                                                  t.Build(d, kOtherCommit)))
                         .ok());
       },
       Reason::kVerified, ProvenanceStatus::kCommitMismatch},
      {"provenance about another image",
       [sign](SignatureRegistryTest& t, const ImageRef& repo, const Digest& d) {
         sign(t, repo, d);
         ASSERT_TRUE(
             t.store_
                 ->PublishAttestation(repo, d,
                                      *t.signer_.AttestProvenance(
                                          t.Build(Digest::OfBytes("other"))))
                 .ok());
       },
       Reason::kVerified, ProvenanceStatus::kSubjectMismatch},
      {"provenance by another key",
       [sign](SignatureRegistryTest& t, const ImageRef& repo, const Digest& d) {
         sign(t, repo, d);
         ASSERT_TRUE(t.store_
                         ->PublishAttestation(
                             repo, d,
                             *Signer(t.other_key_).AttestProvenance(t.Build(d)))
                         .ok());
       },
       Reason::kVerified, ProvenanceStatus::kUntrusted},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ImageRef repo = Repo(absl::StrCat("tamper/app", n));
    Digest digest = PushImage(repo, 100 + n++);
    c.publish(*this, repo, digest);
    VerificationResult r = VerifyIn(repo, digest);
    EXPECT_EQ(ReasonName(r.reason), ReasonName(c.reason)) << r.details;
    EXPECT_EQ(ProvenanceStatusName(r.provenance_status),
              ProvenanceStatusName(c.provenance))
        << r.provenance_details;
  }
}

TEST_F(SignatureRegistryTest, PublishingAppendsAndIsIdempotent) {
  ImageRef repo = Repo("append/app");
  Digest digest = PushImage(repo, 2);
  SignatureLayer first = *signer_.SignImage(repo.name(), digest);
  absl::StatusOr<Digest> m1 = store_->PublishSignature(repo, digest, first);
  ASSERT_TRUE(m1.ok()) << m1.status();
  absl::StatusOr<Digest> again = store_->PublishSignature(repo, digest, first);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *m1);
  SignatureLayer second = *Signer(other_key_).SignImage(repo.name(), digest);
  absl::StatusOr<Digest> m2 = store_->PublishSignature(repo, digest, second);
  ASSERT_TRUE(m2.ok());
  EXPECT_NE(*m2, *m1);
  FetchedArtifacts fetched = *store_->Fetch(repo, digest);
  ASSERT_EQ(fetched.signatures.size(), 2u);
  EXPECT_EQ(fetched.signatures[0].payload, first.payload);
  EXPECT_EQ(fetched.signatures[1].annotations, second.annotations);
  EXPECT_EQ(VerifyIn(repo, digest).reason, Reason::kVerified);
}

TEST_F(SignatureRegistryTest, RealCosignSignaturesThroughTheRegistry) {
  // The interop vectors' layers, published where cosign would put them
  // (the image itself need not be in the registry).
  const Digest digest = *Digest::Parse(
      "sha256:"
      "634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00");
  TrustConfig c;
  c.public_keys_pem.push_back(*ReadInteropFile("cosign.pub"));
  Verifier verifier(*TrustMaterial::Create(c));
  struct Case {
    std::string fixture;
    Reason expected;
  };
  int n = 0;
  for (const Case& tc : std::vector<Case>{
           {"dir-img-cosign-valid", Reason::kVerified},
           {"dir-img-cosign-mixed", Reason::kVerified},
           {"dir-img-cosign-other-attachment", Reason::kNoSignature}}) {
    SCOPED_TRACE(tc.fixture);
    ImageRef repo = Repo(absl::StrCat("cosign/fixture", n++));
    absl::StatusOr<std::vector<SignatureLayer>> layers =
        LoadFixtureSignatures(tc.fixture);
    ASSERT_TRUE(layers.ok()) << layers.status();
    for (const SignatureLayer& l : *layers) {
      ASSERT_TRUE(store_->PublishSignature(repo, digest, l).ok());
    }
    absl::StatusOr<VerificationResult> r =
        VerifyImageInRegistry(*store_, verifier, repo, digest, std::nullopt);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(ReasonName(r->reason), ReasonName(tc.expected)) << r->details;
  }
}

TEST_F(SignatureRegistryTest, SigstoreBundleReferrers) {
  ImageRef repo = Repo("bundles/app");
  Digest digest = PushImage(repo, 3);
  // A cosign v3 style signature: a DSSE bundle pushed as a referrer.
  DsseEnvelope env;
  env.payload_type = std::string(kInTotoPayloadType);
  env.payload = BuildStatement(repo.name(), digest, kCosignSignPredicate,
                               nlohmann::json::object());
  env.signatures.push_back(
      {"", *key_.Sign(PreAuthEncoding(env.payload_type, env.payload))});
  nlohmann::json bundle = {
      {"mediaType", std::string(kSigstoreBundleV03MediaType)},
      {"verificationMaterial", {{"publicKey", {{"hint", "shapin"}}}}},
      {"dsseEnvelope",
       {{"payload", Base64Encode(env.payload)},
        {"payloadType", env.payload_type},
        {"signatures",
         nlohmann::json::array({{{"sig", Base64Encode(env.signatures[0].sig)},
                                 {"keyid", ""}}})}}}};
  auto dir = TempDir::Create("shapin-sig-bundle");
  ASSERT_TRUE(dir.ok());
  auto b = OciLayoutBuilder::Create(dir->path());
  ASSERT_TRUE(b.ok());
  auto layer = b->AddBlob(bundle.dump(), kSigstoreBundleV03MediaType);
  ASSERT_TRUE(layer.ok());
  registry::Manifest image = *client_->GetManifest(repo.with_digest(digest));
  OciLayoutBuilder::ImageSpec spec;
  spec.layers = {*layer};
  spec.config = "{}";
  spec.config_media_type = "application/vnd.oci.empty.v1+json";
  spec.subject = registry::Descriptor(image.media_type, digest,
                                      static_cast<int64_t>(image.bytes.size()));
  spec.artifact_type = std::string(kSigstoreBundleV03MediaType);
  auto artifact = b->AddImage(spec);
  ASSERT_TRUE(artifact.ok()) << artifact.status();
  ASSERT_TRUE(b->WriteIndex({*artifact}).ok());
  auto pushed = client_->PushOciLayout(dir->path(), repo, {});
  ASSERT_TRUE(pushed.ok()) << pushed.status();

  FetchedArtifacts fetched = *store_->Fetch(repo, digest);
  EXPECT_TRUE(fetched.signatures.empty());
  ASSERT_EQ(fetched.bundles.size(), 1u);
  VerificationResult r = VerifyIn(repo, digest);
  EXPECT_EQ(r.reason, Reason::kVerified) << r.details;
}

TEST_F(SignatureRegistryTest, ReadOnlyClientCannotPublish) {
  std::unique_ptr<RegistryClient> ro = MakeClient(true);
  RegistrySignatureStore store(ro.get());
  ImageRef repo = Repo("readonly/app");
  Digest digest = Digest::OfBytes("x");
  EXPECT_THAT(
      store.PublishSignature(repo, digest,
                             *signer_.SignImage(repo.name(), digest)),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("read-only")));
  // Reading works read-only: nothing there.
  absl::StatusOr<FetchedArtifacts> fetched = store.Fetch(repo, digest);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_TRUE(fetched->signatures.empty());
}

TEST_F(SignatureRegistryTest, UnreachableRegistryIsVerifyToolError) {
  ImageRef repo = Repo("down/app");
  Digest digest = PushImage(repo, 4);
  ASSERT_TRUE(store_
                  ->PublishSignature(repo, digest,
                                     *signer_.SignImage(repo.name(), digest))
                  .ok());
  ASSERT_TRUE(registry_->Stop().ok());
  absl::StatusOr<VerificationResult> r = VerifyImageInRegistry(
      *store_, MakeVerifier(), repo, digest, *GitSha::Parse(kCommit));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable,
                          HasSubstr("VERIFY_TOOL_ERROR")));
  EXPECT_EQ(ErrorCodeOf(r.status()), ErrorCode::kVerifyToolError);
  EXPECT_THAT(r.status().message(), HasSubstr(".sig"));
  EXPECT_THAT(
      CheckPolicy({PolicyMode::kEnforce, false}, r),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("VERIFY_TOOL_ERROR")));
  EXPECT_THAT(
      CheckPolicy({PolicyMode::kSoft, false}, r),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("VERIFY_TOOL_ERROR")));
  EXPECT_THAT(DescribeOutcome(r), HasSubstr("error VERIFY_TOOL_ERROR"));
  ASSERT_TRUE(registry_->Restart().ok());
  EXPECT_EQ(VerifyIn(repo, digest).reason, Reason::kVerified);
}

}  // namespace
}  // namespace shapin::signature
