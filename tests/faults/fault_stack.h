// FaultStack: the real parts the fault tests break on purpose — one
// PostgreSQL 15 and one docker-registry per test binary (both can be
// stopped and restarted in place), the sample app's git repository and base
// image — plus per-test databases, repositories and service configs for the
// real build-svc / deploy-svc binaries (ServiceProcess).
//
//   std::unique_ptr<FaultStack> stack = FaultStack::StartOrDie();
//   absl::StatusOr<TestSpace> space = stack->NewSpace("kill_mid_build");
//   std::string addr;
//   std::string yaml = space->WriteBuildConfig({}, &addr);
//   auto svc = ServiceProcess::Start({.binary = SHAPIN_BUILD_SVC_BINARY, …});
//   grpc::ClientContext ctx;
//   Authorize(ctx);  // the bearer token, once auth is configured
//   auto rows = Query(space.database_url, "SELECT state FROM builds");
#ifndef SHAPIN_TESTS_FAULTS_FAULT_STACK_H_
#define SHAPIN_TESTS_FAULTS_FAULT_STACK_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/registry/testing/registry_server.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/postgres_server.h"

namespace shapin::faults {

// Rows of a query, every value as text ("" for NULL).
using Rows = std::vector<std::vector<std::string>>;
absl::StatusOr<Rows> Query(const std::string& database_url,
                           const std::string& sql);

// The one place client credentials live: every config this harness writes
// names a tokens file (auth.tokens_file) holding this token's SHA-256 with
// every role, and Authorize() adds `authorization: Bearer <token>`.
inline constexpr char kAuthToken[] = "shapin-faults-test-token";
void Authorize(grpc::ClientContext& context);

// Live (not zombie) processes, other than this one, whose command line,
// working directory or root lies inside `dir`.
std::vector<pid_t> ProcessesUsing(const std::string& dir);

// A free loopback host:port.
std::string FreeAddress();

struct BuildServiceSettings {
  int workers = 1;
  // Empty: the space's default work dir.
  std::string work_dir = "";
  std::string timeout = "5m";
  // build.signing.key_file; empty: signing off.
  std::string signing_key_file = "";
};

struct DeployEnvironmentSettings {
  std::string name = "faults";
  std::string container_name = "";
  std::string health_url = "";
  std::string version_url = "";
  std::string rollout_timeout = "2m";
};

// What one test owns: a database, repositories, a directory for configs,
// logs and build work dirs (removed afterwards).
struct TestSpace {
  std::string name;
  std::string dir;
  std::string database_url;
  std::string canonical_repository;  // registry host/name
  std::string staging_repository;
  std::string base_image;
  std::string work_dir;  // build.work_dir
  // deploy.signature.public_key_files of deploy-svc configs written
  // afterwards (with build-svc's default builder id allowed); empty: none,
  // so every image is unverified.
  std::string signature_public_key_file = "";

  // Writes a build-svc (deploy-svc) config listening on fresh ports and
  // returns its path; *grpc_address receives the gRPC address.
  std::string WriteBuildConfig(const BuildServiceSettings& settings,
                               std::string* grpc_address) const;
  std::string WriteDeployConfig(
      const std::vector<DeployEnvironmentSettings>& environments,
      std::string* grpc_address, std::string* metrics_address) const;
  std::string LogPath(const std::string& service) const;
};

class FaultStack {
 public:
  // Aborts the test binary with the reason on failure.
  static std::unique_ptr<FaultStack> StartOrDie();
  ~FaultStack();

  shapin::testing::PostgresServer& postgres() { return *postgres_; }
  registry::testing::RegistryServer& registry() { return *registry_; }
  // file:// URL of the sample repository.
  std::string source_url() const { return "file://" + repo_dir_; }
  // The n-th commit on `branch` of tests/fixtures/make-sample-repo.
  std::string Commit(const std::string& branch, int n = 0) const;

  // A fresh database and repository names for `name` (lower case).
  absl::StatusOr<TestSpace> NewSpace(const std::string& name);

 private:
  FaultStack() = default;
  std::unique_ptr<shapin::testing::PostgresServer> postgres_;
  std::unique_ptr<registry::testing::RegistryServer> registry_;
  std::string base_image_;
  std::string repo_dir_;
  std::string root_dir_;
  std::vector<std::pair<std::string, std::string>> commits_;
};

}  // namespace shapin::faults

#endif  // SHAPIN_TESTS_FAULTS_FAULT_STACK_H_
