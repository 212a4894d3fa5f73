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
  };
  const Case cases[] = {
      {"new sha", std::nullopt, std::nullopt, false, BeforeBuild::kBuild},
      {"new sha, rebuild", std::nullopt, std::nullopt, true,
       BeforeBuild::kBuild},
      {"tag matches record", D('a'), D('a'), false, BeforeBuild::kReuse},
      {"tag, nothing recorded", D('a'), std::nullopt, false,
       BeforeBuild::kReuse},
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
    if (got->action == BeforeBuild::kReuse) {
      EXPECT_EQ(got->reuse_digest, c.tag);
    }
  }
}

TEST(PublishPolicyTest, AfterBuild) {
  EXPECT_EQ(DecideAfterBuild(std::nullopt, D('a'))->action,
            AfterBuild::kPublish);
  EXPECT_EQ(DecideAfterBuild(D('a'), D('a'))->action, AfterBuild::kReproduced);
  absl::StatusOr<AfterBuild> mismatch = DecideAfterBuild(D('b'), D('a'));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ErrorCodeOf(mismatch.status()), ErrorCode::kDigestMismatch);
}

}  // namespace
}  // namespace shapin::build
