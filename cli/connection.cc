#include "cli/connection.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace shapin::cli {
namespace {

struct Source {
  std::string value;
  std::string origin;  // "--build-addr", "SHAPIN_BUILD_ADDR", "default"
};

Source Pick(const Invocation& inv, const EnvLookup& env, absl::string_view flag,
            absl::string_view var, absl::string_view fallback) {
  if (inv.Has(flag)) {
    return {inv.Flag(flag, ""), absl::StrCat("--", flag)};
  }
  if (std::optional<std::string> v = env(var); v && !v->empty()) {
    return {*v, std::string(var)};
  }
  return {std::string(fallback), "default"};
}

absl::Status CheckAddr(const Source& s) {
  // host:port, [v6]:port, or a gRPC target URI such as unix:/path or
  // dns:///h:p.
  const bool has_scheme =
      s.value.find(":/") != std::string::npos || s.value.rfind("unix:", 0) == 0;
  const size_t colon = s.value.rfind(':');
  if (s.value.empty() ||
      (!has_scheme && (colon == std::string::npos || colon == 0 ||
                       colon + 1 == s.value.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat(s.origin, ": expected host:port, got \"", s.value, "\""));
  }
  return absl::OkStatus();
}

bool Truthy(absl::string_view v) {
  return v == "1" || v == "true" || v == "yes";
}

}  // namespace

std::optional<std::string> EnvVar(absl::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

absl::StatusOr<ConnectionSettings> ResolveConnection(const Invocation& inv,
                                                     const EnvLookup& env) {
  Source build =
      Pick(inv, env, "build-addr", "SHAPIN_BUILD_ADDR", kDefaultBuildAddr);
  Source deploy =
      Pick(inv, env, "deploy-addr", "SHAPIN_DEPLOY_ADDR", kDefaultDeployAddr);
  for (const Source* s : {&build, &deploy}) {
    if (absl::Status st = CheckAddr(*s); !st.ok()) return st;
  }
  ConnectionSettings out;
  out.build_addr = build.value;
  out.deploy_addr = deploy.value;
  out.token = Pick(inv, env, "token", "SHAPIN_TOKEN", "").value;
  out.ca_file = Pick(inv, env, "ca-file", "SHAPIN_CA_FILE", "").value;
  out.tls = inv.Bool("tls") || !out.ca_file.empty() ||
            (!inv.Has("tls") && Truthy(env("SHAPIN_TLS").value_or("")));
  return out;
}

Connection::Connection(ConnectionSettings settings)
    : settings_(std::move(settings)) {}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connection::MakeChannel(
    const std::string& addr) {
  if (!settings_.tls) {
    return grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions options;
  if (!settings_.ca_file.empty()) {
    std::ifstream in(settings_.ca_file);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("--ca-file: cannot read ", settings_.ca_file));
    }
    std::stringstream pem;
    pem << in.rdbuf();
    options.pem_root_certs = pem.str();
  }
  return grpc::CreateChannel(addr, grpc::SslCredentials(options));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connection::build_channel() {
  if (!build_) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> c =
        MakeChannel(settings_.build_addr);
    if (!c.ok()) return c.status();
    build_ = *c;
  }
  return build_;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connection::deploy_channel() {
  if (!deploy_) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> c =
        MakeChannel(settings_.deploy_addr);
    if (!c.ok()) return c.status();
    deploy_ = *c;
  }
  return deploy_;
}

std::unique_ptr<grpc::ClientContext> Connection::NewContext(
    absl::Duration deadline) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!settings_.token.empty()) {
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", settings_.token));
  }
  if (deadline != absl::InfiniteDuration()) {
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  }
  return ctx;
}

}  // namespace shapin::cli
