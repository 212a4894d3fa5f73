#include "build-svc/adapters/tool_failure_reason.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace shapin {
namespace {

constexpr size_t kReasonMaxLines = 8;
constexpr size_t kReasonMaxBytes = 1500;

std::string Tail(absl::string_view output,
                 const std::function<bool(absl::string_view)>& skip_line) {
  std::vector<absl::string_view> lines;
  for (absl::string_view line :
       absl::StrSplit(output, absl::ByAnyChar("\r\n"))) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty() && !(skip_line && skip_line(line))) lines.push_back(line);
  }
  if (lines.size() > kReasonMaxLines) {
    lines.erase(lines.begin(), lines.end() - kReasonMaxLines);
  }
  std::string tail = absl::StrJoin(lines, "; ");
  if (tail.size() > kReasonMaxBytes) {
    tail = absl::StrCat("…", tail.substr(tail.size() - kReasonMaxBytes));
  }
  return tail;
}

}  // namespace

std::string ToolFailureReason(
    const SubprocessResult& result,
    const std::function<bool(absl::string_view)>& skip_line) {
  std::string reason = Tail(result.stderr_data, skip_line);
  if (reason.empty()) reason = Tail(result.stdout_data, skip_line);
  if (reason.empty()) {
    reason = result.term_signal != 0
                 ? absl::StrCat("killed by signal ", result.term_signal)
                 : absl::StrCat("exit code ", result.exit_code);
  }
  return reason;
}

}  // namespace shapin
