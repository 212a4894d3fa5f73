#include "build-svc/build_change.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace shapin::build {

std::optional<BuildChange> ParseBuildChange(absl::string_view payload) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(payload, absl::MaxSplits(' ', 1));
  BuildChange change;
  if (!absl::SimpleAtoi(parts.first, &change.build_id) ||
      change.build_id <= 0) {
    return std::nullopt;
  }
  if (parts.second == "log") return change;
  change.state = ParseBuildState(parts.second);
  if (!change.state) return std::nullopt;
  return change;
}

}  // namespace shapin::build
