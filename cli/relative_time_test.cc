#include "cli/relative_time.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace shapin::cli {
namespace {

TEST(RelativeTimeTest, LargestWholeUnit) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  struct Case {
    absl::Duration ago;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {absl::ZeroDuration(), "just now"},
           {absl::Seconds(4), "just now"},
           {absl::Seconds(5), "5s ago"},
           {absl::Seconds(59), "59s ago"},
           {absl::Seconds(60), "1m ago"},
           {absl::Minutes(3) + absl::Seconds(59), "3m ago"},
           {absl::Hours(2) + absl::Minutes(59), "2h ago"},
           {absl::Hours(24), "1d ago"},
           {absl::Hours(24 * 29), "29d ago"},
           {-absl::Seconds(7), "in 7s"},
           {-absl::Minutes(2), "in 2m"},
       }) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(RelativeTime(now - c.ago, now), c.want);
  }
}

TEST(RelativeTimeTest, OldTimesAsDateAndUnsetAsDash) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);  // 2023-11-14
  EXPECT_EQ(RelativeTime(now - absl::Hours(24 * 45), now), "2023-09-30");
  EXPECT_EQ(RelativeTime(absl::InfinitePast(), now), "-");
}

TEST(RelativeTimeTest, ShortDurations) {
  struct Case {
    absl::Duration d;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {absl::ZeroDuration(), "0s"},
           {absl::Milliseconds(850), "850ms"},
           {absl::Seconds(12), "12s"},
           {absl::Seconds(65), "1m05s"},
           {absl::Hours(2) + absl::Minutes(3) + absl::Seconds(9), "2h03m"},
           {absl::Hours(76), "3d04h"},
           {-absl::Seconds(1), "-"},
       }) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(ShortDuration(c.d), c.want);
  }
}

TEST(RelativeTimeTest, FromProtoTimestamp) {
  google::protobuf::Timestamp ts;
  EXPECT_EQ(FromProto(ts), absl::InfinitePast());
  ts.set_seconds(1700000000);
  ts.set_nanos(500000000);
  EXPECT_EQ(FromProto(ts),
            absl::FromUnixSeconds(1700000000) + absl::Milliseconds(500));
}

}  // namespace
}  // namespace shapin::cli
