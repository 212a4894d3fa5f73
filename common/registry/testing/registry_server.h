// RegistryServer: a real Debian `docker-registry` (distribution 2.8) process
// on 127.0.0.1 and a free port, with its own storage in a temp directory,
// for integration tests. Optionally TLS (a CA and server certificate made
// with `openssl` for the test), htpasswd basic auth (`htpasswd -Bbn`), or
// token auth pointing at an in-test token server. Stopped (and its files
// removed) by the destructor; Stop()/Restart() keep port and storage, for
// failure tests.
//
//   RegistryServerOptions o;
//   o.tls = true;  // o.tls_subject_alt_names for another certificate name
//   o.htpasswd_users = {{"alice", "s3cret"}};
//   SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<RegistryServer> reg,
//                           RegistryServer::Start(o));
//   client_options.ca_file = reg->ca_file();
//   ImageRef::Parse(absl::StrCat(reg->host(), "/app"));
#ifndef SHAPIN_COMMON_REGISTRY_TESTING_REGISTRY_SERVER_H_
#define SHAPIN_COMMON_REGISTRY_TESTING_REGISTRY_SERVER_H_

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/subprocess.h"

namespace shapin::registry::testing {

struct TokenAuthConfig {
  std::string realm;    // "http://127.0.0.1:<port>/token"
  std::string service;  // the token's audience
  std::string issuer;
  std::string rootcertbundle;  // PEM of the token signing certificate
};

// What the test server certificate is valid for (openssl subjectAltName
// syntax).
inline const std::vector<std::string>& DefaultTestCertificateNames() {
  static const std::vector<std::string>* names =
      new std::vector<std::string>{"IP:127.0.0.1", "DNS:localhost"};
  return *names;
}

struct RegistryServerOptions {
  bool tls = false;
  // The server certificate's subjectAltName entries; e.g. only
  // {"DNS:registry.shapin.test"} for a registry reached at 127.0.0.1 whose
  // certificate names something else (tls_server_name tests).
  std::vector<std::string> tls_subject_alt_names =
      DefaultTestCertificateNames();
  // username, password; enables `auth: htpasswd`.
  std::vector<std::pair<std::string, std::string>> htpasswd_users;
  // Enables `auth: token` (exclusive with htpasswd_users).
  std::optional<TokenAuthConfig> token_auth;
};

// A private temp directory removed (recursively) on destruction.
class TempDir {
 public:
  static absl::StatusOr<TempDir> Create(absl::string_view prefix);
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit TempDir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

// Runs a command to completion (argv only); error with its stderr tail when
// it fails.
absl::StatusOr<SubprocessResult> RunTool(std::vector<std::string> argv);

// Writes a test CA (ca.pem, ca.key) and a server certificate signed by it
// (server.pem, server.key) into `dir`, valid for `subject_alt_names`
// (127.0.0.1 and localhost by default).
absl::Status MakeTestCertificates(
    const std::filesystem::path& dir,
    const std::vector<std::string>& subject_alt_names =
        DefaultTestCertificateNames());

class RegistryServer {
 public:
  static absl::StatusOr<std::unique_ptr<RegistryServer>> Start(
      RegistryServerOptions options = {});
  ~RegistryServer();

  int port() const { return port_; }
  std::string host() const;  // "127.0.0.1:<port>"
  // The CA that signed the registry's certificate (TLS only; else empty).
  std::string ca_file() const;
  const std::filesystem::path& dir() const { return dir_.path(); }

  // Kills the process; storage and port are kept.
  absl::Status Stop();
  // Starts the process again (same port, config, storage) and waits until it
  // accepts connections.
  absl::Status Restart();
  bool running() const { return running_.load(); }

 private:
  RegistryServer(RegistryServerOptions options, TempDir dir, int port);
  absl::Status Launch();

  RegistryServerOptions options_;
  TempDir dir_;
  int port_;
  std::atomic<bool> running_{false};
  std::atomic<bool> cancel_{false};
  std::atomic<bool> exited_{false};
  std::thread thread_;
  absl::Mutex mu_;
  std::optional<absl::StatusOr<SubprocessResult>> last_result_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin::registry::testing

#endif  // SHAPIN_COMMON_REGISTRY_TESTING_REGISTRY_SERVER_H_
