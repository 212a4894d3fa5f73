// Human time for tables and pages: "just now", "3m ago", "2h ago", "in 5s",
// and short durations "850ms", "12s", "1m05s", "2h03m". Shared by the CLI and
// the web console, so both say the same thing about one deployment.
//
//   RelativeTime(build.created_at, absl::Now())  // "3m ago"
//   ShortDuration(absl::Seconds(65))            // "1m05s"
#ifndef SHAPIN_COMMON_HUMAN_TIME_H_
#define SHAPIN_COMMON_HUMAN_TIME_H_

#include <string>

#include "absl/time/time.h"

namespace shapin {

// How long ago `t` was, seen at `now`, in its largest whole unit: seconds up
// to a minute, minutes up to an hour, hours up to a day, days up to 30 days;
// older than that the UTC date ("2024-01-31"). Under 5 s is "just now"; a time
// after `now` (clock skew) is "in 5s". InfinitePast (unset) is "-".
std::string RelativeTime(absl::Time t, absl::Time now);

// A duration for a column: "0s", "850ms" under a second, "12s", "1m05s",
// "2h03m", "3d04h". Negative durations print as "-".
std::string ShortDuration(absl::Duration d);

}  // namespace shapin

#endif  // SHAPIN_COMMON_HUMAN_TIME_H_
