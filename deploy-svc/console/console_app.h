// ConsoleApp: the operator web console's edge, the HTTP counterpart of
// DeployServiceImpl. Thin like it: request → route (strictly parsed) →
// session and role → one call into the store, the build history or the
// deploy pipeline → a rendered page.
//
// Authentication is the gRPC API's: the sign-in form takes a bearer token,
// checks it with auth::Authenticate (tokens file and database tokens), and
// opens a server-side session (session_store.h); every later request checks
// the session's token again (AuthenticateTokenSha256), so a revoked token
// stops working within auth.refresh_interval. Each page needs the role of
// the RPC it stands for (auth::RequiredRole: reads → viewer, rollback and
// release hold → operator), so the console has no role table of its own.
// Every POST must pass the same-origin check and carry the session's CSRF
// token. Rollback and release hold are DeployPipeline::Rollback/ReleaseHold,
// as for the gRPC edge, with requested_by = the signed-in identity.
//
// The token never appears in a URL (the form POSTs it), a response or a log
// line. Errors are pages with the matching status (400 malformed SHA or id,
// 404 unknown page or environment, 403 refused, 409 conflicts, …) and the
// domain's message; an exception is a 500 page and a log line, never a trace.
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_CONSOLE_APP_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_CONSOLE_APP_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/auth/call_auth.h"
#include "deploy-svc/console/build_history.h"
#include "deploy-svc/console/environment_pages.h"
#include "deploy-svc/console/http_exchange.h"
#include "deploy-svc/console/session_store.h"
#include "deploy-svc/deploy_pipeline.h"
#include "deploy-svc/deployment_store.h"

namespace shapin::console {

// A configured environment as the overview lists it.
struct ConsoleEnvironment {
  std::string name;
  std::string target;
};

struct ConsoleOptions {
  // console.public_origin; empty = the listener's scheme and the Host.
  std::string public_origin = "";
  // The listener speaks HTTPS (cookies are then Secure and __Host-).
  bool tls = false;
  absl::Duration session_max_age = absl::Hours(12);
  // How long a rollback from the console waits for a busy environment
  // before answering 409 with who holds it (the pipeline's own
  // deploy.lock_wait still applies when shorter).
  absl::Duration lock_wait = absl::Minutes(1);
};

// The status an error is answered with: 400, 401, 403, 404, 409, 502 (the
// target or rollout failed), 503, 504, else 500.
int HttpStatusFor(const absl::Status& status);

class ConsoleApp {
 public:
  // All references must outlive the app.
  ConsoleApp(deploy::DeploymentStore& store, deploy::DeployPipeline& pipeline,
             BuildHistory& builds, std::shared_ptr<const auth::AuthPolicy> auth,
             SessionStore& sessions,
             std::vector<ConsoleEnvironment> environments,
             ConsoleOptions options);

  // Thread-safe; called by the HTTP server's worker threads.
  HttpResponse Handle(const HttpRequest& request);

  // The session cookie's name: "__Host-shapin_session" over HTTPS (bound to
  // this host, Secure), "shapin_session" otherwise.
  std::string CookieName() const;

 private:
  struct Caller;
  HttpResponse Dispatch(const HttpRequest& request);
  HttpResponse Login(const HttpRequest& request);
  HttpResponse Logout(const HttpRequest& request, const Caller& caller);
  HttpResponse Environments(const Caller& caller);
  HttpResponse EnvironmentPage(const Caller& caller, const std::string& name);
  HttpResponse History(const Caller& caller, const std::string& name,
                       const PageRequest& page, bool first_page);
  HttpResponse Rollback(const HttpRequest& request, const Caller& caller,
                        const std::string& name);
  HttpResponse ReleaseHold(const Caller& caller, const std::string& name);
  HttpResponse Builds(const Caller& caller, const std::optional<GitSha>& sha,
                      const PageRequest& page, const std::string& page_token,
                      bool json);
  HttpResponse Build(const Caller& caller, int64_t build_id);

  // The caller behind the request's session; UNAUTHENTICATED when there is
  // none (or its token was revoked).
  absl::StatusOr<Caller> CallerOf(const HttpRequest& request);
  // An error page (or JSON error) for `status`.
  HttpResponse Error(const Caller* caller, const absl::Status& status,
                     bool json = false);
  // What the overview shows of one environment.
  EnvironmentStatus StatusOf(const ConsoleEnvironment& env);
  const ConsoleEnvironment* FindConsoleEnvironment(
      const std::string& name) const;

  deploy::DeploymentStore& store_;
  deploy::DeployPipeline& pipeline_;
  BuildHistory& builds_;
  const std::shared_ptr<const auth::AuthPolicy> auth_;
  SessionStore& sessions_;
  const std::vector<ConsoleEnvironment> environments_;
  const ConsoleOptions options_;
};

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_CONSOLE_APP_H_
