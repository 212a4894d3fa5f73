#include "build-svc/publish_policy.h"

#include "common/error_code.h"
#include "gtest/gtest.h"

namespace shapin::build {
namespace {

Digest D(char c) { return *Digest::Parse("sha256:" + std::string(64, c)); }

TEST(PublishPolicyTest, BeforeBuild) {
  struct Case {
    const char* name;
    std::optional<Digest> tag;
    std::optional<Digest> recorded;
    bool rebuild;
    std::optional<BeforeBuild::Action> want;  // unset: DIGEST_MISMATCH
    bool verifies_unrecorded_tag = false;
  };
  const Case cases[] = {
      {"new sha", std::nullopt, std::nullopt, false, BeforeBuild::kBuild},
      {"new sha, rebuild", std::nullopt, std::nullopt, true,
       BeforeBuild::kBuild},
      {"tag matches record", D('a'), D('a'), false, BeforeBuild::kReuse},
      // Not trusted: someone else's push before shapin's first build.
      {"tag, nothing recorded", D('a'), std::nullopt, false,
       BeforeBuild::kBuild, true},
      {"tag, nothing recorded, rebuild", D('a'), std::nullopt, true,
       BeforeBuild::kBuild, true},
      {"rebuild requested", D('a'), D('a'), true, BeforeBuild::kBuild},
      {"record but tag gone", std::nullopt, D('a'), false, BeforeBuild::kBuild},
      {"tampered tag", D('b'), D('a'), false, std::nullopt},
      {"tampered tag, rebuild", D('b'), D('a'), true, std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<BeforeBuild> got =
        DecideBeforeBuild(c.tag, c.recorded, c.rebuild);
    if (!c.want) {
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(ErrorCodeOf(got.status()), ErrorCode::kDigestMismatch);
      EXPECT_NE(got.status().message().find(c.tag->str()),
                absl::string_view::npos);
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->action, *c.want);
    EXPECT_EQ(got->verifies_unrecorded_tag, c.verifies_unrecorded_tag);
    if (got->action == BeforeBuild::kReuse) {
      EXPECT_EQ(got->reuse_digest, c.tag);
    }
  }
}

TEST(PublishPolicyTest, AfterBuild) {
  EXPECT_EQ(DecideAfterBuild(std::nullopt, std::nullopt, D('a'))->action,
            AfterBuild::kPublish);
  EXPECT_EQ(DecideAfterBuild(D('a'), D('a'), D('a'))->action,
            AfterBuild::kReproduced);
  // An unrecorded tag with what the commit builds to is verified.
  EXPECT_EQ(DecideAfterBuild(D('a'), std::nullopt, D('a'))->action,
            AfterBuild::kReproduced);
  for (const std::optional<Digest>& recorded :
       {std::optional<Digest>(D('b')), std::optional<Digest>()}) {
    absl::StatusOr<AfterBuild> mismatch =
        DecideAfterBuild(D('b'), recorded, D('a'));
    ASSERT_FALSE(mismatch.ok());
    EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(ErrorCodeOf(mismatch.status()), ErrorCode::kDigestMismatch);
    EXPECT_NE(mismatch.status().message().find(D('b').str()),
              absl::string_view::npos);
    EXPECT_NE(mismatch.status().message().find(D('a').str()),
              absl::string_view::npos);
  }
  EXPECT_NE(DecideAfterBuild(D('b'), std::nullopt, D('a'))
                .status()
                .message()
                .find("adopt"),
            absl::string_view::npos)
      << "an unrecorded tag's mismatch says how to trust it";
}

TEST(PublishPolicyTest, Adoption) {
  const GitSha sha = *GitSha::Parse(std::string(40, '1'));
  auto facts = [&](std::optional<Digest> tag, std::optional<Digest> short_tag,
                   std::optional<Digest> recorded) {
    return AdoptionFacts{.sha = sha,
                         .repository = "ghcr.io/acme/app",
                         .named = D('a'),
                         .tag = tag,
                         .short_tag = short_tag,
                         .recorded = recorded};
  };
  EXPECT_TRUE(CheckAdoption(facts(D('a'), std::nullopt, std::nullopt)).ok());
  EXPECT_TRUE(CheckAdoption(facts(D('a'), D('a'), std::nullopt)).ok());
  EXPECT_EQ(ErrorCodeOf(
                CheckAdoption(facts(std::nullopt, std::nullopt, std::nullopt))),
            ErrorCode::kMissingTag);
  EXPECT_EQ(CheckAdoption(facts(D('b'), std::nullopt, std::nullopt)).code(),
            absl::StatusCode::kFailedPrecondition)
      << "the tag moved since it was inspected";
  EXPECT_EQ(CheckAdoption(facts(D('a'), D('b'), std::nullopt)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckAdoption(facts(D('a'), std::nullopt, D('a'))).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(CheckAdoption(facts(D('a'), std::nullopt, D('b'))).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace shapin::build
