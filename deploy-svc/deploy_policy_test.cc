#include "deploy-svc/deploy_policy.h"

#include "common/error_code.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::deploy {
namespace {

using ::testing::HasSubstr;

GitSha Sha(char c) { return *GitSha::Parse(std::string(40, c)); }
Digest D(char c) { return *Digest::Parse("sha256:" + std::string(64, c)); }
const std::string kRepo = "ghcr.io/mconstant/pay2slay-api";

TEST(DeployPolicyTest, Origin) {
  struct Case {
    const char* name;
    OriginFacts facts;
    std::optional<ErrorCode> error;
  };
  const Case cases[] = {
      {"tag, recorded, equal", {D('a'), D('a'), false}, std::nullopt},
      {"tag, not recorded", {D('a'), std::nullopt, false}, std::nullopt},
      {"no tag", {std::nullopt, std::nullopt, false}, ErrorCode::kMissingTag},
      {"no tag but recorded canonical",
       {std::nullopt, D('a'), false},
       ErrorCode::kMissingTag},
      {"staging only",
       {std::nullopt, std::nullopt, true},
       ErrorCode::kPolicyViolation},
      {"tampered", {D('b'), D('a'), false}, ErrorCode::kDigestMismatch},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Digest> d = CheckOrigin(Sha('1'), kRepo, c.facts);
    if (!c.error) {
      ASSERT_TRUE(d.ok()) << d.status();
      EXPECT_EQ(*d, *c.facts.canonical_tag_digest);
      continue;
    }
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(ErrorCodeOf(d.status()), c.error);
    EXPECT_THAT(std::string(d.status().message()), HasSubstr(Sha('1').str()));
  }
  absl::StatusOr<Digest> staging =
      CheckOrigin(Sha('1'), kRepo, {std::nullopt, std::nullopt, true});
  EXPECT_THAT(std::string(staging.status().message()),
              HasSubstr("non-protected branch"));
}

TEST(DeployPolicyTest, Hold) {
  HoldFacts hold{.held = true,
                 .rollback_deployment_id = "7",
                 .held_by = "ops",
                 .held_sha = Sha('a')};
  EXPECT_TRUE(CheckHold("prod", {}, Sha('b'), false).ok());
  EXPECT_TRUE(CheckHold("prod", hold, Sha('a'), false).ok())
      << "redeploying the held SHA is allowed";
  EXPECT_TRUE(CheckHold("prod", hold, Sha('b'), true).ok());
  absl::Status held = CheckHold("prod", hold, Sha('b'), false);
  EXPECT_EQ(ErrorCodeOf(held), ErrorCode::kOnHold);
  EXPECT_EQ(held.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(held.message()), HasSubstr("rollback deployment 7"));
}

TEST(DeployPolicyTest, RollbackTarget) {
  const std::vector<GitSha> history = {Sha('c'), Sha('c'), Sha('b'), Sha('a')};
  EXPECT_EQ(*ChooseRollbackTarget("prod", std::nullopt, Sha('c'), history),
            Sha('b'));
  EXPECT_EQ(*ChooseRollbackTarget("prod", Sha('a'), Sha('c'), history),
            Sha('a'));
  EXPECT_EQ(
      ChooseRollbackTarget("prod", Sha('c'), Sha('c'), history).status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ChooseRollbackTarget("prod", std::nullopt, Sha('c'), {Sha('c')})
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(DeployPolicyTest, Signatures) {
  SignatureVerdict unverified{.verified = false, .reason = "no_signature"};
  SignatureVerdict verified{.verified = true, .reason = "verified"};
  EXPECT_EQ(ApplySignaturePolicy(unverified, SignatureMode::kSoft)->reason,
            "no_signature");
  EXPECT_TRUE(ApplySignaturePolicy(verified, SignatureMode::kEnforce).ok());
  EXPECT_EQ(
      ErrorCodeOf(
          ApplySignaturePolicy(unverified, SignatureMode::kEnforce).status()),
      ErrorCode::kPolicyViolation);
  absl::StatusOr<SignatureVerdict> broken = ApplySignaturePolicy(
      absl::UnavailableError("registry down"), SignatureMode::kSoft);
  EXPECT_EQ(ErrorCodeOf(broken.status()), ErrorCode::kVerifyToolError);
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace shapin::deploy
