// AkashConsoleTarget: applies SDLs through the Akash Console API (managed
// wallet), https://console-api.akash.network.
//
// Apply on an environment with a deployment (dseq from settings, else the
// previous deploy's target_ref):
//   GET /v1/deployments/{dseq}   the hash before (previous_revision)
//   PUT /v1/deployments/{dseq}   {data:{sdl}}; the service broadcasts the
//                                update when the manifest hash differs and
//                                sends the manifest to every lease
// Apply on an environment without one, only with settings allow_create:
//   POST /v1/deployments {data:{sdl[, deposit]}} → dseq, manifest
//   GET  /v1/bids?dseq=N  until every order has an open bid from an allowed
//                         provider (bounded by bid_timeout), lowest price wins
//   POST /v1/leases {manifest, leases:[{dseq,gseq,oseq,provider}]}
// CheckRollout: GET /v1/deployments/{dseq}; done when the hash differs from
// the previous one and every service of every active lease has
// available/updated replicas ≥ total.
//
// The API key is read once from the environment variable named in the
// options, registered with the logger as a secret, sent only as
// `x-api-key`, and never part of a message. Requests are retried on
// 408/429/5xx and connection errors with bounded exponential backoff
// (through the injected clock); creating a deployment is retried only when
// the request provably never reached the server.
//
// Settings (per environment):
//   dseq          existing deployment sequence (digits)
//   allow_create  "true" to create a deployment when there is no dseq
//   providers     comma-separated provider addresses bids may come from
//                 (required for creation)
//   denom         only bids in this denom (e.g. "uakt"); default any
//   deposit       deposit in USD for creation (number; optional)
//
//   AkashConsoleOptions o;
//   o.base_url = "https://console-api.akash.network";
//   o.api_key_env = "AKASH_CONSOLE_API_KEY";
//   SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<AkashConsoleTarget> target,
//                           AkashConsoleTarget::Create(std::move(o)));
#ifndef SHAPIN_DEPLOY_SVC_ADAPTERS_AKASH_CONSOLE_TARGET_H_
#define SHAPIN_DEPLOY_SVC_ADAPTERS_AKASH_CONSOLE_TARGET_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/registry/clock.h"
#include "common/registry/http.h"
#include "deploy-svc/deploy_target.h"

namespace shapin::deploy {

struct AkashConsoleOptions {
  // Without a trailing slash. Plain http only for loopback (tests).
  std::string base_url = "https://console-api.akash.network";
  // NAME of the environment variable holding the API key.
  std::string api_key_env = "AKASH_CONSOLE_API_KEY";
  // PEM bundle for TLS; empty = system bundle.
  std::string ca_file;
  // The name on the Console's certificate when base_url names another
  // address (an IP, a tunnel): SNI, the certificate check and the Host
  // header use it, the connection goes to base_url's host. Empty: base_url's
  // host. Needs an https base_url.
  std::string tls_server_name;

  // Attempts per request in total (1 = no retry), backoff between them.
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(8);
  absl::Duration request_timeout = absl::Seconds(60);

  // Creation: how long to wait for acceptable bids, how often to ask.
  absl::Duration bid_timeout = absl::Minutes(2);
  absl::Duration bid_poll_interval = absl::Seconds(3);

  // Time and waiting; default: the real clock. Must outlive the target.
  registry::Clock* clock = nullptr;
  // Transport under test; default: a CurlTransport. Owned.
  std::unique_ptr<registry::HttpTransport> transport;
};

class AkashConsoleTarget : public DeployTarget {
 public:
  // FAILED_PRECONDITION naming the variable (never its value) when the API
  // key variable is unset or empty; INVALID_ARGUMENT for a base_url that is
  // not http(s) or plain http to a non-loopback host, and for a
  // tls_server_name that is not a host name or comes with plain http.
  static absl::StatusOr<std::unique_ptr<AkashConsoleTarget>> Create(
      AkashConsoleOptions options);

  absl::string_view Name() const override { return "akash-console"; }
  absl::Status ValidateSettings(const TargetSettings& settings) const override;
  absl::StatusOr<ApplyResult> Apply(const ApplyRequest& request) override;
  absl::StatusOr<RolloutStatus> CheckRollout(
      const RolloutQuery& query) override;

 private:
  enum class Retry { kAlways, kOnlyUnsent };

  AkashConsoleTarget(AkashConsoleOptions options, std::string api_key);

  // One API call with retries. 2xx → parsed body; other statuses and
  // transport errors → TARGET_FAILURE / UNAVAILABLE with context.
  absl::StatusOr<std::string> Call(absl::string_view method,
                                   const std::string& path,
                                   const std::string& body, Retry retry);
  absl::StatusOr<ApplyResult> Update(const std::string& dseq,
                                     const std::string& sdl);
  absl::StatusOr<ApplyResult> CreateDeployment(const ApplyRequest& request);

  AkashConsoleOptions options_;
  std::string api_key_;
  registry::Clock* clock_;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_ADAPTERS_AKASH_CONSOLE_TARGET_H_
