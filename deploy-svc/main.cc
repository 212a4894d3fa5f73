// deploy-svc: deploys images by commit SHA and rolls back without rebuilding.
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "build-svc/adapters/postgres_build_store.h"
#include "common/registry_options.h"
#include "common/service_main.h"
#include "common/status_macros.h"
#include "deploy-svc/adapters/akash_cli_target.h"
#include "deploy-svc/adapters/akash_console_target.h"
#include "deploy-svc/adapters/cosign_verifier.h"
#include "deploy-svc/adapters/curl_http_probe.h"
#include "deploy-svc/adapters/local_podman_target.h"
#include "deploy-svc/adapters/postgres_deployment_store.h"
#include "deploy-svc/adapters/registry_image_resolver.h"
#include "deploy-svc/coalescing_image_resolver.h"
#include "deploy-svc/console/adapters/build_store_history.h"
#include "deploy-svc/console/adapters/civetweb_http_server.h"
#include "deploy-svc/console/console_app.h"
#include "deploy-svc/deploy_service.h"
#include "deploy-svc/interrupted_deployments.h"

namespace shapin::deploy {
namespace {

absl::StatusOr<std::string> ReadTemplate(const std::string& env,
                                         const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("configuration key deploy.environments.", env,
                     ".template: cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::string> ReadKeyFile(absl::string_view key,
                                        const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("configuration key ", key, ": cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The cosign verifier when any trust material is configured, else none
// (images are then unverified with reason not_configured).
absl::StatusOr<std::optional<signature::Verifier>> VerifierFromConfig(
    const SignatureConfig& c) {
  signature::TrustConfig trust;
  auto read_all = [](absl::string_view key,
                     const std::vector<std::string>& paths,
                     std::vector<std::string>& out) -> absl::Status {
    for (const std::string& path : paths) {
      SHAPIN_ASSIGN_OR_RETURN(std::string pem, ReadKeyFile(key, path));
      out.push_back(std::move(pem));
    }
    return absl::OkStatus();
  };
  SHAPIN_RETURN_IF_ERROR(read_all("deploy.signature.public_key_files",
                                  c.public_key_files, trust.public_keys_pem));
  SHAPIN_RETURN_IF_ERROR(read_all("deploy.signature.fulcio_root_files",
                                  c.fulcio_root_files, trust.fulcio_roots_pem));
  SHAPIN_RETURN_IF_ERROR(read_all("deploy.signature.rekor_key_files",
                                  c.rekor_key_files,
                                  trust.rekor_public_keys_pem));
  if (!c.trusted_root_file.empty()) {
    SHAPIN_ASSIGN_OR_RETURN(
        trust.trusted_root_json,
        ReadKeyFile("deploy.signature.trusted_root_file", c.trusted_root_file));
  }
  if (!c.identity_issuer.empty() || !c.identity_subject_regex.empty()) {
    trust.identities.push_back({.issuer = c.identity_issuer,
                                .subject = "",
                                .subject_regex = c.identity_subject_regex});
  }
  trust.allowed_builder_ids = c.allowed_builder_ids;
  if (trust.public_keys_pem.empty() && trust.fulcio_roots_pem.empty() &&
      trust.trusted_root_json.empty()) {
    return std::optional<signature::Verifier>();
  }
  absl::StatusOr<signature::TrustMaterial> material =
      signature::TrustMaterial::Create(trust);
  if (!material.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "configuration deploy.signature: ", material.status().message()));
  }
  return std::optional<signature::Verifier>(
      signature::Verifier(std::move(*material)));
}

class DeployWiring : public ServiceWiring {
 public:
  static absl::StatusOr<std::unique_ptr<DeployWiring>> Create(
      ServiceContext& ctx) {
    auto w = std::unique_ptr<DeployWiring>(new DeployWiring(ctx));
    SHAPIN_RETURN_IF_ERROR(w->Init(ctx));
    return w;
  }

  std::vector<ServedService> services() override {
    return {{service_.get(), v1::DeployService::service_full_name()}};
  }

 private:
  explicit DeployWiring(ServiceContext& ctx)
      : store_(ctx.pool),
        metrics_(ctx.metrics),
        build_store_(ctx.pool),
        build_history_(build_store_) {}

  // One target of each kind in use; an explicit switch on the configured
  // name (the configuration has already refused unknown ones).
  absl::StatusOr<DeployTarget*> TargetFor(const std::string& kind,
                                          const Config& c) {
    if (auto it = targets_.find(kind); it != targets_.end()) {
      return it->second.get();
    }
    std::unique_ptr<DeployTarget> target;
    if (kind == "local") {
      LocalPodmanOptions o;
      o.insecure_registries = c.registry.insecure_hosts;
      SHAPIN_ASSIGN_OR_RETURN(target, LocalPodmanTarget::Create(std::move(o)));
    } else if (kind == "akash-console") {
      AkashConsoleOptions o;
      o.base_url = c.deploy.akash.console_url;
      o.api_key_env = c.deploy.akash.console_api_key_env;
      o.ca_file = c.deploy.akash.console_ca_file;
      o.tls_server_name = c.deploy.akash.console_tls_server_name;
      SHAPIN_ASSIGN_OR_RETURN(target, AkashConsoleTarget::Create(std::move(o)));
    } else if (kind == "akash-cli") {
      AkashCliOptions o;
      o.binary = c.deploy.akash.cli_binary;
      target = std::make_unique<AkashCliTarget>(std::move(o));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown deploy target \"", kind,
                       "\" (allowed: local, akash-console, akash-cli)"));
    }
    DeployTarget* raw = target.get();
    targets_[kind] = std::move(target);
    return raw;
  }

  absl::Status Init(ServiceContext& ctx) {
    const Config& c = ctx.config;
    SHAPIN_ASSIGN_OR_RETURN(
        registry::RegistryClientOptions options,
        RegistryOptionsFromConfig(c.registry, /*read_only=*/true));
    SHAPIN_ASSIGN_OR_RETURN(client_, registry::RegistryClient::Create(options));
    registry_resolver_ = std::make_unique<RegistryImageResolver>(*client_);
    // Concurrent preflights of one SHA share a HEAD, never an old answer.
    resolver_ = std::make_unique<CoalescingImageResolver>(*registry_resolver_);
    SHAPIN_ASSIGN_OR_RETURN(std::optional<signature::Verifier> cosign,
                            VerifierFromConfig(c.deploy.signature));
    if (cosign) {
      verifier_ =
          std::make_unique<CosignVerifier>(*client_, std::move(*cosign));
    } else {
      verifier_ = std::make_unique<NotConfiguredVerifier>();
    }
    std::map<std::string, Environment> environments;
    for (const auto& [name, env_config] : c.deploy.environments) {
      Environment env{.config = env_config};
      SHAPIN_ASSIGN_OR_RETURN(env.template_yaml,
                              ReadTemplate(name, env_config.template_file));
      SHAPIN_ASSIGN_OR_RETURN(env.target, TargetFor(env_config.target, c));
      if (absl::Status s = env.target->ValidateSettings(env_config.settings);
          !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("configuration key deploy.environments.", name,
                         ".settings: ", s.message()));
      }
      environments.emplace(name, std::move(env));
    }
    pipeline_ = std::make_unique<DeployPipeline>(
        store_, *resolver_, *verifier_, probe_, metrics_,
        std::move(environments),
        DeployPipelineOptions{
            .canonical_repository = c.registry.canonical_repository,
            .signature_mode = c.deploy.signature.mode == "enforce"
                                  ? SignatureMode::kEnforce
                                  : SignatureMode::kSoft,
            .coverage_window = c.deploy.signature.coverage_window,
            .lock_wait = c.deploy.lock_wait});
    for (const auto& [name, env] : c.deploy.environments) {
      pipeline_->RefreshSignatureCoverage(name);
    }
    // Deployments a dead deploy-svc left running are failed now, not at
    // the environment's next deploy.
    std::vector<std::string> names;
    for (const auto& [name, env] : c.deploy.environments) names.push_back(name);
    SHAPIN_RETURN_IF_ERROR(FailInterruptedDeployments(store_, names).status());
    service_ = std::make_unique<DeployServiceImpl>(store_, *pipeline_);
    return StartConsole(ctx);
  }

  // The operator web console (console.*), when console.listen is set: the
  // same store, pipeline and identities as the gRPC edge.
  absl::Status StartConsole(ServiceContext& ctx) {
    const ConsoleConfig& c = ctx.config.console;
    if (c.listen.empty()) return absl::OkStatus();
    std::vector<console::ConsoleEnvironment> environments;
    for (const auto& [name, env] : ctx.config.deploy.environments) {
      environments.push_back({.name = name, .target = env.target});
    }
    sessions_ = std::make_unique<console::SessionStore>(console::SessionOptions{
        .idle_timeout = c.session_idle_timeout, .max_age = c.session_max_age});
    const bool tls = !c.tls.cert_file.empty();
    console_app_ = std::make_unique<console::ConsoleApp>(
        store_, *pipeline_, build_history_, ctx.auth, *sessions_,
        std::move(environments),
        console::ConsoleOptions{.public_origin = c.public_origin,
                                .tls = tls,
                                .session_max_age = c.session_max_age});
    SHAPIN_ASSIGN_OR_RETURN(
        console_server_,
        console::CivetwebHttpServer::Start(
            {.listen = c.listen,
             .cert_file = c.tls.cert_file,
             .key_file = c.tls.key_file},
            [app = console_app_.get()](const console::HttpRequest& r) {
              return app->Handle(r);
            }));
    LogInfo("console_serving",
            {{"url", absl::StrCat(tls ? "https://" : "http://",
                                  c.listen.substr(0, c.listen.rfind(':')), ":",
                                  console_server_->port(), "/")},
             {"tls", tls}});
    return absl::OkStatus();
  }

  PostgresDeploymentStore store_;
  DeployMetrics metrics_;
  std::unique_ptr<registry::RegistryClient> client_;
  std::unique_ptr<RegistryImageResolver> registry_resolver_;
  std::unique_ptr<CoalescingImageResolver> resolver_;
  std::unique_ptr<SignatureVerifier> verifier_;
  CurlHttpProbe probe_;
  std::map<std::string, std::unique_ptr<DeployTarget>> targets_;
  std::unique_ptr<DeployPipeline> pipeline_;
  std::unique_ptr<DeployServiceImpl> service_;
  // The console reads builds through build-svc's store (reads only).
  build::PostgresBuildStore build_store_;
  console::BuildStoreHistory build_history_;
  std::unique_ptr<console::SessionStore> sessions_;
  std::unique_ptr<console::ConsoleApp> console_app_;
  // Last: stopped first, while everything it calls still exists.
  std::unique_ptr<console::CivetwebHttpServer> console_server_;
};

}  // namespace
}  // namespace shapin::deploy

int main(int argc, char** argv) {
  return shapin::RunServiceMain(
      shapin::Service::kDeploy, "deploy-svc", argc, argv,
      [](shapin::ServiceContext& ctx)
          -> absl::StatusOr<std::unique_ptr<shapin::ServiceWiring>> {
        auto wiring = shapin::deploy::DeployWiring::Create(ctx);
        if (!wiring.ok()) return wiring.status();
        return std::unique_ptr<shapin::ServiceWiring>(std::move(*wiring));
      });
}
