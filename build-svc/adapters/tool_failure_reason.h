// Why an external tool (git, buildah) failed, in one line for an error
// message: the last non-empty lines of its stderr (else stdout), joined with
// "; ", at most 8 lines and about 1.5 KB; the exit code or signal when it
// printed nothing.
#ifndef SHAPIN_BUILD_SVC_ADAPTERS_TOOL_FAILURE_REASON_H_
#define SHAPIN_BUILD_SVC_ADAPTERS_TOOL_FAILURE_REASON_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/subprocess.h"

namespace shapin {

// `skip_line` drops noise (progress lines) that would crowd out the reason;
// may be empty.
std::string ToolFailureReason(
    const SubprocessResult& result,
    const std::function<bool(absl::string_view)>& skip_line = nullptr);

}  // namespace shapin

#endif  // SHAPIN_BUILD_SVC_ADAPTERS_TOOL_FAILURE_REASON_H_
