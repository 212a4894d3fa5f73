// The supply chain end to end through a real docker-registry: build-svc's
// RegistryImageSigner signs and attests, deploy-svc's CosignVerifier (over a
// read-only client) verifies. Tampered artifacts are made from the signer's
// real output: it signs the image in a scratch repository, the test alters
// what it published there and copies it next to the same image in the
// repository under test.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "build-svc/adapters/registry_image_signer.h"
#include "build-svc/sbom_format.h"
#include "common/error_code.h"
#include "common/registry/testing/oci_layout_builder.h"
#include "common/registry/testing/registry_server.h"
#include "common/signature/crypto.h"
#include "common/signature/dsse.h"
#include "common/signature/in_toto.h"
#include "deploy-svc/adapters/cosign_verifier.h"
#include "deploy-svc/deploy_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::build {
namespace {

using deploy::SignatureVerdict;
using signature::FetchedArtifacts;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kBuilderId[] =
    "https://github.com/mconstant/shapin/build-svc@v1";
const std::string kSha(40, 'a');
const std::string kOtherSha(40, 'b');

class SigningRoundTripTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto reg = registry::testing::RegistryServer::Start();
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = reg->release();
  }
  static void TearDownTestSuite() { delete registry_; }

  void SetUp() override {
    registry::RegistryClientOptions rw;
    rw.retry.max_attempts = 1;
    auto writer = registry::RegistryClient::Create(rw);
    ASSERT_TRUE(writer.ok()) << writer.status();
    writer_ = std::move(writer).value();
    registry::RegistryClientOptions ro;
    ro.read_only = true;
    ro.retry.max_attempts = 1;
    auto reader = registry::RegistryClient::Create(ro);
    ASSERT_TRUE(reader.ok()) << reader.status();
    reader_ = std::move(reader).value();
    auto key = signature::PrivateKey::GenerateP256();
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = std::make_unique<signature::PrivateKey>(*key);
    signer_ = std::make_unique<RegistryImageSigner>(
        *writer_, *key_, ImageSignerOptions{.builder_id = kBuilderId});
    base_digest_ = Digest::OfBytes("base image manifest");
    tmp_dir_ = absl::StrCat("/tmp/shapin-sign-rt-", getpid(), "-",
                            absl::ToUnixMicros(absl::Now()));
    std::filesystem::create_directories(tmp_dir_);
  }
  void TearDown() override { std::filesystem::remove_all(tmp_dir_); }

  std::string Repo(absl::string_view name) {
    return absl::StrCat(registry_->host(), "/", name);
  }

  // Pushes one small image (its content chosen by `seed`) to each of
  // `repos`, tagged with the SHA; the same digest everywhere.
  Digest PushImage(uint64_t seed, const std::vector<std::string>& repos) {
    const std::string dir = absl::StrCat(tmp_dir_, "/layout-", seed);
    auto layout = registry::testing::OciLayoutBuilder::Create(dir);
    EXPECT_TRUE(layout.ok()) << layout.status();
    auto layer = layout->AddRandomBlob(256, seed);
    auto image = layout->AddImage(std::vector<registry::Descriptor>{*layer});
    EXPECT_TRUE(layout->WriteIndex({*image}).ok());
    std::optional<Digest> digest;
    for (const std::string& repo : repos) {
      auto pushed = writer_->PushOciLayout(dir, *ImageRef::Parse(repo), {kSha});
      EXPECT_TRUE(pushed.ok()) << pushed.status();
      digest = pushed->digest;
    }
    return *digest;
  }

  SigningRequest Request(const std::string& repo, const Digest& digest,
                         const std::string& sha = kSha) {
    SigningRequest r(*GitSha::Parse(sha), digest);
    r.repository = repo;
    r.source_url = "https://github.com/mconstant/pay2slay.git";
    r.branch = "main";
    r.dockerfile = "Dockerfile";
    r.base_images = {
        {.name = "docker.io/library/debian:12", .digest = *base_digest_}};
    r.build_id = 42;
    r.started_on = absl::FromUnixSeconds(1700000000);
    r.finished_on = absl::FromUnixSeconds(1700000300);
    return r;
  }

  SignedArtifacts SignOrDie(const SigningRequest& request) {
    absl::StatusOr<SignedArtifacts> s = signer_->SignAndAttest(request);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : SignedArtifacts{};
  }

  FetchedArtifacts Fetch(const std::string& repo, const Digest& digest) {
    signature::RegistrySignatureStore store(reader_.get());
    absl::StatusOr<FetchedArtifacts> f =
        store.Fetch(*ImageRef::Parse(repo), digest);
    EXPECT_TRUE(f.ok()) << f.status();
    return f.ok() ? *f : FetchedArtifacts{};
  }

  void Publish(const std::string& repo, const Digest& digest,
               const std::vector<signature::SignatureLayer>& sigs,
               const std::vector<signature::AttestationLayer>& atts) {
    signature::RegistrySignatureStore store(writer_.get());
    for (const auto& s : sigs) {
      ASSERT_TRUE(
          store.PublishSignature(*ImageRef::Parse(repo), digest, s).ok());
    }
    for (const auto& a : atts) {
      ASSERT_TRUE(
          store.PublishAttestation(*ImageRef::Parse(repo), digest, a).ok());
    }
  }

  // deploy-svc's verifier, trusting `key` and build-svc's builder id.
  std::unique_ptr<deploy::CosignVerifier> Verifier(
      const signature::PrivateKey& key) {
    signature::TrustConfig trust;
    trust.public_keys_pem = {key.public_key().ToPem()};
    trust.allowed_builder_ids = {kBuilderId};
    auto material = signature::TrustMaterial::Create(trust);
    EXPECT_TRUE(material.ok()) << material.status();
    return std::make_unique<deploy::CosignVerifier>(
        *reader_, signature::Verifier(std::move(*material)));
  }

  absl::StatusOr<SignatureVerdict> Verify(const std::string& repo,
                                          const Digest& digest,
                                          const signature::PrivateKey& key) {
    ImageRef pinned =
        ImageRef::Parse(repo)->with_tag(kSha)->with_digest(digest);
    return Verifier(key)->Verify(pinned, *GitSha::Parse(kSha));
  }

  static registry::testing::RegistryServer* registry_;
  std::unique_ptr<registry::RegistryClient> writer_, reader_;
  std::unique_ptr<signature::PrivateKey> key_;
  std::unique_ptr<RegistryImageSigner> signer_;
  std::optional<Digest> base_digest_;
  std::string tmp_dir_;
};
registry::testing::RegistryServer* SigningRoundTripTest::registry_ = nullptr;

TEST_F(SigningRoundTripTest, SignedImageVerifiesWithTheBuildsCommit) {
  const std::string repo = Repo("good/app");
  const Digest digest = PushImage(1, {repo});
  const SignedArtifacts published = SignOrDie(Request(repo, digest));

  absl::StatusOr<SignatureVerdict> v = Verify(repo, digest, *key_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->verified);
  EXPECT_EQ(v->reason, "verified");
  EXPECT_EQ(v->provenance_status, "verified");

  // The provenance says what the build was, and provenance_ref finds it.
  FetchedArtifacts fetched = Fetch(repo, digest);
  ASSERT_EQ(fetched.signatures.size(), 1u);
  ASSERT_EQ(fetched.attestations.size(), 1u);
  const std::string& envelope = fetched.attestations[0].envelope;
  EXPECT_EQ(published.provenance_ref,
            absl::StrCat(repo, "@", Digest::OfBytes(envelope).str()));
  EXPECT_EQ(published.sbom_ref, "");
  EXPECT_TRUE(
      *reader_->BlobExists(*ImageRef::Parse(repo), Digest::OfBytes(envelope)));
  auto dsse = signature::ParseDsseEnvelope(envelope);
  ASSERT_TRUE(dsse.ok()) << dsse.status();
  auto statement = signature::ParseStatement(dsse->payload);
  ASSERT_TRUE(statement.ok()) << statement.status();
  auto facts = signature::ExtractProvenance(*statement);
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ(facts->builder_id, kBuilderId);
  EXPECT_EQ(facts->build_type, kShapinBuildType);
  EXPECT_EQ(facts->source_commit, kSha);
  const nlohmann::json& def = statement->predicate["buildDefinition"];
  EXPECT_EQ(def["externalParameters"]["source"]["url"],
            "https://github.com/mconstant/pay2slay.git");
  EXPECT_EQ(def["externalParameters"]["source"]["branch"], "main");
  EXPECT_EQ(def["externalParameters"]["dockerfile"], "Dockerfile");
  ASSERT_EQ(def["resolvedDependencies"].size(), 2u);
  EXPECT_EQ(def["resolvedDependencies"][1]["uri"],
            "docker.io/library/debian:12");
  EXPECT_EQ(def["resolvedDependencies"][1]["digest"]["sha256"],
            std::string(base_digest_->hex()));
  EXPECT_EQ(statement->predicate["runDetails"]["metadata"]["invocationId"],
            "42");

  // Signing never changes tags: the SHA tag still names the image, and the
  // only other tags are cosign's.
  EXPECT_EQ(*reader_->Resolve(*ImageRef::Parse(absl::StrCat(repo, ":", kSha))),
            digest);
  const std::string fallback = digest.tag_fallback();
  EXPECT_THAT(*reader_->ListTags(*ImageRef::Parse(repo)),
              UnorderedElementsAre(kSha, fallback + ".sig", fallback + ".att"));
}

TEST_F(SigningRoundTripTest, SbomIsAttestedUnderItsOwnPredicateType) {
  const std::string repo = Repo("sbom/app");
  const Digest digest = PushImage(2, {repo});
  SigningRequest request = Request(repo, digest);
  request.sbom_file = tmp_dir_ + "/sbom.cdx.json";
  std::ofstream(request.sbom_file)
      << R"({"bomFormat":"CycloneDX","specVersion":"1.5","components":[]})";
  const SignedArtifacts published = SignOrDie(request);

  FetchedArtifacts fetched = Fetch(repo, digest);
  ASSERT_EQ(fetched.attestations.size(), 2u);
  const signature::AttestationLayer& sbom = fetched.attestations[1];
  EXPECT_EQ(sbom.annotations.at("predicateType"), kCycloneDxPredicateType);
  EXPECT_EQ(published.sbom_ref,
            absl::StrCat(repo, "@", Digest::OfBytes(sbom.envelope).str()));
  auto statement = signature::ParseStatement(
      signature::ParseDsseEnvelope(sbom.envelope)->payload);
  ASSERT_TRUE(statement.ok()) << statement.status();
  EXPECT_TRUE(signature::CoversDigest(*statement, digest));
  EXPECT_EQ(statement->predicate["bomFormat"], "CycloneDX");

  // The SBOM sits beside the provenance without disturbing verification.
  absl::StatusOr<SignatureVerdict> v = Verify(repo, digest, *key_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->verified);
  EXPECT_EQ(v->provenance_status, "verified");
}

TEST_F(SigningRoundTripTest, UnrecognisedSbomFailsAfterSignatureAndProvenance) {
  const std::string repo = Repo("badsbom/app");
  const Digest digest = PushImage(3, {repo});
  SigningRequest request = Request(repo, digest);
  request.sbom_file = tmp_dir_ + "/sbom.spdx";
  std::ofstream(request.sbom_file) << "SPDXVersion: SPDX-2.3\n";
  absl::StatusOr<SignedArtifacts> s = signer_->SignAndAttest(request);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(),
              HasSubstr(absl::StrCat("sbom ", request.sbom_file)));
  // What was published before the failure stands.
  absl::StatusOr<SignatureVerdict> v = Verify(repo, digest, *key_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->verified);
  EXPECT_EQ(v->provenance_status, "verified");
}

// Flips the last byte of the DER signature (still DER: the last byte of s).
std::string FlipSignature(absl::string_view b64) {
  std::string der = *signature::Base64Decode(b64);
  der.back() ^= 0x01;
  return signature::Base64Encode(der);
}

TEST_F(SigningRoundTripTest, EachTamperedPartGivesItsReason) {
  struct Case {
    std::string name;
    // Builds what is published next to the image in the repository under
    // test from what the signer published for the image (`x`) and for
    // another image (`y`), both in the scratch repository.
    std::function<void(FetchedArtifacts& x, const FetchedArtifacts& y,
                       FetchedArtifacts& out)>
        tamper;
    bool verified;
    std::string reason;
    std::string provenance_status;
    bool trust_other_key = false;
    bool other_commit = false;  // the scratch signing names another commit
  };
  const std::vector<Case> cases = {
      {.name = "payload",
       .tamper =
           [](FetchedArtifacts& x, const FetchedArtifacts&,
              FetchedArtifacts& out) {
             out = x;
             out.signatures[0].payload = absl::StrReplaceAll(
                 x.signatures[0].payload, {{"scratch", "evil"}});
             ASSERT_NE(out.signatures[0].payload, x.signatures[0].payload);
           },
       .verified = false,
       .reason = "key_mismatch",
       .provenance_status = "verified"},
      {.name = "signature",
       .tamper =
           [](FetchedArtifacts& x, const FetchedArtifacts&,
              FetchedArtifacts& out) {
             out = x;
             std::string& sig = out.signatures[0].annotations
                                    ["dev.cosignproject.cosign/"
                                     "signature"];
             sig = FlipSignature(sig);
           },
       .verified = false,
       .reason = "key_mismatch",
       .provenance_status = "verified"},
      {.name = "digest",  // a valid signature of another image
       .tamper =
           [](FetchedArtifacts& x, const FetchedArtifacts& y,
              FetchedArtifacts& out) {
             out = x;
             out.signatures = y.signatures;
           },
       .verified = false,
       .reason = "digest_mismatch",
       .provenance_status = "verified"},
      {.name = "provenance payload",
       .tamper =
           [](FetchedArtifacts& x, const FetchedArtifacts&,
              FetchedArtifacts& out) {
             out = x;
             auto env =
                 signature::ParseDsseEnvelope(x.attestations[0].envelope);
             ASSERT_TRUE(env.ok());
             env->payload = absl::StrReplaceAll(
                 env->payload, {{"refs/heads/main", "refs/heads/evil"}});
             out.attestations[0].envelope =
                 signature::SerializeDsseEnvelope(*env);
           },
       .verified = true,
       .reason = "verified",
       .provenance_status = "untrusted"},
      {.name = "subject",  // provenance of another image
       .tamper =
           [](FetchedArtifacts& x, const FetchedArtifacts& y,
              FetchedArtifacts& out) {
             out = x;
             out.attestations = y.attestations;
           },
       .verified = true,
       .reason = "verified",
       .provenance_status = "subject_mismatch"},
      {.name = "commit",  // provenance of the image built from another commit
       .tamper = [](FetchedArtifacts& x, const FetchedArtifacts&,
                    FetchedArtifacts& out) { out = x; },
       .verified = true,
       .reason = "verified",
       .provenance_status = "commit_mismatch",
       .other_commit = true},
      {.name = "wrong key",
       .tamper = [](FetchedArtifacts& x, const FetchedArtifacts&,
                    FetchedArtifacts& out) { out = x; },
       .verified = false,
       .reason = "key_mismatch",
       .provenance_status = "untrusted",
       .trust_other_key = true},
      {.name = "missing .sig",
       .tamper =
           [](FetchedArtifacts& x, const FetchedArtifacts&,
              FetchedArtifacts& out) {
             out = x;
             out.signatures.clear();
           },
       .verified = false,
       .reason = "no_signature",
       .provenance_status = "verified"},
  };
  auto other_key = signature::PrivateKey::GenerateP256();
  ASSERT_TRUE(other_key.ok());
  uint64_t seed = 100;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string id = absl::StrCat("case", seed);
    const std::string scratch = Repo(absl::StrCat("scratch/", id));
    const std::string tampered = Repo(absl::StrCat("tampered/", id));
    const Digest x = PushImage(seed++, {scratch, tampered});
    const Digest y = PushImage(seed++, {scratch});
    SignOrDie(Request(scratch, x, c.other_commit ? kOtherSha : kSha));
    SignOrDie(Request(scratch, y));
    FetchedArtifacts from_x = Fetch(scratch, x);
    FetchedArtifacts from_y = Fetch(scratch, y);
    ASSERT_EQ(from_x.signatures.size(), 1u);
    ASSERT_EQ(from_x.attestations.size(), 1u);
    FetchedArtifacts out;
    c.tamper(from_x, from_y, out);
    Publish(tampered, x, out.signatures, out.attestations);

    absl::StatusOr<SignatureVerdict> v =
        Verify(tampered, x, c.trust_other_key ? *other_key : *key_);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->verified, c.verified);
    EXPECT_EQ(v->reason, c.reason);
    EXPECT_EQ(v->provenance_status, c.provenance_status);
  }
}

TEST_F(SigningRoundTripTest, UnreachableRegistryIsAVerifyToolError) {
  const std::string repo = Repo("down/app");
  const Digest digest = PushImage(4, {repo});
  SignOrDie(Request(repo, digest));
  std::unique_ptr<deploy::CosignVerifier> verifier = Verifier(*key_);
  ASSERT_TRUE(registry_->Stop().ok());
  ImageRef pinned = ImageRef::Parse(repo)->with_tag(kSha)->with_digest(digest);
  absl::StatusOr<SignatureVerdict> v =
      verifier->Verify(pinned, *GitSha::Parse(kSha));
  // Signing cannot publish either; the error names the step.
  absl::StatusOr<SignedArtifacts> signing =
      signer_->SignAndAttest(Request(repo, digest));
  ASSERT_TRUE(registry_->Restart().ok());

  ASSERT_FALSE(v.ok());
  for (deploy::SignatureMode mode :
       {deploy::SignatureMode::kSoft, deploy::SignatureMode::kEnforce}) {
    absl::StatusOr<SignatureVerdict> decided =
        deploy::ApplySignaturePolicy(v, mode);
    EXPECT_EQ(ErrorCodeOf(decided.status()), ErrorCode::kVerifyToolError)
        << decided.status();
    EXPECT_EQ(decided.status().code(), absl::StatusCode::kUnavailable);
  }
  ASSERT_FALSE(signing.ok());
  EXPECT_THAT(signing.status().message(), HasSubstr("signature: "));
}

}  // namespace
}  // namespace shapin::build
