#include "tests/support/postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/subprocess.h"

namespace shapin::testing {
namespace {

constexpr char kPgBin[] = "/usr/lib/postgresql/15/bin/";

bool IsRoot() { return geteuid() == 0; }

}  // namespace

absl::StatusOr<int> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::InternalError("cannot bind a loopback port");
  }
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

absl::Status PostgresServer::RunAsPostgres(std::vector<std::string> argv) {
  SubprocessOptions opts;
  if (IsRoot()) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  opts.argv = std::move(argv);
  opts.env_allow = {"LANG", "LC_ALL"};
  opts.timeout = absl::Seconds(60);
  SHAPIN_ASSIGN_OR_RETURN(SubprocessResult r, RunSubprocess(opts));
  return r.CheckSuccess(opts.argv[IsRoot() ? 4 : 0]);
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  auto server = std::unique_ptr<PostgresServer>(new PostgresServer());
  char tmpl[] = "/tmp/shapin-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  server->dir_ = tmpl;
  if (IsRoot()) {
    passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError(
          "no postgres user: install the postgresql package "
          "(scripts/bootstrap)");
    }
    if (chown(tmpl, pw->pw_uid, pw->pw_gid) != 0) {
      return absl::InternalError("cannot chown the data directory");
    }
  }
  SHAPIN_RETURN_IF_ERROR(server->RunAsPostgres(
      {std::string(kPgBin) + "initdb", "-D", server->dir_ + "/data", "-U",
       "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-locale"}));
  // A picked port can be taken before the server binds it: try a few.
  absl::Status started;
  for (int attempt = 0; attempt < 3; ++attempt) {
    SHAPIN_ASSIGN_OR_RETURN(server->port_, PickFreePort());
    started = server->StartServer();
    if (started.ok()) return server;
  }
  return started;
}

absl::Status PostgresServer::StartServer() {
  SHAPIN_RETURN_IF_ERROR(RunAsPostgres(
      {std::string(kPgBin) + "pg_ctl", "-D", dir_ + "/data", "-l",
       dir_ + "/server.log", "-w", "-t", "60", "-o",
       // fsync off (no machine crash to survive), but commits are
       // synchronous: Stop() kills the server like a crash, and a commit
       // acknowledged to a service must survive it, as in production.
       // (synchronous_commit=off lost acknowledged rows to -m immediate.)
       absl::StrCat("-p ", port_, " -k ", dir_,
                    " -c listen_addresses=127.0.0.1 -c fsync=off"
                    " -c full_page_writes=off -c max_connections=200"),
       "start"}));
  running_ = true;
  return absl::OkStatus();
}

std::unique_ptr<PostgresServer> PostgresServer::StartOrDie() {
  absl::StatusOr<std::unique_ptr<PostgresServer>> server = Start();
  if (!server.ok()) {
    std::cerr << "cannot start a throwaway PostgreSQL: " << server.status()
              << "\n";
    std::abort();
  }
  return std::move(server).value();
}

PostgresServer::~PostgresServer() {
  if (running_) (void)Stop();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

std::string PostgresServer::UrlFor(const std::string& database) const {
  return absl::StrCat("postgresql://postgres@127.0.0.1:", port_, "/", database);
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase(
    const std::string& name) {
  SubprocessOptions opts;
  opts.argv = {"psql",
               "-q",
               "-v",
               "ON_ERROR_STOP=1",
               url(),
               "-c",
               absl::StrCat("CREATE DATABASE \"", name, "\"")};
  opts.timeout = absl::Seconds(30);
  SHAPIN_ASSIGN_OR_RETURN(SubprocessResult r, RunSubprocess(opts));
  SHAPIN_RETURN_IF_ERROR(r.CheckSuccess("psql create database"));
  return UrlFor(name);
}

absl::Status PostgresServer::Stop() {
  if (!running_) return absl::OkStatus();
  running_ = false;
  return RunAsPostgres({std::string(kPgBin) + "pg_ctl", "-D", dir_ + "/data",
                        "-m", "immediate", "-w", "stop"});
}

absl::Status PostgresServer::Restart() {
  SHAPIN_RETURN_IF_ERROR(Stop());
  return StartServer();
}

}  // namespace shapin::testing
