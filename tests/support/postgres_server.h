// PostgresServer: a throwaway PostgreSQL 15 for one test binary.
//
// initdb into a fresh temporary directory (as the `postgres` user when the
// test runs as root, since PostgreSQL refuses to run as root), start on a
// free loopback port with trust auth and fsync off (commits stay synchronous,
// so an acknowledged commit survives Stop()), and remove everything on
// destruction.
//
//   static PostgresServer* pg = PostgresServer::StartOrDie();
//   std::string url = pg->CreateDatabase("builds_test");
#ifndef SHAPIN_TESTS_SUPPORT_POSTGRES_SERVER_H_
#define SHAPIN_TESTS_SUPPORT_POSTGRES_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shapin::testing {

class PostgresServer {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();
  // For test fixtures: aborts the test binary with the reason on failure.
  static std::unique_ptr<PostgresServer> StartOrDie();
  ~PostgresServer();

  int port() const { return port_; }
  // URL of the `postgres` database as superuser.
  std::string url() const { return UrlFor("postgres"); }
  std::string UrlFor(const std::string& database) const;
  // Creates a fresh database and returns its URL.
  absl::StatusOr<std::string> CreateDatabase(const std::string& name);

  // For reliability tests: stop ("immediate", like a crash) and start again
  // on the same port with the same data.
  absl::Status Stop();
  absl::Status Restart();

  // The server's log (what `ALTER DATABASE … SET log_statement = 'all'`
  // writes to, for tests that count a service's queries).
  std::string log_path() const { return dir_ + "/server.log"; }

 private:
  PostgresServer() = default;
  absl::Status RunAsPostgres(std::vector<std::string> argv);
  absl::Status StartServer();

  std::string dir_;
  int port_ = 0;
  bool running_ = false;
};

// A free TCP port on 127.0.0.1 at the time of the call.
absl::StatusOr<int> PickFreePort();

}  // namespace shapin::testing

#endif  // SHAPIN_TESTS_SUPPORT_POSTGRES_SERVER_H_
