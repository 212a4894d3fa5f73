// The build pages: recent builds (state, outcome, canonical or staging, the
// phase while running, kept current by console.js from BuildsJson), and one
// build. Pure: HTML and JSON out of build-svc's records.
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_BUILD_PAGES_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_BUILD_PAGES_H_

#include <optional>
#include <string>

#include "build-svc/build_record.h"
#include "common/git_sha.h"
#include "common/pagination.h"
#include "deploy-svc/console/page_layout.h"

namespace shapin::console {

// What the build amounted to: "built" (published), "reused", "reproduced",
// "mismatch" (a rebuild whose digest differs from the published one), or
// empty while it runs or when it failed.
std::string BuildOutcomeLabel(const build::BuildRecord& b);

// `filter`: the SHA the list is limited to; `page_token`: the one this page
// was asked with (empty: the newest).
std::string RenderBuildsPage(const PageContext& ctx,
                             const Page<build::BuildRecord>& page,
                             const std::optional<GitSha>& filter,
                             const std::string& page_token);

std::string RenderBuildPage(const PageContext& ctx,
                            const build::BuildRecord& b);

// {"builds": [{"build_id", "state", "phase", "outcome", "duration",
// "error"}], "active": N}: what a live row shows, for console.js.
std::string BuildsJson(const Page<build::BuildRecord>& page, absl::Time now);

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_BUILD_PAGES_H_
