// CosignVerifier against a real docker-registry: images signed by the
// project's cosign-compatible signer, read back through a read-only client.
#include "deploy-svc/adapters/cosign_verifier.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/error_code.h"
#include "common/registry/testing/fake_clock.h"
#include "common/registry/testing/oci_layout_builder.h"
#include "common/registry/testing/registry_server.h"
#include "common/signature/signer.h"
#include "deploy-svc/deploy_policy.h"
#include "gtest/gtest.h"

namespace shapin::deploy {
namespace {

class CosignVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reg = registry::testing::RegistryServer::Start();
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = std::move(reg).value();
    auto writer = registry::RegistryClient::Create({});
    ASSERT_TRUE(writer.ok());
    writer_ = std::move(writer).value();
    registry::RegistryClientOptions ro;
    ro.read_only = true;
    ro.retry.max_attempts = 1;
    auto reader = registry::RegistryClient::Create(ro);
    ASSERT_TRUE(reader.ok());
    reader_ = std::move(reader).value();
    repo_ = *ImageRef::Parse(absl::StrCat(registry_->host(), "/app"));
    sha_ = *GitSha::Parse(std::string(40, 'c'));

    digest_ = PushImage(sha_->str(), 7);
    ASSERT_TRUE(digest_.has_value());

    auto key = signature::PrivateKey::GenerateP256();
    ASSERT_TRUE(key.ok());
    key_ = std::make_unique<signature::PrivateKey>(std::move(*key));
  }

  // Pushes a one-layer image (random content from `seed`) tagged `tag`.
  std::optional<Digest> PushImage(const std::string& tag, int seed) {
    absl::StatusOr<Digest> d = registry::testing::PushRandomImage(
        *writer_, repo_, {tag}, seed,
        absl::StrCat("/tmp/shapin-cosign-", getpid(), "-", seed), 512);
    EXPECT_TRUE(d.ok()) << d.status();
    if (!d.ok()) return std::nullopt;
    return *d;
  }

  std::unique_ptr<CosignVerifier> VerifierTrusting(
      const signature::PrivateKey& key,
      registry::Clock* clock = registry::RealClock::Get(),
      size_t max_cached = CosignVerifier::kMaxCachedVerdicts) {
    signature::TrustConfig trust;
    trust.public_keys_pem = {key.public_key().ToPem()};
    auto material = signature::TrustMaterial::Create(trust);
    EXPECT_TRUE(material.ok()) << material.status();
    return std::make_unique<CosignVerifier>(
        *reader_, signature::Verifier(std::move(*material)), clock, max_cached);
  }

  void Sign() { Sign(*digest_); }
  void Sign(const Digest& digest) {
    signature::Signer signer(*key_);
    auto layer = signer.SignImage(repo_.name(), digest);
    ASSERT_TRUE(layer.ok()) << layer.status();
    signature::RegistrySignatureStore store(writer_.get());
    ASSERT_TRUE(store.PublishSignature(repo_, digest, *layer).ok());
  }

  ImageRef Pinned() {
    return repo_.with_tag(sha_->str())->with_digest(*digest_);
  }

  std::unique_ptr<registry::testing::RegistryServer> registry_;
  std::unique_ptr<registry::RegistryClient> writer_, reader_;
  ImageRef repo_ = *ImageRef::Parse("localhost/x");
  std::optional<GitSha> sha_;
  std::optional<Digest> digest_;
  std::unique_ptr<signature::PrivateKey> key_;
};

TEST_F(CosignVerifierTest, SignedImageIsVerified) {
  Sign();
  absl::StatusOr<SignatureVerdict> v =
      VerifierTrusting(*key_)->Verify(Pinned(), *sha_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->verified);
  EXPECT_EQ(v->reason, "verified");
}

TEST_F(CosignVerifierTest, UnsignedAndWrongKeyAreUnverifiedWithTheirReason) {
  absl::StatusOr<SignatureVerdict> unsigned_image =
      VerifierTrusting(*key_)->Verify(Pinned(), *sha_);
  ASSERT_TRUE(unsigned_image.ok()) << unsigned_image.status();
  EXPECT_FALSE(unsigned_image->verified);
  EXPECT_EQ(unsigned_image->reason, "no_signature");

  Sign();
  auto other = signature::PrivateKey::GenerateP256();
  ASSERT_TRUE(other.ok());
  absl::StatusOr<SignatureVerdict> wrong_key =
      VerifierTrusting(*other)->Verify(Pinned(), *sha_);
  ASSERT_TRUE(wrong_key.ok()) << wrong_key.status();
  EXPECT_FALSE(wrong_key->verified);
  EXPECT_EQ(wrong_key->reason, "key_mismatch");
}

TEST_F(CosignVerifierTest, UnreachableRegistryIsAVerifyToolError) {
  Sign();
  std::unique_ptr<CosignVerifier> verifier = VerifierTrusting(*key_);
  ASSERT_TRUE(registry_->Stop().ok());
  absl::StatusOr<SignatureVerdict> v = verifier->Verify(Pinned(), *sha_);
  ASSERT_FALSE(v.ok());
  // What the deploy makes of it: VERIFY_TOOL_ERROR, not "unverified".
  absl::StatusOr<SignatureVerdict> decided =
      ApplySignaturePolicy(v, SignatureMode::kSoft);
  EXPECT_EQ(ErrorCodeOf(decided.status()), ErrorCode::kVerifyToolError);
  EXPECT_EQ(decided.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(CosignVerifierTest, VerifiedVerdictIsKeptForItsTtlUnverifiedIsNot) {
  registry::testing::FakeClock clock;
  std::unique_ptr<CosignVerifier> verifier = VerifierTrusting(*key_, &clock);
  absl::StatusOr<SignatureVerdict> before = verifier->Verify(Pinned(), *sha_);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->reason, "no_signature");

  // Not remembered: the signature published now counts at once.
  Sign();
  absl::StatusOr<SignatureVerdict> signed_now =
      verifier->Verify(Pinned(), *sha_);
  ASSERT_TRUE(signed_now.ok()) << signed_now.status();
  EXPECT_TRUE(signed_now->verified);

  // Remembered: within the TTL the registry is not read at all.
  ASSERT_TRUE(registry_->Stop().ok());
  clock.Sleep(CosignVerifier::kVerifiedCacheTtl - absl::Seconds(1));
  absl::StatusOr<SignatureVerdict> cached = verifier->Verify(Pinned(), *sha_);
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_TRUE(cached->verified);
  EXPECT_EQ(cached->reason, "verified");

  // Expired: read again (and the stopped registry makes that an error).
  clock.Sleep(absl::Seconds(2));
  EXPECT_FALSE(verifier->Verify(Pinned(), *sha_).ok());
}

// At most max_cached verdicts are kept, the oldest forgotten first: with a
// bound of 2, the first of three verified images is read again.
TEST_F(CosignVerifierTest, RemembersAtMostItsBoundOfImages) {
  registry::testing::FakeClock clock;
  std::unique_ptr<CosignVerifier> verifier =
      VerifierTrusting(*key_, &clock, /*max_cached=*/2);
  std::vector<ImageRef> images;
  for (int i = 0; i < 3; ++i) {
    const GitSha sha =
        *GitSha::Parse(std::string(40, static_cast<char>('a' + i)));
    std::optional<Digest> d = PushImage(sha.str(), 100 + i);
    ASSERT_TRUE(d.has_value());
    Sign(*d);
    images.push_back(repo_.with_tag(sha.str())->with_digest(*d));
    absl::StatusOr<SignatureVerdict> v = verifier->Verify(images.back(), sha);
    ASSERT_TRUE(v.ok()) << v.status();
    ASSERT_TRUE(v->verified) << v->reason;
  }
  ASSERT_TRUE(registry_->Stop().ok());
  for (int i : {2, 1}) {
    const GitSha sha = *GitSha::Parse(*images[i].tag());
    absl::StatusOr<SignatureVerdict> kept = verifier->Verify(images[i], sha);
    ASSERT_TRUE(kept.ok()) << "image " << i << ": " << kept.status();
    EXPECT_TRUE(kept->verified);
  }
  // Forgotten: read again, and the stopped registry makes that an error.
  EXPECT_FALSE(
      verifier->Verify(images[0], *GitSha::Parse(*images[0].tag())).ok());
}

}  // namespace
}  // namespace shapin::deploy
