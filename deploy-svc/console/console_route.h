// The console's URLs, parsed strictly into what a page needs. Every value a
// URL carries is checked by the rules the gRPC edge uses (SHA: ParseShaField,
// ids: ParseIdField, page tokens: CheckTextField + ParsePageRequest), so a
// malformed one is a 400 naming it; an unknown path is a 404, a known path
// with the wrong method a 405.
//
//   GET  /                                   environments
//   GET  /environments/<env>                 one environment: current, hold,
//                                            rollback form, latest attempts
//   GET  /environments/<env>/history         every attempt, ?page_token=
//   POST /environments/<env>/rollback        image_sha, reason, csrf
//   POST /environments/<env>/release-hold    csrf
//   GET  /builds                             recent builds, ?sha= ?page_token=
//   GET  /builds/<id>                        one build
//   GET  /api/builds                         the same list as JSON (live view)
//   GET  /login, POST /login, POST /logout
//   GET  /static/console.css, /static/console.js
//
// The environment name is only split off here: whether it is configured is
// the pipeline's answer (unknown → 404).
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_CONSOLE_ROUTE_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_CONSOLE_ROUTE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/git_sha.h"
#include "common/pagination.h"

namespace shapin::console {

enum class ConsolePage {
  kEnvironments,
  kEnvironment,
  kHistory,
  kRollback,
  kReleaseHold,
  kBuilds,
  kBuild,
  kBuildsJson,
  kLoginForm,
  kLogin,
  kLogout,
  kAsset,
};

struct Route {
  ConsolePage page = ConsolePage::kEnvironments;
  std::string environment = "";
  int64_t build_id = 0;
  std::optional<GitSha> sha = std::nullopt;  // /builds?sha=
  PageRequest page_request = {};
  std::string asset = "";  // "console.css" | "console.js"
};

// NOT_FOUND for a path the console does not serve; FAILED_PRECONDITION
// "method X not allowed (allowed: Y)" for a known path and another method;
// INVALID_ARGUMENT naming the parameter for a malformed one.
absl::StatusOr<Route> ParseRoute(absl::string_view method,
                                 absl::string_view path,
                                 absl::string_view query);

// The Allow header for a FAILED_PRECONDITION of ParseRoute: "GET", "POST"
// or "GET, POST"; empty for a path the console does not serve.
std::string AllowedMethod(absl::string_view path);

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_CONSOLE_ROUTE_H_
