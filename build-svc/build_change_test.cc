#include "build-svc/build_change.h"

#include "gtest/gtest.h"

namespace shapin::build {
namespace {

TEST(BuildChangeTest, ParsesWhatTheTriggersSend) {
  std::optional<BuildChange> queued = ParseBuildChange("42 queued");
  ASSERT_TRUE(queued.has_value());
  EXPECT_EQ(queued->build_id, 42);
  EXPECT_EQ(queued->state, BuildState::kQueued);
  EXPECT_TRUE(queued->frees_work());
  EXPECT_FALSE(queued->terminal());

  std::optional<BuildChange> running = ParseBuildChange("7 running");
  ASSERT_TRUE(running.has_value());
  EXPECT_FALSE(running->frees_work());

  std::optional<BuildChange> done = ParseBuildChange("7 succeeded");
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->terminal());
  EXPECT_TRUE(done->frees_work());

  std::optional<BuildChange> log = ParseBuildChange("9 log");
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->build_id, 9);
  EXPECT_FALSE(log->state.has_value());
  EXPECT_FALSE(log->terminal());
}

TEST(BuildChangeTest, RefusesAnythingElse) {
  for (const char* bad : {"", "42", "x queued", "-1 queued", "0 queued",
                          "42 exploded", "42  queued", "42 queued extra"}) {
    EXPECT_FALSE(ParseBuildChange(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace shapin::build
