#include "deploy-svc/console/console_app.h"

#include <exception>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/method_roles.h"
#include "common/auth/token_hash.h"
#include "common/error_code.h"
#include "common/log.h"
#include "common/request_fields.h"
#include "deploy-svc/console/build_pages.h"
#include "deploy-svc/console/console_assets.h"
#include "deploy-svc/console/console_route.h"
#include "deploy-svc/console/page_layout.h"
#include "deploy-svc/console/same_origin.h"
#include "nlohmann/json.hpp"

namespace shapin::console {
namespace {

// The RPC each page stands for: its role rule is the page's.
constexpr absl::string_view kReadDeployments =
    "/shapin.v1.DeployService/ListDeployments";
constexpr absl::string_view kReadBuilds = "/shapin.v1.BuildService/ListBuilds";
constexpr absl::string_view kRollback = "/shapin.v1.DeployService/Rollback";
constexpr absl::string_view kReleaseHold =
    "/shapin.v1.DeployService/ReleaseHold";

constexpr int kRecentAttempts = 10;
constexpr int kRollbackTargets = 20;

// Headers of every answer: nothing cached, nothing framed, scripts and
// styles only from the console itself.
void AddSecurityHeaders(HttpResponse& r) {
  r.headers.insert(r.headers.begin(),
                   {{"Cache-Control", "no-store"},
                    {"X-Content-Type-Options", "nosniff"},
                    {"X-Frame-Options", "DENY"},
                    {"Referrer-Policy", "same-origin"},
                    {"Content-Security-Policy",
                     "default-src 'none'; script-src 'self'; style-src 'self'; "
                     "img-src 'self'; connect-src 'self'; form-action 'self'; "
                     "frame-ancestors 'none'; base-uri 'none'"}});
}

HttpResponse Html(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse SeeOther(absl::string_view location) {
  HttpResponse r;
  r.status = 303;
  r.headers.push_back({"Location", std::string(location)});
  r.body = "";
  return r;
}

std::string EnvironmentPath(absl::string_view name) {
  return absl::StrCat("/environments/", UrlEncode(name));
}

std::optional<auth::Role> PageRole(absl::string_view method) {
  return auth::RequiredRole(method);
}

// PERMISSION_DENIED naming the role unless `identity` may do what `method`
// (a gRPC method the page stands for) does.
absl::Status RequirePageRole(const auth::Identity& identity,
                             absl::string_view method, absl::string_view what) {
  std::optional<auth::Role> role = PageRole(method);
  if (!role) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, " has no authorization rule"));
  }
  return auth::RequireRole(identity, *role, what);
}

bool IsPost(const HttpRequest& r) { return r.method == "POST"; }

}  // namespace

int HttpStatusFor(const absl::Status& status) {
  if (std::optional<ErrorCode> code = ErrorCodeOf(status)) {
    if (*code == ErrorCode::kTargetFailure ||
        *code == ErrorCode::kRolloutFailure) {
      return 502;
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kDataLoss:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

struct ConsoleApp::Caller {
  Session session;
  auth::Identity identity;

  PageContext Context(std::string notice = "") const {
    const bool can_operate =
        identity.roles.Has(PageRole(kRollback).value_or(auth::Role::kOperator));
    return PageContext{.viewer = Viewer{.identity = identity.name,
                                        .roles = identity.roles.ToString(),
                                        .can_operate = can_operate,
                                        .csrf_token = session.csrf_token},
                       .now = absl::Now(),
                       .notice = std::move(notice)};
  }
};

ConsoleApp::ConsoleApp(deploy::DeploymentStore& store,
                       deploy::DeployPipeline& pipeline, BuildHistory& builds,
                       std::shared_ptr<const auth::AuthPolicy> auth,
                       SessionStore& sessions,
                       std::vector<ConsoleEnvironment> environments,
                       ConsoleOptions options)
    : store_(store),
      pipeline_(pipeline),
      builds_(builds),
      auth_(std::move(auth)),
      sessions_(sessions),
      environments_(std::move(environments)),
      options_(std::move(options)) {}

std::string ConsoleApp::CookieName() const {
  return options_.tls || absl::StartsWith(options_.public_origin, "https://")
             ? "__Host-shapin_session"
             : "shapin_session";
}

HttpResponse ConsoleApp::Handle(const HttpRequest& request) {
  HttpResponse response;
  try {
    response = Dispatch(request);
  } catch (const std::exception& e) {
    LogError("console_request_failed", {{"method", request.method},
                                        {"path", request.path.substr(0, 200)},
                                        {"error", e.what()}});
    response = Html(500, RenderErrorPage({.now = absl::Now()}, 500,
                                         "The console failed to answer this "
                                         "request; the deploy-svc log has "
                                         "the details "
                                         "(event=console_request_failed)."));
  }
  AddSecurityHeaders(response);
  return response;
}

HttpResponse ConsoleApp::Dispatch(const HttpRequest& request) {
  absl::StatusOr<Route> route =
      ParseRoute(request.method, request.path, request.query);
  if (!route.ok()) {
    if (absl::IsFailedPrecondition(route.status())) {
      HttpResponse r = Html(405, RenderErrorPage({.now = absl::Now()}, 405,
                                                 route.status().message()));
      r.headers.push_back({"Allow", AllowedMethod(request.path)});
      return r;
    }
    return Error(nullptr, route.status());
  }
  switch (route->page) {
    case ConsolePage::kAsset: {
      std::optional<ConsoleAsset> asset = FindConsoleAsset(route->asset);
      if (!asset) return Error(nullptr, absl::NotFoundError("no such asset"));
      HttpResponse r;
      r.content_type = std::string(asset->content_type);
      r.body = std::string(asset->content);
      return r;
    }
    case ConsolePage::kLoginForm:
      if (CallerOf(request).ok()) return SeeOther("/");
      return Html(200, RenderLoginPage(""));
    case ConsolePage::kLogin:
      return Login(request);
    default:
      break;
  }

  absl::StatusOr<Caller> caller = CallerOf(request);
  if (!caller.ok()) {
    if (route->page == ConsolePage::kBuildsJson) {
      return Error(nullptr, caller.status(), /*json=*/true);
    }
    // A page asks for the token; a form sent with an expired session says so.
    if (!IsPost(request)) return SeeOther("/login");
    HttpResponse r = Html(401, RenderLoginPage(absl::StrCat(
                                   caller.status().message(),
                                   ": sign in again, then repeat the action")));
    return r;
  }
  if (IsPost(request)) {
    // Same origin, and the session's own form.
    absl::Status origin = CheckSameOrigin(
        request, ExpectedOrigin(options_.public_origin, options_.tls,
                                request.Header("host").value_or("")));
    if (!origin.ok()) {
      LogWarning("console_post_refused", {{"identity", caller->identity.name},
                                          {"path", request.path.substr(0, 200)},
                                          {"remote", request.remote_addr},
                                          {"reason", origin.message()}});
      return Error(&*caller, origin);
    }
    if (!SessionStore::CsrfMatches(
            caller->session, FormValue(request.body, "csrf").value_or(""))) {
      LogWarning("console_post_refused", {{"identity", caller->identity.name},
                                          {"path", request.path.substr(0, 200)},
                                          {"remote", request.remote_addr},
                                          {"reason", "csrf token mismatch"}});
      return Error(&*caller,
                   absl::PermissionDeniedError(
                       "the form's CSRF token is not this session's: reload "
                       "the page and try again"));
    }
  }

  switch (route->page) {
    case ConsolePage::kLogout:
      return Logout(request, *caller);
    case ConsolePage::kEnvironments:
      return Environments(*caller);
    case ConsolePage::kEnvironment:
      return EnvironmentPage(*caller, route->environment);
    case ConsolePage::kHistory:
      return History(
          *caller, route->environment, route->page_request,
          FormValue(request.query, "page_token").value_or("").empty());
    case ConsolePage::kRollback:
      return Rollback(request, *caller, route->environment);
    case ConsolePage::kReleaseHold:
      return ReleaseHold(*caller, route->environment);
    case ConsolePage::kBuilds:
    case ConsolePage::kBuildsJson:
      return Builds(*caller, route->sha, route->page_request,
                    FormValue(request.query, "page_token").value_or(""),
                    route->page == ConsolePage::kBuildsJson);
    case ConsolePage::kBuild:
      return Build(*caller, route->build_id);
    default:
      return Error(&*caller, absl::NotFoundError("no such page"));
  }
}

absl::StatusOr<ConsoleApp::Caller> ConsoleApp::CallerOf(
    const HttpRequest& request) {
  std::optional<std::string> id =
      CookieValue(request.Header("cookie").value_or(""), CookieName());
  if (!id) return absl::UnauthenticatedError("not signed in");
  std::optional<Session> session = sessions_.Find(*id);
  if (!session) return absl::UnauthenticatedError("the session has ended");
  absl::StatusOr<auth::Identity> identity =
      session->token_sha256.empty()
          ? auth::Authenticate(*auth_, {})
          : auth::AuthenticateTokenSha256(*auth_, session->token_sha256);
  if (!identity.ok()) {
    // Revoked since sign-in (or auth became required): the session ends.
    sessions_.Erase(*id);
    LogInfo("console_session_ended", {{"identity", session->identity},
                                      {"reason", "token no longer valid"}});
    return absl::UnauthenticatedError("the session's token is no longer valid");
  }
  return Caller{*std::move(session), *std::move(identity)};
}

HttpResponse ConsoleApp::Login(const HttpRequest& request) {
  if (absl::Status origin = CheckSameOrigin(
          request, ExpectedOrigin(options_.public_origin, options_.tls,
                                  request.Header("host").value_or("")));
      !origin.ok()) {
    LogWarning("console_login_refused",
               {{"remote", request.remote_addr}, {"reason", origin.message()}});
    return Html(403, RenderLoginPage(origin.message()));
  }
  const std::string token = FormValue(request.body, "token").value_or("");
  auth::CallCredentials credentials;
  if (!token.empty())
    credentials.authorization = absl::StrCat("Bearer ", token);
  absl::StatusOr<auth::Identity> identity =
      auth::Authenticate(*auth_, credentials);
  if (!identity.ok()) {
    LogWarning("console_login_failed",
               {{"remote", request.remote_addr},
                {"reason", token.empty() ? "no token" : "unknown token"}});
    return Html(401, RenderLoginPage(token.empty()
                                         ? "Enter an API token."
                                         : "That token is not known (see "
                                           "auth.tokens_file and shapin-tokens "
                                           "list)."));
  }
  if (absl::Status s =
          RequirePageRole(*identity, kReadDeployments, "the console");
      !s.ok()) {
    LogWarning("console_login_failed", {{"remote", request.remote_addr},
                                        {"identity", identity->name},
                                        {"reason", "no viewer role"}});
    return Html(403, RenderLoginPage(s.message()));
  }
  Session session = sessions_.Create(
      token.empty() ? std::string() : auth::TokenSha256Hex(token),
      identity->name);
  LogInfo("console_login", {{"identity", identity->name},
                            {"roles", identity->roles.ToString()},
                            {"remote", request.remote_addr}});
  HttpResponse r = SeeOther("/");
  r.headers.push_back(
      {"Set-Cookie",
       absl::StrCat(CookieName(), "=", session.id,
                    "; Path=/; HttpOnly; SameSite=Strict; Max-Age=",
                    absl::ToInt64Seconds(options_.session_max_age),
                    CookieName() == "shapin_session" ? "" : "; Secure")});
  return r;
}

HttpResponse ConsoleApp::Logout(const HttpRequest& request,
                                const Caller& caller) {
  sessions_.Erase(caller.session.id);
  LogInfo("console_logout", {{"identity", caller.identity.name},
                             {"remote", request.remote_addr}});
  HttpResponse r = SeeOther("/login");
  r.headers.push_back(
      {"Set-Cookie",
       absl::StrCat(CookieName(),
                    "=; Path=/; HttpOnly; SameSite=Strict; "
                    "Max-Age=0",
                    CookieName() == "shapin_session" ? "" : "; Secure")});
  return r;
}

const ConsoleEnvironment* ConsoleApp::FindConsoleEnvironment(
    const std::string& name) const {
  for (const ConsoleEnvironment& env : environments_) {
    if (env.name == name) return &env;
  }
  return nullptr;
}

EnvironmentStatus ConsoleApp::StatusOf(const ConsoleEnvironment& env) {
  EnvironmentStatus status{.name = env.name, .target = env.target};
  absl::StatusOr<deploy::DeploymentRecord> current =
      store_.GetCurrent(env.name);
  if (current.ok()) {
    status.current = *std::move(current);
  } else if (!absl::IsNotFound(current.status())) {
    status.error = std::string(current.status().message());
    return status;
  }
  absl::StatusOr<Page<deploy::DeploymentRecord>> latest =
      store_.ListDeployments(env.name, {.page_size = 1});
  if (latest.ok() && !latest->items.empty()) {
    status.latest = std::move(latest->items.front());
  }
  absl::StatusOr<deploy::HoldRecord> hold = store_.GetHold(env.name);
  if (!hold.ok()) {
    status.error = std::string(hold.status().message());
    return status;
  }
  status.hold = *std::move(hold);
  return status;
}

HttpResponse ConsoleApp::Environments(const Caller& caller) {
  if (absl::Status s =
          RequirePageRole(caller.identity, kReadDeployments, "Environments");
      !s.ok()) {
    return Error(&caller, s);
  }
  std::vector<EnvironmentStatus> envs;
  for (const ConsoleEnvironment& env : environments_) {
    envs.push_back(StatusOf(env));
  }
  return Html(
      200, RenderEnvironmentsPage(
               caller.Context(sessions_.TakeNotice(caller.session.id)), envs));
}

HttpResponse ConsoleApp::EnvironmentPage(const Caller& caller,
                                         const std::string& name) {
  if (absl::Status s =
          RequirePageRole(caller.identity, kReadDeployments, "Environment");
      !s.ok()) {
    return Error(&caller, s);
  }
  const ConsoleEnvironment* env = FindConsoleEnvironment(name);
  if (absl::Status known = pipeline_.FindEnvironment(name).status();
      !known.ok() || env == nullptr) {
    return Error(&caller, absl::NotFoundError(known.message()));
  }
  EnvironmentView view;
  view.status = StatusOf(*env);
  if (!view.status.error.empty()) {
    return Error(&caller, absl::UnavailableError(view.status.error));
  }
  absl::StatusOr<std::vector<deploy::RollbackCandidate>> targets =
      store_.RollbackCandidates(name, pipeline_.canonical_repository(),
                                kRollbackTargets);
  if (!targets.ok()) return Error(&caller, targets.status());
  for (deploy::RollbackCandidate& c : *targets) {
    if (view.status.current && view.status.current->image_sha == c.git_sha) {
      continue;
    }
    view.targets.push_back(std::move(c));
  }
  absl::StatusOr<Page<deploy::DeploymentRecord>> recent =
      store_.ListDeployments(name, {.page_size = kRecentAttempts});
  if (!recent.ok()) return Error(&caller, recent.status());
  view.recent = std::move(recent->items);
  view.more_history = recent->next_before_id.has_value();
  return Html(
      200, RenderEnvironmentPage(
               caller.Context(sessions_.TakeNotice(caller.session.id)), view));
}

HttpResponse ConsoleApp::History(const Caller& caller, const std::string& name,
                                 const PageRequest& page, bool first_page) {
  if (absl::Status s =
          RequirePageRole(caller.identity, kReadDeployments, "History");
      !s.ok()) {
    return Error(&caller, s);
  }
  if (absl::Status known = pipeline_.FindEnvironment(name).status();
      !known.ok()) {
    return Error(&caller, absl::NotFoundError(known.message()));
  }
  absl::StatusOr<Page<deploy::DeploymentRecord>> list =
      store_.ListDeployments(name, page);
  if (!list.ok()) return Error(&caller, list.status());
  return Html(200,
              RenderHistoryPage(caller.Context(), name, *list, first_page));
}

HttpResponse ConsoleApp::Rollback(const HttpRequest& request,
                                  const Caller& caller,
                                  const std::string& name) {
  if (absl::Status s = RequirePageRole(caller.identity, kRollback, "Rollback");
      !s.ok()) {
    LogWarning("console_post_refused", {{"identity", caller.identity.name},
                                        {"path", request.path.substr(0, 200)},
                                        {"reason", s.message()}});
    return Error(&caller, s);
  }
  if (absl::Status known = pipeline_.FindEnvironment(name).status();
      !known.ok()) {
    return Error(&caller, absl::NotFoundError(known.message()));
  }
  const std::string reason = FormValue(request.body, "reason").value_or("");
  absl::StatusOr<GitSha> sha = ParseShaField(
      "image_sha", FormValue(request.body, "image_sha").value_or(""));
  if (!sha.ok()) return Error(&caller, sha.status());
  if (absl::Status s = CheckTextField("reason", reason, kMaxReasonBytes);
      !s.ok()) {
    return Error(&caller, s);
  }
  deploy::CallLimits call{.deadline = absl::Now() + options_.lock_wait};
  LogInfo("console_rollback", {{"environment", name},
                               {"git_sha", sha->str()},
                               {"requested_by", caller.identity.name}});
  absl::StatusOr<deploy::DeploymentRecord> d =
      pipeline_.Rollback(name, *sha, reason, caller.identity.name, call);
  if (!d.ok()) return Error(&caller, d.status());
  sessions_.SetNotice(
      caller.session.id,
      absl::StrCat("Rolled ", name, " back to ", d->image_sha.short_sha(),
                   " (deployment #", d->deployment_id,
                   "); the environment is held."));
  return SeeOther(EnvironmentPath(name));
}

HttpResponse ConsoleApp::ReleaseHold(const Caller& caller,
                                     const std::string& name) {
  if (absl::Status s =
          RequirePageRole(caller.identity, kReleaseHold, "ReleaseHold");
      !s.ok()) {
    return Error(&caller, s);
  }
  absl::StatusOr<deploy::HoldRecord> hold =
      pipeline_.ReleaseHold(name, caller.identity.name);
  if (!hold.ok()) {
    if (absl::IsInvalidArgument(hold.status()) &&
        !pipeline_.FindEnvironment(name).ok()) {
      return Error(&caller, absl::NotFoundError(hold.status().message()));
    }
    return Error(&caller, hold.status());
  }
  sessions_.SetNotice(caller.session.id,
                      absl::StrCat("Released the hold on ", name, "."));
  return SeeOther(EnvironmentPath(name));
}

HttpResponse ConsoleApp::Builds(const Caller& caller,
                                const std::optional<GitSha>& sha,
                                const PageRequest& page,
                                const std::string& page_token, bool json) {
  if (absl::Status s = RequirePageRole(caller.identity, kReadBuilds, "Builds");
      !s.ok()) {
    return Error(&caller, s, json);
  }
  absl::StatusOr<Page<build::BuildRecord>> list = builds_.ListBuilds(sha, page);
  if (!list.ok()) return Error(&caller, list.status(), json);
  if (json) {
    HttpResponse r;
    r.content_type = "application/json";
    r.body = BuildsJson(*list, absl::Now());
    return r;
  }
  return Html(200, RenderBuildsPage(caller.Context(), *list, sha, page_token));
}

HttpResponse ConsoleApp::Build(const Caller& caller, int64_t build_id) {
  if (absl::Status s = RequirePageRole(caller.identity, kReadBuilds, "Build");
      !s.ok()) {
    return Error(&caller, s);
  }
  absl::StatusOr<build::BuildRecord> b = builds_.GetBuild(build_id);
  if (!b.ok()) return Error(&caller, b.status());
  return Html(200, RenderBuildPage(caller.Context(), *b));
}

HttpResponse ConsoleApp::Error(const Caller* caller, const absl::Status& status,
                               bool json) {
  const int code = HttpStatusFor(status);
  std::string message(Logger::Global().Redact(status.message()));
  if (code == 500) {
    // Internal: the log has it, the page does not.
    LogError("console_request_failed", {{"error", message}});
    message =
        "The console failed to answer this request; the deploy-svc log has "
        "the details (event=console_request_failed).";
  }
  if (json) {
    HttpResponse r;
    r.status = code;
    r.content_type = "application/json";
    r.body = nlohmann::json{{"error", message}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
  }
  PageContext ctx =
      caller ? caller->Context() : PageContext{.now = absl::Now()};
  return Html(code, RenderErrorPage(ctx, code, message));
}

}  // namespace shapin::console
