#include "common/registry/testing/registry_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/registry/testing/tiny_http_server.h"
#include "common/status_macros.h"
#include "common/subprocess.h"

namespace shapin::registry::testing {
namespace {

absl::Status WriteFile(const std::filesystem::path& path,
                       absl::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("writing ", path.string()));
  }
  return absl::OkStatus();
}

bool CanConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok =
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

absl::StatusOr<TempDir> TempDir::Create(absl::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::filesystem::path root = base != nullptr && base[0] != '\0'
                                   ? std::filesystem::path(base)
                                   : std::filesystem::path("/tmp");
  std::string tmpl = (root / absl::StrCat(prefix, "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", tmpl, ": ", std::strerror(errno)));
  }
  return TempDir(std::filesystem::path(tmpl));
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<SubprocessResult> RunTool(std::vector<std::string> argv) {
  SubprocessOptions opts;
  std::string what = argv.empty() ? "" : argv[0];
  opts.argv = std::move(argv);
  opts.timeout = absl::Seconds(60);
  SHAPIN_ASSIGN_OR_RETURN(SubprocessResult r, RunSubprocess(opts));
  SHAPIN_RETURN_IF_ERROR(r.CheckSuccess(what));
  return r;
}

absl::Status MakeTestCertificates(
    const std::filesystem::path& dir,
    const std::vector<std::string>& subject_alt_names) {
  if (subject_alt_names.empty()) {
    return absl::InvalidArgumentError("a test certificate needs a name");
  }
  // The CN repeats the first name (clients only look at subjectAltName).
  const std::string& first = subject_alt_names.front();
  const std::string subject =
      absl::StrCat("/CN=", first.substr(first.find(':') + 1));
  auto p = [&](const char* name) { return (dir / name).string(); };
  SHAPIN_RETURN_IF_ERROR(
      RunTool({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p("ca.key"),
               "-out", p("ca.pem"), "-days", "2", "-subj",
               "/CN=shapin-test-ca"})
          .status());
  SHAPIN_RETURN_IF_ERROR(
      RunTool({"openssl", "req", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
               p("server.key"), "-out", p("server.csr"), "-subj", subject})
          .status());
  SHAPIN_RETURN_IF_ERROR(WriteFile(
      dir / "server.ext",
      absl::StrCat("subjectAltName=", absl::StrJoin(subject_alt_names, ","),
                   "\n"
                   "basicConstraints=CA:FALSE\n"
                   "keyUsage=digitalSignature\n"
                   "extendedKeyUsage=serverAuth\n")));
  return RunTool({"openssl", "x509", "-req", "-in", p("server.csr"), "-CA",
                  p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out",
                  p("server.pem"), "-days", "2", "-extfile", p("server.ext")})
      .status();
}

absl::StatusOr<std::unique_ptr<RegistryServer>> RegistryServer::Start(
    RegistryServerOptions options) {
  SHAPIN_ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("shapin-registry"));
  const std::filesystem::path& d = dir.path();
  SHAPIN_ASSIGN_OR_RETURN(int port, PickFreePort());

  std::string config = absl::StrCat(
      "version: 0.1\n"
      "log:\n"
      "  level: warn\n"
      "  accesslog:\n"
      "    disabled: true\n"
      "storage:\n"
      "  filesystem:\n"
      "    rootdirectory: ",
      (d / "data").string(),
      "\n"
      "  delete:\n"
      "    enabled: true\n"
      "  maintenance:\n"
      "    uploadpurging:\n"
      "      enabled: false\n"
      "http:\n"
      "  addr: 127.0.0.1:",
      port,
      "\n"
      "  secret: shapin-test-secret\n");
  if (options.tls) {
    SHAPIN_RETURN_IF_ERROR(
        MakeTestCertificates(d, options.tls_subject_alt_names));
    absl::StrAppend(&config,
                    "  tls:\n    certificate: ", (d / "server.pem").string(),
                    "\n    key: ", (d / "server.key").string(), "\n");
  }
  if (!options.htpasswd_users.empty()) {
    std::string lines;
    for (const auto& [user, password] : options.htpasswd_users) {
      SHAPIN_ASSIGN_OR_RETURN(SubprocessResult r,
                              RunTool({"htpasswd", "-Bbn", user, password}));
      std::string line = r.stdout_data;
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.pop_back();
      }
      absl::StrAppend(&lines, line, "\n");
    }
    SHAPIN_RETURN_IF_ERROR(WriteFile(d / "htpasswd", lines));
    absl::StrAppend(&config, "auth:\n  htpasswd:\n    realm: shapin-test\n",
                    "    path: ", (d / "htpasswd").string(), "\n");
  } else if (options.token_auth.has_value()) {
    const TokenAuthConfig& t = *options.token_auth;
    absl::StrAppend(&config, "auth:\n  token:\n    realm: ", t.realm,
                    "\n    service: ", t.service, "\n    issuer: ", t.issuer,
                    "\n    rootcertbundle: ", t.rootcertbundle, "\n");
  }
  SHAPIN_RETURN_IF_ERROR(WriteFile(d / "config.yml", config));

  std::unique_ptr<RegistryServer> server(
      new RegistryServer(std::move(options), std::move(dir), port));
  SHAPIN_RETURN_IF_ERROR(server->Launch());
  return server;
}

RegistryServer::RegistryServer(RegistryServerOptions options, TempDir dir,
                               int port)
    : options_(std::move(options)), dir_(std::move(dir)), port_(port) {}

RegistryServer::~RegistryServer() { (void)Stop(); }

std::string RegistryServer::host() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::string RegistryServer::ca_file() const {
  return options_.tls ? (dir_.path() / "ca.pem").string() : "";
}

absl::Status RegistryServer::Launch() {
  if (running_) return absl::OkStatus();
  cancel_ = false;
  exited_ = false;
  {
    absl::MutexLock lock(&mu_);
    last_result_.reset();
  }
  std::string config = (dir_.path() / "config.yml").string();
  thread_ = std::thread([this, config] {
    SubprocessOptions opts;
    opts.argv = {"docker-registry", "serve", config};
    opts.cancel = &cancel_;
    opts.kill_grace = absl::Seconds(3);
    opts.max_capture_bytes = 64 << 10;
    absl::StatusOr<SubprocessResult> r = RunSubprocess(opts);
    absl::MutexLock lock(&mu_);
    last_result_ = std::move(r);
    exited_ = true;
  });
  running_ = true;
  absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (absl::Now() < give_up) {
    if (exited_) {
      std::string detail;
      {
        absl::MutexLock lock(&mu_);
        if (last_result_.has_value()) {
          detail = last_result_->ok()
                       ? (*last_result_)->stderr_data
                       : std::string(last_result_->status().message());
        }
      }
      (void)Stop();
      return absl::InternalError(
          absl::StrCat("docker-registry on port ", port_,
                       " exited during startup: ", detail));
    }
    if (CanConnect(port_)) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  (void)Stop();
  return absl::DeadlineExceededError(absl::StrCat(
      "docker-registry on port ", port_, " did not listen within 20s"));
}

absl::Status RegistryServer::Stop() {
  if (!running_) return absl::OkStatus();
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
  running_ = false;
  // Wait until the port is free again so Restart() can bind it.
  absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (CanConnect(port_) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::OkStatus();
}

absl::Status RegistryServer::Restart() {
  SHAPIN_RETURN_IF_ERROR(Stop());
  return Launch();
}

}  // namespace shapin::registry::testing
