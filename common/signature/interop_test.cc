// The acceptance test: real cosign-made signatures from containers/image
// (../shared/interop/cosign-containers-image/README.md) must come out exactly
// as its "expected outcomes" table lists.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/signature/crypto.h"
#include "common/signature/rekor.h"
#include "common/signature/simple_signing.h"
#include "common/signature/test_fixtures.h"
#include "common/signature/trust.h"
#include "common/signature/verifier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::signature {
namespace {

using ::shapin::signature::testing::CosignFixtureDir;
using ::shapin::signature::testing::IsSymlinkStub;
using ::shapin::signature::testing::LoadFixtureSignatures;
using ::shapin::signature::testing::ReadFileBytes;
using ::shapin::signature::testing::ReadInteropFile;
using ::shapin::signature::testing::RekorPublicKeyPem;
using ::testing::HasSubstr;

constexpr absl::string_view kRekorLogId =
    "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";

std::string Interop(absl::string_view relative) {
  absl::StatusOr<std::string> bytes = ReadInteropFile(relative);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

// The digest of the fixture's manifest.json: nullopt when the fixture has
// none. A symlink stub whose target was not copied
// (dir-img-cosign-manifest-digest-error/manifest.json →
// ../v2s1-invalid-signatures.manifest.json) stands for "some other
// manifest": its own bytes are hashed.
std::optional<Digest> ImageDigestOf(absl::string_view fixture) {
  const std::string relative = absl::StrCat(fixture, "/manifest.json");
  const std::string path = absl::StrCat(CosignFixtureDir(), "/", relative);
  if (!std::filesystem::exists(path)) return std::nullopt;
  absl::StatusOr<std::string> bytes = ReadInteropFile(relative);
  if (!bytes.ok()) bytes = ReadFileBytes(path);
  if (!bytes.ok()) return std::nullopt;
  return Digest::OfBytes(*bytes);
}

TrustConfig KeyTrust(absl::string_view key_file) {
  TrustConfig c;
  c.public_keys_pem.push_back(Interop(key_file));
  return c;
}

TrustConfig KeyAndRekorTrust(absl::string_view key_file,
                             std::string rekor_pem) {
  TrustConfig c = KeyTrust(key_file);
  c.rekor_public_keys_pem.push_back(std::move(rekor_pem));
  return c;
}

TrustConfig KeylessTrust() {
  TrustConfig c;
  c.fulcio_roots_pem.push_back(Interop("fulcio_v1.crt.pem"));
  c.rekor_public_keys_pem.push_back(RekorPublicKeyPem());
  c.identities.push_back({.issuer = "https://github.com/login/oauth",
                          .subject = "mitr@redhat.com",
                          .subject_regex = ""});
  return c;
}

struct Case {
  std::string name;
  std::string fixture;
  std::function<TrustConfig()> trust;
  Reason expected;
  // Applied to the loaded signature layers before verifying.
  std::function<void(std::vector<SignatureLayer>&)> mutate = nullptr;
};

VerificationResult RunCase(const Case& c) {
  absl::StatusOr<std::vector<SignatureLayer>> layers =
      LoadFixtureSignatures(c.fixture);
  EXPECT_TRUE(layers.ok()) << layers.status();
  if (!layers.ok()) return {};
  if (c.mutate) c.mutate(*layers);
  absl::StatusOr<TrustMaterial> trust = TrustMaterial::Create(c.trust());
  EXPECT_TRUE(trust.ok()) << trust.status();
  if (!trust.ok()) return {};
  Verifier verifier(*std::move(trust));
  VerifyRequest request;
  request.image_digest = ImageDigestOf(c.fixture);
  request.signatures = *std::move(layers);
  absl::StatusOr<VerificationResult> result = verifier.Verify(request);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : VerificationResult{};
}

void DropBundle(std::vector<SignatureLayer>& layers) {
  for (SignatureLayer& l : layers) {
    l.annotations.erase(std::string(kBundleAnnotation));
  }
}

std::vector<Case> ExpectedOutcomeTable() {
  const std::string rekor = RekorPublicKeyPem();
  auto cosign = [] { return KeyTrust("cosign.pub"); };
  auto cosign2_rekor = [rekor] {
    return KeyAndRekorTrust("cosign2.pub", rekor);
  };
  return {
      {"valid, key cosign.pub", "dir-img-cosign-valid", cosign,
       Reason::kVerified},
      {"valid-2 (two signatures)", "dir-img-cosign-valid-2", cosign,
       Reason::kVerified},
      {"mixed (one bad, one good)", "dir-img-cosign-mixed", cosign,
       Reason::kVerified},
      {"valid-with-tag", "dir-img-cosign-valid-with-tag", cosign,
       Reason::kVerified},
      {"key + Rekor SET checked offline", "dir-img-cosign-key-rekor-valid",
       cosign2_rekor, Reason::kVerified},
      {"key + Rekor, SET removed", "dir-img-cosign-key-rekor-valid",
       cosign2_rekor, Reason::kInvalidBundle, DropBundle},
      {"key + Rekor, SET checked against another key",
       "dir-img-cosign-key-rekor-valid",
       [] { return KeyAndRekorTrust("cosign2.pub", Interop("cosign.pub")); },
       Reason::kInvalidBundle},
      {"keyless Fulcio + Rekor", "dir-img-cosign-fulcio-rekor-valid",
       KeylessTrust, Reason::kVerified},
      {"manifest-digest-error", "dir-img-cosign-manifest-digest-error", cosign,
       Reason::kDigestMismatch},
      {"modified-manifest", "dir-img-cosign-modified-manifest", cosign,
       Reason::kDigestMismatch},
      {"no-manifest", "dir-img-cosign-no-manifest", cosign,
       Reason::kDigestMismatch},
      {"other-attachment: no signature found",
       "dir-img-cosign-other-attachment", cosign, Reason::kNoSignature},
      // "any fixture | unknown-cosign-key.signature / wrong key | rejected"
      {"unknown-cosign-key.signature with cosign.pub", "dir-img-cosign-valid",
       cosign, Reason::kKeyMismatch,
       [](std::vector<SignatureLayer>& layers) {
         layers = *LoadFixtureSignatures("dir-img-cosign-mixed");
         layers.resize(1);  // signature-1 -> ../unknown-cosign-key.signature
       }},
      {"valid with the wrong key cosign2.pub", "dir-img-cosign-valid",
       [] { return KeyTrust("cosign2.pub"); }, Reason::kKeyMismatch},
      {"valid-2 with the wrong key", "dir-img-cosign-valid-2",
       [] { return KeyTrust("cosign2.pub"); }, Reason::kKeyMismatch},
      {"mixed with the wrong key", "dir-img-cosign-mixed",
       [] { return KeyTrust("cosign2.pub"); }, Reason::kKeyMismatch},
      {"valid-with-tag with the wrong key", "dir-img-cosign-valid-with-tag",
       [] { return KeyTrust("cosign2.pub"); }, Reason::kKeyMismatch},
      {"key-rekor with the wrong key", "dir-img-cosign-key-rekor-valid",
       [rekor] { return KeyAndRekorTrust("cosign.pub", rekor); },
       Reason::kKeyMismatch},
      {"keyless with another identity", "dir-img-cosign-fulcio-rekor-valid",
       [] {
         TrustConfig c = KeylessTrust();
         c.identities[0].subject = "someone-else@redhat.com";
         return c;
       },
       Reason::kUntrustedIdentity},
      {"keyless with another issuer", "dir-img-cosign-fulcio-rekor-valid",
       [] {
         TrustConfig c = KeylessTrust();
         c.identities[0].issuer = "https://token.actions.githubusercontent.com";
         return c;
       },
       Reason::kUntrustedIdentity},
      {"keyless with another root", "dir-img-cosign-fulcio-rekor-valid",
       [] {
         TrustConfig c = KeylessTrust();
         // A root that did not issue the chain: the leaf certificate itself.
         c.fulcio_roots_pem = {Interop("fulcio-cert")};
         return c;
       },
       Reason::kUntrustedIdentity},
      {"keyless, bundle removed", "dir-img-cosign-fulcio-rekor-valid",
       KeylessTrust, Reason::kInvalidBundle, DropBundle},
      {"keyless with the wrong Rekor key", "dir-img-cosign-fulcio-rekor-valid",
       [] {
         TrustConfig c = KeylessTrust();
         c.rekor_public_keys_pem = {Interop("cosign.pub")};
         return c;
       },
       Reason::kInvalidBundle},
  };
}

TEST(CosignInteropTest, ExpectedOutcomesTable) {
  for (const Case& c : ExpectedOutcomeTable()) {
    SCOPED_TRACE(c.name);
    VerificationResult r = RunCase(c);
    EXPECT_EQ(ReasonName(r.reason), ReasonName(c.expected)) << r.details;
  }
}

TEST(CosignInteropTest, RekorKeyMatchesTheFixturesLogId) {
  absl::StatusOr<PublicKey> key = PublicKey::FromPem(RekorPublicKeyPem());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->Sha256Id(), kRekorLogId);
}

TEST(CosignInteropTest, ValidFixturesSignTheirManifestDigest) {
  for (const char* fixture :
       {"dir-img-cosign-valid", "dir-img-cosign-valid-with-tag",
        "dir-img-cosign-key-rekor-valid",
        "dir-img-cosign-fulcio-rekor-valid"}) {
    SCOPED_TRACE(fixture);
    absl::StatusOr<std::vector<SignatureLayer>> layers =
        LoadFixtureSignatures(fixture);
    ASSERT_TRUE(layers.ok()) << layers.status();
    absl::StatusOr<SimpleSigningPayload> payload =
        ParseSimpleSigningPayload(layers->front().payload);
    ASSERT_TRUE(payload.ok()) << payload.status();
    std::optional<Digest> digest = ImageDigestOf(fixture);
    ASSERT_TRUE(digest.has_value());
    EXPECT_EQ(payload->manifest_digest, digest->str());
    EXPECT_EQ(payload->type, kCosignSignatureType);
  }
}

TEST(CosignInteropTest, KeyRekorReportsSignerAndLogIndex) {
  Case c{"key + Rekor", "dir-img-cosign-key-rekor-valid",
         [] { return KeyAndRekorTrust("cosign2.pub", RekorPublicKeyPem()); },
         Reason::kVerified};
  VerificationResult r = RunCase(c);
  ASSERT_EQ(r.reason, Reason::kVerified) << r.details;
  EXPECT_EQ(r.rekor_log_index, 11608800);
  EXPECT_THAT(r.signer, HasSubstr("key sha256:"));
}

TEST(CosignInteropTest, KeylessReportsIdentity) {
  Case c{"keyless", "dir-img-cosign-fulcio-rekor-valid", KeylessTrust,
         Reason::kVerified};
  VerificationResult r = RunCase(c);
  ASSERT_EQ(r.reason, Reason::kVerified) << r.details;
  EXPECT_EQ(r.signer,
            "mitr@redhat.com (issuer https://github.com/login/oauth)");
  EXPECT_EQ(r.rekor_log_index, 11605770);
}

TEST(CosignInteropTest, KeylessIdentityRegexIsAnchored) {
  struct RegexCase {
    std::string regex;
    Reason expected;
  };
  for (const RegexCase& rc : std::vector<RegexCase>{
           {".*@redhat\\.com", Reason::kVerified},
           {"mitr@redhat\\.com", Reason::kVerified},
           {"mitr@redhat", Reason::kUntrustedIdentity},  // no partial match
           {"itr@redhat\\.com", Reason::kUntrustedIdentity},
       }) {
    SCOPED_TRACE(rc.regex);
    Case c{"keyless regex", "dir-img-cosign-fulcio-rekor-valid",
           [&rc] {
             TrustConfig t = KeylessTrust();
             t.identities[0].subject.clear();
             t.identities[0].subject_regex = rc.regex;
             return t;
           },
           rc.expected};
    VerificationResult r = RunCase(c);
    EXPECT_EQ(ReasonName(r.reason), ReasonName(rc.expected)) << r.details;
  }
}

TEST(CosignInteropTest, KeylessChainVerifiesOnlyAtIntegrationTime) {
  absl::StatusOr<Certificate> leaf =
      Certificate::FromPem(Interop("fulcio-cert"));
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  absl::StatusOr<std::vector<Certificate>> chain =
      Certificate::ChainFromPem(Interop("fulcio-chain"));
  ASSERT_TRUE(chain.ok()) << chain.status();
  absl::StatusOr<std::vector<Certificate>> roots =
      Certificate::ChainFromPem(Interop("fulcio_v1.crt.pem"));
  ASSERT_TRUE(roots.ok()) << roots.status();
  // fulcio-cert is valid 2022-12-12 18:48:18 to 18:58:18 UTC.
  const absl::Time during = absl::FromCivil(
      absl::CivilSecond(2022, 12, 12, 18, 50, 0), absl::UTCTimeZone());
  EXPECT_TRUE(VerifyCertificateChain(*leaf, *roots, *chain, during).ok());
  const absl::Time after = during + absl::Hours(1);
  EXPECT_THAT(VerifyCertificateChain(*leaf, *roots, *chain, after),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("expired")));
  EXPECT_TRUE(leaf->HasCodeSigningEku());
  EXPECT_EQ(leaf->FulcioIssuer(), "https://github.com/login/oauth");
  EXPECT_THAT(leaf->EmailAndUriSans(),
              ::testing::ElementsAre("mitr@redhat.com"));
}

TEST(CosignInteropTest, FolderHasSymlinkStubs) {
  // Documents the state of the copied folder the loader copes with.
  EXPECT_TRUE(IsSymlinkStub("dir-img-cosign-valid-2/signature-1"));
  EXPECT_TRUE(IsSymlinkStub("dir-img-cosign-mixed/signature-1"));
  EXPECT_FALSE(IsSymlinkStub("dir-img-cosign-valid/signature-1"));
}

}  // namespace
}  // namespace shapin::signature
