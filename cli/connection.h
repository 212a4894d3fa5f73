// Where the services are and how to talk to them: endpoints, bearer token and
// TLS, from flags first, then SHAPIN_* environment variables, then defaults.
//
//   absl::StatusOr<ConnectionSettings> settings =
//       ResolveConnection(invocation, [](absl::string_view name) {
//         return EnvVar(name); });
//   Connection conn(*settings);
//   auto stub = v1::DeployService::NewStub(conn.deploy_channel());
//   std::unique_ptr<grpc::ClientContext> ctx =
//   conn.NewContext(absl::Seconds(30));
#ifndef SHAPIN_CLI_CONNECTION_H_
#define SHAPIN_CLI_CONNECTION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/command_line.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace shapin::cli {

// Defaults of server.listen (docs/configuration.md).
inline constexpr absl::string_view kDefaultBuildAddr = "127.0.0.1:50051";
inline constexpr absl::string_view kDefaultDeployAddr = "127.0.0.1:50052";

struct ConnectionSettings {
  std::string build_addr{};
  std::string deploy_addr{};
  // Sent as "authorization: Bearer <token>" when non-empty. Never printed.
  std::string token{};
  bool tls = false;
  // PEM roots for TLS; empty = the system's.
  std::string ca_file{};
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(absl::string_view)>;

// Flags --build-addr, --deploy-addr, --token, --tls, --ca-file; else
// SHAPIN_BUILD_ADDR, SHAPIN_DEPLOY_ADDR, SHAPIN_TOKEN, SHAPIN_TLS (1/true),
// SHAPIN_CA_FILE; else the defaults. --ca-file implies TLS. An empty address,
// or one without a port, is INVALID_ARGUMENT naming where it came from.
absl::StatusOr<ConnectionSettings> ResolveConnection(const Invocation& inv,
                                                     const EnvLookup& env);

// The process environment as an EnvLookup.
std::optional<std::string> EnvVar(absl::string_view name);

// Channels to both services (created lazily) and call contexts carrying the
// token.
class Connection {
 public:
  explicit Connection(ConnectionSettings settings);

  // INVALID_ARGUMENT when --ca-file cannot be read.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> build_channel();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> deploy_channel();

  // A context with the bearer token (if any) and, unless `deadline` is
  // infinite, a deadline that far from now.
  std::unique_ptr<grpc::ClientContext> NewContext(
      absl::Duration deadline) const;

  const ConnectionSettings& settings() const { return settings_; }

 private:
  absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
      const std::string& addr);

  ConnectionSettings settings_;
  std::shared_ptr<grpc::Channel> build_;
  std::shared_ptr<grpc::Channel> deploy_;
};

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_CONNECTION_H_
