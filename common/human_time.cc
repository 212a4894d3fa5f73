#include "common/human_time.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shapin {

std::string RelativeTime(absl::Time t, absl::Time now) {
  if (t == absl::InfinitePast()) return "-";
  const bool future = t > now;
  const absl::Duration d = future ? t - now : now - t;
  if (!future && d < absl::Seconds(5)) return "just now";
  std::string amount;
  if (d < absl::Minutes(1)) {
    amount = absl::StrCat(absl::ToInt64Seconds(d), "s");
  } else if (d < absl::Hours(1)) {
    amount = absl::StrCat(absl::ToInt64Minutes(d), "m");
  } else if (d < absl::Hours(24)) {
    amount = absl::StrCat(absl::ToInt64Hours(d), "h");
  } else if (d < absl::Hours(24 * 30)) {
    amount = absl::StrCat(absl::ToInt64Hours(d) / 24, "d");
  } else {
    return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone());
  }
  return future ? absl::StrCat("in ", amount) : absl::StrCat(amount, " ago");
}

std::string ShortDuration(absl::Duration d) {
  if (d < absl::ZeroDuration()) return "-";
  if (d == absl::ZeroDuration()) return "0s";
  if (d < absl::Seconds(1)) {
    return absl::StrCat(absl::ToInt64Milliseconds(d), "ms");
  }
  const int64_t s = absl::ToInt64Seconds(d);
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 86400) return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
  return absl::StrFormat("%dd%02dh", s / 86400, s % 86400 / 3600);
}

}  // namespace shapin
