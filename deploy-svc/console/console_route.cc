#include "deploy-svc/console/console_route.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/request_fields.h"
#include "common/status_macros.h"
#include "deploy-svc/console/http_exchange.h"

namespace shapin::console {
namespace {

// The path's segments; "/" is none. A trailing slash is not the same page
// (one URL per page), and empty segments ("//") are not a page at all.
std::optional<std::vector<std::string>> Segments(absl::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  if (path == "/") return std::vector<std::string>();
  std::vector<std::string> parts =
      absl::StrSplit(path.substr(1), absl::ByChar('/'));
  for (const std::string& p : parts) {
    if (p.empty()) return std::nullopt;
  }
  return parts;
}

struct Shape {
  ConsolePage page;
  const char* method;
};

// Which page `parts` name, and with which method; nullopt when none.
std::optional<Shape> ShapeOf(const std::vector<std::string>& parts) {
  const size_t n = parts.size();
  if (n == 0) return Shape{ConsolePage::kEnvironments, "GET"};
  const std::string& p0 = parts[0];
  if (n == 1 && p0 == "login") return Shape{ConsolePage::kLoginForm, "GET"};
  if (n == 1 && p0 == "logout") return Shape{ConsolePage::kLogout, "POST"};
  if (n == 1 && p0 == "builds") return Shape{ConsolePage::kBuilds, "GET"};
  if (n == 2 && p0 == "builds") return Shape{ConsolePage::kBuild, "GET"};
  if (n == 2 && p0 == "api" && parts[1] == "builds") {
    return Shape{ConsolePage::kBuildsJson, "GET"};
  }
  if (n == 2 && p0 == "static" &&
      (parts[1] == "console.css" || parts[1] == "console.js")) {
    return Shape{ConsolePage::kAsset, "GET"};
  }
  if (p0 != "environments") return std::nullopt;
  if (n == 2) return Shape{ConsolePage::kEnvironment, "GET"};
  if (n == 3 && parts[2] == "history")
    return Shape{ConsolePage::kHistory, "GET"};
  if (n == 3 && parts[2] == "rollback")
    return Shape{ConsolePage::kRollback, "POST"};
  if (n == 3 && parts[2] == "release-hold") {
    return Shape{ConsolePage::kReleaseHold, "POST"};
  }
  return std::nullopt;
}

absl::StatusOr<PageRequest> PageOf(absl::string_view query) {
  const std::string token = FormValue(query, "page_token").value_or("");
  SHAPIN_RETURN_IF_ERROR(
      CheckTextField("page_token", token, kMaxPageTokenBytes));
  return ParsePageRequest(0, token);
}

}  // namespace

absl::StatusOr<Route> ParseRoute(absl::string_view method,
                                 absl::string_view path,
                                 absl::string_view query) {
  std::optional<std::vector<std::string>> parts = Segments(path);
  std::optional<Shape> shape;
  if (parts) shape = ShapeOf(*parts);
  if (!shape) {
    return absl::NotFoundError(
        absl::StrCat("no page at ", path.substr(0, 200)));
  }
  const bool login = parts->size() == 1 && (*parts)[0] == "login";
  if (login && method == "POST") shape = Shape{ConsolePage::kLogin, "POST"};
  if (method != shape->method) {
    return absl::FailedPreconditionError(absl::StrCat(
        "method ", method.substr(0, 16), " not allowed on ",
        path.substr(0, 200), " (allowed: ", AllowedMethod(path), ")"));
  }
  Route r{.page = shape->page};
  switch (r.page) {
    case ConsolePage::kEnvironment:
    case ConsolePage::kHistory:
    case ConsolePage::kRollback:
    case ConsolePage::kReleaseHold:
      r.environment = (*parts)[1];
      if (r.page == ConsolePage::kHistory) {
        SHAPIN_ASSIGN_OR_RETURN(r.page_request, PageOf(query));
      }
      break;
    case ConsolePage::kBuild: {
      SHAPIN_ASSIGN_OR_RETURN(r.build_id,
                              ParseIdField("build id", (*parts)[1]));
      break;
    }
    case ConsolePage::kBuilds:
    case ConsolePage::kBuildsJson: {
      SHAPIN_ASSIGN_OR_RETURN(r.page_request, PageOf(query));
      if (std::optional<std::string> sha = FormValue(query, "sha")) {
        SHAPIN_ASSIGN_OR_RETURN(GitSha parsed, ParseShaField("sha", *sha));
        r.sha = parsed;
      }
      break;
    }
    case ConsolePage::kAsset:
      r.asset = (*parts)[1];
      break;
    default:
      break;
  }
  return r;
}

std::string AllowedMethod(absl::string_view path) {
  if (path == "/login") return "GET, POST";
  std::optional<std::vector<std::string>> parts = Segments(path);
  if (!parts) return "";
  std::optional<Shape> shape = ShapeOf(*parts);
  if (!shape) return "";
  return shape->method;
}

}  // namespace shapin::console
