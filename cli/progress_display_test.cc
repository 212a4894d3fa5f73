#include "cli/progress_display.h"

#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ProgressDisplayTest, PlainOutputIsOneLinePerPhaseAndEachLogLineOnce) {
  std::ostringstream out;
  ProgressDisplay view(out, /*live=*/false, TerminalStyle(false));
  view.Update("queued", absl::Seconds(0), "build 4", {});
  view.Update("building", absl::Seconds(3), "build 4",
              {"STEP 1/3", "STEP 2/3"});
  view.Tick(absl::Seconds(4));  // no output without a terminal
  view.Update("building", absl::Seconds(5), "build 4", {"STEP 3/3\r"});
  view.Update("done", absl::Seconds(65), "build 4", {});
  view.Finish();
  EXPECT_EQ(out.str(),
            "[    0s] queued  build 4\n"
            "[    3s] building  build 4\n"
            "         | STEP 1/3\n"
            "         | STEP 2/3\n"
            "         | STEP 3/3 \n"
            "[ 1m05s] done  build 4\n");
}

TEST(ProgressDisplayTest, LiveViewRedrawsInPlaceWithALogTail) {
  std::ostringstream out;
  ProgressDisplay view(out, /*live=*/true, TerminalStyle(false),
                       /*tail_lines=*/2, /*width=*/40);
  view.Update("building", absl::Seconds(1), "build 4", {"a", "b", "c"});
  // First draw: no cursor movement; status line and the last 2 log lines.
  EXPECT_EQ(out.str(), "| building  1s  build 4\n  b\n  c\n");
  out.str("");
  view.Tick(absl::Seconds(2));
  // Redraw: up 3 lines, clear, next spinner frame, new elapsed time.
  EXPECT_EQ(out.str(), "\x1b[3A\r\x1b[J/ building  2s  build 4\n  b\n  c\n");
  out.str("");
  view.Update("pushing", absl::Seconds(3),
              "a very long detail that cannot fit in forty columns", {});
  EXPECT_THAT(out.str(),
              HasSubstr("/ pushing  3s  a very long detail th...\n"));
  EXPECT_THAT(out.str(), Not(HasSubstr("forty")));
  out.str("");
  view.Finish();
  EXPECT_EQ(out.str(), "\x1b[3A\r\x1b[J");
}

}  // namespace
}  // namespace shapin::cli
