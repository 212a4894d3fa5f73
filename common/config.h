// Configuration: a YAML file plus SHAPIN_* environment overrides.
//
// Every key has a type, a default and a line in docs/configuration.md (a test
// checks that). Unknown keys in the file are an error naming the key, so a
// typo never silently falls back to a default. An environment variable
// overrides the key whose dotted path, upper-cased with '.' → '_' and
// prefixed SHAPIN_, is its name (database.url → SHAPIN_DATABASE_URL); list
// values are comma-separated there. Other SHAPIN_* variables (the CLI's
// SHAPIN_BUILD_ADDR, …) are not configuration and are ignored here.
//
//   SHAPIN_ASSIGN_OR_RETURN(
//       Config config,
//       LoadConfig(Service::kBuild, flag_config_path,
//       EnvironmentFromProcess()));
//   config.database.url  // never empty after a successful load
#ifndef SHAPIN_COMMON_CONFIG_H_
#define SHAPIN_COMMON_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/log.h"

namespace shapin {

enum class Service { kBuild, kDeploy };

// TLS of the gRPC listener (server.tls.*); no cert_file = plaintext.
struct ServerTlsConfig {
  std::string cert_file;       // PEM certificate chain
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CAs for mTLS client certificates
};

struct ServerConfig {
  std::string listen;          // gRPC host:port (port 0 picks a free one)
  std::string metrics_listen;  // Prometheus host:port
  absl::Duration shutdown_grace = absl::Seconds(10);
  ServerTlsConfig tls;
};

// Who may call (auth.*): see common/auth/identity_registry.h for the file.
struct AuthConfig {
  std::string tokens_file;
  bool required = true;  // false only for development: calls unauthenticated
  // How often the database's tokens (shapin-tokens) are reloaded: a created
  // or revoked token takes effect within this long.
  absl::Duration refresh_interval = absl::Seconds(30);
};

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
};

struct DatabaseConfig {
  std::string url;  // libpq URL or key=value string; required
  int pool_size = 4;
  absl::Duration connect_timeout = absl::Seconds(10);
};

struct RegistryConfig {
  // Repositories as registry/name, no tag or digest.
  std::string canonical_repository = "ghcr.io/mconstant/pay2slay-api";
  std::string staging_repository = "ghcr.io/mconstant/pay2slay-api-staging";
  // Registries (host[:port]) spoken to over plain HTTP; loopback always is.
  std::vector<std::string> insecure_hosts;
  std::string ca_file;  // PEM bundle; empty = system default
  // The name on the registry's certificate when the repositories' host is
  // another address (IP, tunnel); empty = the host itself.
  std::string tls_server_name;
  std::string username;
  // Where the password comes from: an environment variable's name or a file.
  // The value itself never appears in configuration.
  std::string password_env;
  std::string password_file;
};

struct BuildConfig {
  std::vector<std::string> protected_branches = {"main"};
  std::vector<std::string> allowed_source_schemes = {"https", "ssh", "file"};
  std::string default_source_url;
  int workers = 1;
  absl::Duration timeout = absl::Minutes(30);
  std::string work_dir = "/var/tmp/shapin-build";
  // NAME=value build arguments passed to every build (e.g. the base image,
  // pinned by digest). GIT_SHA is always passed and cannot be set here.
  std::vector<std::string> build_args;
  // Signing of published images (build.signing.*): an unencrypted PKCS#8
  // ECDSA P-256 PEM; empty = images are not signed.
  std::string signing_key_file;
  std::string signing_builder_id =
      "https://github.com/mconstant/shapin/build-svc@v1";
  // An SBOM inside the checkout (relative path) attested when present.
  std::string sbom_path;
};

// One deploy environment (deploy.environments.<name>).
struct EnvironmentConfig {
  // "local" | "akash-console" | "akash-cli".
  std::string target = "local";
  // The SDL template rendered for this environment.
  std::string template_file = "deploy/akash/pay2slay-api.sdl.yaml";
  // The SDL service whose image is pinned.
  std::string service = "api";
  // Checked after the target reports the rollout: health must answer 2xx,
  // version must contain the deployed SHA. Empty: not checked.
  std::string health_url;
  std::string version_url;
  absl::Duration rollout_timeout = absl::Minutes(5);
  // Target-specific settings (dseq, provider, api_key_env, port, …); each
  // target validates its own at start-up.
  std::map<std::string, std::string> settings;
};

// Deploy-time signature verification (deploy.signature.*). With nothing
// configured every image is unverified with reason not_configured.
struct SignatureConfig {
  std::string mode = "soft";                  // soft | enforce
  std::vector<std::string> public_key_files;  // cosign.pub (PEM)
  std::vector<std::string> fulcio_root_files;
  std::vector<std::string> rekor_key_files;
  std::string trusted_root_file;  // Sigstore trusted_root.json
  std::string identity_issuer;
  std::string identity_subject_regex;
  std::vector<std::string> allowed_builder_ids;
  // shapin_signed_deployments_ratio looks at this many distinct SHAs.
  int coverage_window = 20;
};

// How deploy-svc reaches Akash (deploy.akash.*), shared by every environment
// of that target; per-environment details (dseq, provider, key name) are in
// deploy.environments.<name>.settings. Secrets are named, never written here.
struct AkashConfig {
  std::string console_url = "https://console-api.akash.network";
  std::string console_api_key_env = "AKASH_CONSOLE_API_KEY";
  std::string console_ca_file;  // PEM bundle; empty = system default
  // The name on the Console's certificate when console_url names another
  // address; empty = console_url's host.
  std::string console_tls_server_name;
  std::string cli_binary = "provider-services";
};

struct DeployConfig {
  std::map<std::string, EnvironmentConfig> environments;
  // How long a Deploy/Rollback waits for its environment's lock while
  // another runs there; zero = fail at once with ABORTED.
  absl::Duration lock_wait = absl::Minutes(10);
  SignatureConfig signature;
  AkashConfig akash;
};

// The operator web console of deploy-svc (console.*): an HTTP listener next
// to the gRPC one, off unless `listen` is set (deploy-svc/console/).
struct ConsoleConfig {
  std::string listen;   // host:port; empty = no console
  ServerTlsConfig tls;  // cert_file + key_file = HTTPS only
  // The origin browsers use (scheme://host[:port]) when a proxy sits in
  // front; empty = the listener's own scheme and the request's Host.
  std::string public_origin;
  // A session ends after this long without a request, and at the latest
  // `session_max_age` after login.
  absl::Duration session_idle_timeout = absl::Minutes(30);
  absl::Duration session_max_age = absl::Hours(12);
};

struct Config {
  ServerConfig server;
  AuthConfig auth;
  LogConfig log;
  DatabaseConfig database;
  RegistryConfig registry;
  BuildConfig build;
  DeployConfig deploy;
  ConsoleConfig console;
};

using Environment = std::map<std::string, std::string>;

// The SHAPIN_* variables of this process.
Environment EnvironmentFromProcess();

// Defaults for `service`, then the YAML file at `path` (none when empty), then
// `env`. INVALID_ARGUMENT naming the key for unknown keys, wrong types, bad
// values and missing required keys; NOT_FOUND when the file does not exist.
absl::StatusOr<Config> LoadConfig(Service service, absl::string_view path,
                                  const Environment& env);
// The same from YAML text (for tests and embedded defaults).
absl::StatusOr<Config> LoadConfigFromText(Service service,
                                          absl::string_view yaml_text,
                                          const Environment& env);

// Every key's dotted path, in documentation order. Environment keys appear
// as deploy.environments.<name>.<key>.
std::vector<std::string> ConfigKeys();

}  // namespace shapin

#endif  // SHAPIN_COMMON_CONFIG_H_
