// AkashCliTarget: applies SDLs to an existing Akash deployment with the
// `provider-services` CLI (a local key signs the transaction).
//
// Apply (argv only, through RunSubprocess; the SDL goes to a temp file):
//   [keys show FROM -a]                        owner, unless configured
//   query deployment get --owner O --dseq N    version before (the hash)
//   [query market lease list … --state active] providers, unless configured
//   tx deployment update SDL --dseq N --from FROM … -y --output json
//   send-manifest SDL --dseq N --provider P --from FROM … --output json
//                                              per provider, retried: right
//                                              after the tx the provider may
//                                              not see the new version yet
// CheckRollout: the deployment's version differs from the previous one and
// `lease-status` of every lease reports all services' replicas available.
// Every output is parsed as JSON; a failure carries the CLI's stderr tail.
// Creating a deployment is not supported here (use akash-console or do it
// once by hand): an environment without a dseq is FAILED_PRECONDITION.
//
// Settings (per environment):
//   from             key name in the keyring (required)
//   dseq             deployment sequence (else the previous target_ref)
//   provider         provider address (else every active lease's)
//   gseq, oseq       with `provider` (default 1, 1)
//   owner            owner address (else `keys show FROM -a`)
//   node, chain_id, keyring_backend, home     passed as --node, --chain-id,
//                                             --keyring-backend, --home
//   gas, gas_adjustment, gas_prices, fees     tx fee flags (default
//                                             --gas auto --gas-adjustment
//                                             1.5 --gas-prices 0.025uakt)
//
//   AkashCliOptions o;
//   o.env_allow = {"HOME", "AKASH_KEYRING_BACKEND"};
//   auto target = std::make_unique<AkashCliTarget>(std::move(o));
#ifndef SHAPIN_DEPLOY_SVC_ADAPTERS_AKASH_CLI_TARGET_H_
#define SHAPIN_DEPLOY_SVC_ADAPTERS_AKASH_CLI_TARGET_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/registry/clock.h"
#include "deploy-svc/deploy_target.h"

namespace shapin::deploy {

struct AkashCliOptions {
  // Looked up on PATH when it has no '/'.
  std::string binary = "provider-services";
  // Variables passed through to the CLI (PATH always is).
  std::vector<std::string> env_allow = {"HOME",       "AKASH_KEYRING_BACKEND",
                                        "AKASH_NODE", "AKASH_CHAIN_ID",
                                        "AKASH_HOME", "AKASH_GAS_PRICES"};
  // Directory for the SDL file handed to the CLI; empty = $TMPDIR or /tmp.
  std::string temp_dir;
  absl::Duration command_timeout = absl::Minutes(2);
  // send-manifest attempts per provider and the backoff between them.
  int send_manifest_attempts = 4;
  absl::Duration send_manifest_backoff = absl::Seconds(6);
  // Default: the real clock. Must outlive the target.
  registry::Clock* clock = nullptr;
};

class AkashCliTarget : public DeployTarget {
 public:
  explicit AkashCliTarget(AkashCliOptions options);

  absl::string_view Name() const override { return "akash-cli"; }
  absl::Status ValidateSettings(const TargetSettings& settings) const override;
  absl::StatusOr<ApplyResult> Apply(const ApplyRequest& request) override;
  absl::StatusOr<RolloutStatus> CheckRollout(
      const RolloutQuery& query) override;

 private:
  struct Settings;
  struct Lease;

  // Settings with defaults; the dseq falls back to `fallback_dseq`.
  static absl::StatusOr<Settings> ParseSettings(
      const TargetSettings& in, const std::string& fallback_dseq);
  // Runs the CLI with `args` and returns its stdout. TARGET_FAILURE with
  // the stderr tail on a non-zero exit, UNAVAILABLE on timeout.
  absl::StatusOr<std::string> Run(const std::vector<std::string>& args,
                                  absl::string_view what);
  absl::StatusOr<std::string> Owner(const Settings& s);
  absl::StatusOr<std::string> Version(const Settings& s,
                                      const std::string& owner,
                                      const std::string& dseq);
  absl::StatusOr<std::vector<Lease>> Leases(const Settings& s,
                                            const std::string& owner,
                                            const std::string& dseq);
  absl::Status SendManifest(const Settings& s, const std::string& sdl_path,
                            const std::string& dseq,
                            const std::string& provider);

  AkashCliOptions options_;
  registry::Clock* clock_;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_ADAPTERS_AKASH_CLI_TARGET_H_
