// LocalPodmanTarget: runs an environment's image as a podman container on
// this machine, published on a loopback port.
//
// Apply replaces the running container only once the new one is healthy:
//   1. pull repository@sha256:… (plain HTTP only for loopback or listed
//      insecure registries)
//   2. start the candidate `<name>-next` on an ephemeral loopback port,
//      GET its health path until 2xx (bounded); unhealthy or exited →
//      remove it, the running container is untouched, TARGET_FAILURE
//   3a. host_port 0 (default): remove `<name>` and rename the candidate to
//      `<name>`; the endpoint is the candidate's port (it changes per
//      deploy)
//   3b. fixed host_port: the candidate has proven the image; it is removed,
//      `<name>` is stopped and set aside, a new `<name>` starts on the fixed
//      port and must be healthy too, else the previous one is restored
//      (a short gap in service: two containers cannot share the port)
// Containers always run with `--runtime runc` and explicit nofile/nproc
// ulimits (crun does not work on these hosts), carry labels with the
// environment, git SHA, digest and reference, and get GIT_SHA and
// IMAGE_DIGEST in their environment.
// CheckRollout: `<name>` is running the deployed digest.
//
// Settings (per environment):
//   container_port  port the app listens on inside (default 8000)
//   host_port       fixed loopback port (default 0: a new one per deploy)
//   health_path     default /healthz
//   name            container name (default shapin-<environment>)
//   env.<NAME>      extra environment variables for the app
//
//   LocalPodmanOptions o;
//   o.global_args = {"--root", "/var/lib/shapin/containers"};
//   SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<LocalPodmanTarget> local,
//                           LocalPodmanTarget::Create(std::move(o)));
#ifndef SHAPIN_DEPLOY_SVC_ADAPTERS_LOCAL_PODMAN_TARGET_H_
#define SHAPIN_DEPLOY_SVC_ADAPTERS_LOCAL_PODMAN_TARGET_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/registry/clock.h"
#include "common/registry/http.h"
#include "deploy-svc/deploy_target.h"

namespace shapin::deploy {

struct LocalPodmanOptions {
  std::string podman = "podman";
  // Before the subcommand, e.g. --root/--runroot/--storage-driver for a
  // private store.
  std::vector<std::string> global_args;
  std::vector<std::string> env_allow = {"HOME",
                                        "XDG_RUNTIME_DIR",
                                        "TMPDIR",
                                        "CONTAINERS_CONF",
                                        "CONTAINERS_STORAGE_CONF",
                                        "CONTAINERS_REGISTRIES_CONF",
                                        "REGISTRY_AUTH_FILE"};
  // Registries ("host[:port]") pulled from without TLS verification,
  // besides loopback ones.
  std::vector<std::string> insecure_registries;
  // Passed as --authfile to pull when set.
  std::string authfile;

  absl::Duration pull_timeout = absl::Minutes(10);
  absl::Duration command_timeout = absl::Seconds(90);
  // How long a new container has to answer its health path with 2xx.
  absl::Duration health_timeout = absl::Seconds(60);
  absl::Duration health_poll_interval = absl::Milliseconds(500);
  absl::Duration health_request_timeout = absl::Seconds(2);
  // Grace between SIGTERM and SIGKILL when a container is removed.
  absl::Duration stop_timeout = absl::Seconds(10);

  // Default: the real clock. Must outlive the target.
  registry::Clock* clock = nullptr;
  // For health checks; default: a CurlTransport. Owned.
  std::unique_ptr<registry::HttpTransport> transport;
};

class LocalPodmanTarget : public DeployTarget {
 public:
  static absl::StatusOr<std::unique_ptr<LocalPodmanTarget>> Create(
      LocalPodmanOptions options);

  absl::string_view Name() const override { return "local"; }
  absl::Status ValidateSettings(const TargetSettings& settings) const override;
  absl::StatusOr<ApplyResult> Apply(const ApplyRequest& request) override;
  absl::StatusOr<RolloutStatus> CheckRollout(
      const RolloutQuery& query) override;

  // The container name an environment gets without a `name` setting:
  // "shapin-" + the environment with anything outside [a-zA-Z0-9_.-]
  // replaced by '-'.
  static std::string DefaultContainerName(absl::string_view environment);

 private:
  struct Settings;
  struct ContainerInfo;

  explicit LocalPodmanTarget(LocalPodmanOptions options);

  static absl::StatusOr<Settings> ParseSettings(const TargetSettings& settings,
                                                absl::string_view environment);

  // Runs `podman <global args> <args>`; stdout. TARGET_FAILURE with the
  // stderr tail when podman fails.
  absl::StatusOr<std::string> Podman(const std::vector<std::string>& args,
                                     absl::Duration timeout);
  // nullopt when no such container.
  absl::StatusOr<std::optional<ContainerInfo>> Inspect(const std::string& name);
  absl::Status Remove(const std::string& name);
  // Starts `name` publishing `host_port` (0: ephemeral); its info.
  absl::StatusOr<ContainerInfo> Start(const std::string& name, int host_port,
                                      const ApplyRequest& request,
                                      const Settings& settings);
  // OK once GET health_path answers 2xx; an error naming the last answer
  // (and the container's log tail) when it exits or time runs out.
  absl::Status WaitHealthy(const ContainerInfo& container,
                           const Settings& settings);
  // Whether the container's image is `digest` (by its own digest or the
  // one it was pulled by).
  absl::StatusOr<bool> ImageHasDigest(const ContainerInfo& container,
                                      const std::string& digest);
  // Removes a container that failed; its log tail for the error message.
  std::string Discard(const std::string& name);

  LocalPodmanOptions options_;
  registry::Clock* clock_;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_ADAPTERS_LOCAL_PODMAN_TARGET_H_
