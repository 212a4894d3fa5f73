#include "common/config.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const Environment kDb = {
    {"SHAPIN_DATABASE_URL", "postgresql://x@127.0.0.1/db"}};

TEST(ConfigTest, DefaultsDifferPerServiceAndNeedOnlyADatabase) {
  absl::StatusOr<Config> build = LoadConfigFromText(Service::kBuild, "", kDb);
  ASSERT_TRUE(build.ok()) << build.status();
  absl::StatusOr<Config> deploy = LoadConfigFromText(Service::kDeploy, "", kDb);
  ASSERT_TRUE(deploy.ok()) << deploy.status();
  EXPECT_NE(build->server.listen, deploy->server.listen);
  EXPECT_EQ(build->registry.canonical_repository,
            "ghcr.io/mconstant/pay2slay-api");
  EXPECT_EQ(build->registry.staging_repository,
            "ghcr.io/mconstant/pay2slay-api-staging");
  EXPECT_THAT(build->build.protected_branches, ElementsAre("main"));
  EXPECT_EQ(build->server.shutdown_grace, absl::Seconds(10));
}

TEST(ConfigTest, FileValuesApplyAndEnvironmentWins) {
  const char* yaml = R"(
server:
  listen: 127.0.0.1:7000
  shutdown_grace: 3s
log:
  level: debug
database:
  url: postgresql://file@127.0.0.1/db
  pool_size: 8
build:
  protected_branches: [main, release]
  timeout: 45m
)";
  Environment env = {{"SHAPIN_SERVER_LISTEN", "127.0.0.1:7001"},
                     {"SHAPIN_BUILD_PROTECTED_BRANCHES", "main, hotfix"},
                     {"SHAPIN_BUILD_ADDR", "ignored: the CLI's variable"}};
  absl::StatusOr<Config> c = LoadConfigFromText(Service::kBuild, yaml, env);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.listen, "127.0.0.1:7001");
  EXPECT_EQ(c->server.shutdown_grace, absl::Seconds(3));
  EXPECT_EQ(c->log.level, LogLevel::kDebug);
  EXPECT_EQ(c->database.url, "postgresql://file@127.0.0.1/db");
  EXPECT_EQ(c->database.pool_size, 8);
  EXPECT_EQ(c->build.timeout, absl::Minutes(45));
  EXPECT_THAT(c->build.protected_branches, ElementsAre("main", "hotfix"));
}

TEST(ConfigTest, InvalidConfigurationsNameTheKey) {
  struct Case {
    const char* name;
    const char* yaml;
    Environment env;
    const char* message;
  };
  const Case cases[] = {
      {"unknown key", "server:\n  lisen: x\n", kDb,
       "unknown configuration key \"server.lisen\""},
      {"unknown section", "sever:\n  listen: x\n", kDb,
       "unknown configuration key \"sever\""},
      {"missing database", "", {}, "database.url is required"},
      {"zero refresh interval", "auth:\n  refresh_interval: 0s\n", kDb,
       "auth.refresh_interval: must be greater than zero"},
      {"bad int", "database:\n  pool_size: many\n", kDb,
       "database.pool_size: expected an integer"},
      {"int out of range", "database:\n  pool_size: 0\n", kDb,
       "database.pool_size: must be between 1 and 64"},
      {"bad duration", "build:\n  timeout: forever\n", kDb,
       "build.timeout: expected a duration"},
      {"bad level", "log:\n  level: loud\n", kDb, "log.level: expected debug"},
      {"list for string", "server:\n  listen: [a, b]\n", kDb,
       "server.listen: expected a string"},
      {"map for value", "server:\n  listen: {a: b}\n", kDb,
       "server.listen: expected a value, got a map"},
      {"bad repository", "registry:\n  canonical_repository: Not/Valid\n", kDb,
       "registry.canonical_repository"},
      {"repository with tag",
       "registry:\n  canonical_repository: ghcr.io/a/b:latest\n", kDb,
       "without tag or digest"},
      {"same repositories",
       "registry:\n  canonical_repository: ghcr.io/a/b\n"
       "  staging_repository: ghcr.io/a/b\n",
       kDb, "must differ"},
      {"no protected branch", "build:\n  protected_branches: []\n", kDb,
       "build.protected_branches: must list at least one branch"},
      {"not yaml", "server: [unclosed", kDb, "not valid YAML"},
      {"build arg without =", "build:\n  build_args: [BASE_IMAGE]\n", kDb,
       "build.build_args: expected NAME=value"},
      {"build arg GIT_SHA", "build:\n  build_args: [GIT_SHA=x]\n", kDb,
       "GIT_SHA is set by build-svc"},
      {"sbom outside the checkout", "build:\n  sbom_path: a/../../sbom.json\n",
       kDb, "build.sbom_path: must be a path inside the source checkout"},
      {"absolute sbom", "build:\n  sbom_path: /etc/sbom.json\n", kDb,
       "build.sbom_path: must be a path inside the source checkout"},
      {"coverage window zero",
       "deploy:\n  signature:\n    coverage_window: 0\n", kDb,
       "deploy.signature.coverage_window: expected an integer between 1"},
      {"negative lock wait", "deploy:\n  lock_wait: -1s\n", kDb,
       "deploy.lock_wait: expected a duration"},
      {"bad env",
       "",
       {{"SHAPIN_DATABASE_URL", "x"}, {"SHAPIN_BUILD_WORKERS", "two"}},
       "SHAPIN_BUILD_WORKERS: configuration key build.workers"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Config> config =
        LoadConfigFromText(Service::kBuild, c.yaml, c.env);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.message));
  }
}

TEST(ConfigTest, DeployEnvironments) {
  const char* yaml = R"(
deploy:
  environments:
    production:
      target: akash-console
      service: web
      health_url: https://api.example/healthz
      rollout_timeout: 4m
      settings:
        dseq: "1234"
        api_key_env: AKASH_API_KEY
    local:
      target: local
)";
  absl::StatusOr<Config> c = LoadConfigFromText(Service::kDeploy, yaml, kDb);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->deploy.environments.size(), 2u);
  const EnvironmentConfig& prod = c->deploy.environments.at("production");
  EXPECT_EQ(prod.target, "akash-console");
  EXPECT_EQ(prod.service, "web");
  EXPECT_EQ(prod.rollout_timeout, absl::Minutes(4));
  EXPECT_EQ(prod.settings.at("dseq"), "1234");
  EXPECT_EQ(c->deploy.environments.at("local").template_file,
            "deploy/akash/pay2slay-api.sdl.yaml");

  struct Case {
    const char* yaml;
    const char* message;
  };
  for (Case bad : {
           Case{"deploy:\n  environments:\n    prod:\n      target: k8s\n",
                "deploy.environments.prod.target: unknown target \"k8s\""},
           Case{
               "deploy:\n  environments:\n    prod:\n      colour: red\n",
               "unknown configuration key \"deploy.environments.prod.colour\""},
           Case{"deploy:\n  environments:\n    Prod:\n      target: local\n",
                "deploy.environments.Prod: environment names"},
           Case{"deploy:\n  environments:\n    p:\n      rollout_timeout: x\n",
                "deploy.environments.p.rollout_timeout: expected a duration"},
           Case{"deploy:\n  nothing: 1\n",
                "unknown configuration key \"deploy.nothing\""},
       }) {
    SCOPED_TRACE(bad.yaml);
    absl::StatusOr<Config> c2 =
        LoadConfigFromText(Service::kDeploy, bad.yaml, kDb);
    ASSERT_FALSE(c2.ok());
    EXPECT_THAT(std::string(c2.status().message()), HasSubstr(bad.message));
  }
}

TEST(ConfigTest, SigningKeys) {
  absl::StatusOr<Config> defaults =
      LoadConfigFromText(Service::kBuild, "", kDb);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->build.signing_key_file, "");
  EXPECT_EQ(defaults->build.signing_builder_id,
            "https://github.com/mconstant/shapin/build-svc@v1");
  EXPECT_EQ(defaults->deploy.signature.coverage_window, 20);
  EXPECT_EQ(defaults->deploy.lock_wait, absl::Minutes(10));
  const Environment fail_fast_env = {{"SHAPIN_DATABASE_URL", "x"},
                                     {"SHAPIN_DEPLOY_LOCK_WAIT", "0s"}};
  absl::StatusOr<Config> fail_fast =
      LoadConfigFromText(Service::kDeploy, "", fail_fast_env);
  ASSERT_TRUE(fail_fast.ok()) << fail_fast.status();
  EXPECT_EQ(fail_fast->deploy.lock_wait, absl::ZeroDuration());
  const char* yaml = R"(
build:
  signing:
    key_file: /run/secrets/signing.key
    builder_id: https://example.com/builder@v2
  sbom_path: dist/sbom.spdx.json
deploy:
  lock_wait: 90s
  signature:
    coverage_window: 50
)";
  absl::StatusOr<Config> c = LoadConfigFromText(Service::kBuild, yaml, kDb);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->build.signing_key_file, "/run/secrets/signing.key");
  EXPECT_EQ(c->build.signing_builder_id, "https://example.com/builder@v2");
  EXPECT_EQ(c->build.sbom_path, "dist/sbom.spdx.json");
  EXPECT_EQ(c->deploy.signature.coverage_window, 50);
  EXPECT_EQ(c->deploy.lock_wait, absl::Seconds(90));
}

TEST(ConfigTest, AuthTlsAndAkashConnection) {
  absl::StatusOr<Config> defaults =
      LoadConfigFromText(Service::kDeploy, "", kDb);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_TRUE(defaults->auth.required);
  EXPECT_EQ(defaults->auth.refresh_interval, absl::Seconds(30));
  EXPECT_EQ(defaults->deploy.akash.console_url,
            "https://console-api.akash.network");
  EXPECT_EQ(defaults->deploy.akash.console_api_key_env,
            "AKASH_CONSOLE_API_KEY");
  EXPECT_EQ(defaults->deploy.akash.cli_binary, "provider-services");
  const char* yaml = R"(
server:
  tls:
    cert_file: /etc/shapin/server.pem
    key_file: /etc/shapin/server.key
    client_ca_file: /etc/shapin/clients.pem
auth:
  tokens_file: /etc/shapin/tokens.yaml
  required: false
  refresh_interval: 5s
deploy:
  akash:
    console_url: https://console.example
    console_api_key_env: MY_AKASH_KEY
    console_ca_file: /etc/ssl/akash.pem
    cli_binary: /opt/akash/provider-services
)";
  absl::StatusOr<Config> c = LoadConfigFromText(Service::kDeploy, yaml, kDb);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.tls.cert_file, "/etc/shapin/server.pem");
  EXPECT_EQ(c->server.tls.client_ca_file, "/etc/shapin/clients.pem");
  EXPECT_EQ(c->auth.tokens_file, "/etc/shapin/tokens.yaml");
  EXPECT_FALSE(c->auth.required);
  EXPECT_EQ(c->auth.refresh_interval, absl::Seconds(5));
  EXPECT_EQ(c->deploy.akash.console_url, "https://console.example");
  EXPECT_EQ(c->deploy.akash.console_api_key_env, "MY_AKASH_KEY");
  EXPECT_EQ(c->deploy.akash.console_ca_file, "/etc/ssl/akash.pem");
  EXPECT_EQ(c->deploy.akash.cli_binary, "/opt/akash/provider-services");

  // A certificate without its key (or a client CA without both) is refused.
  absl::StatusOr<Config> half = LoadConfigFromText(
      Service::kDeploy, "server:\n  tls:\n    cert_file: /a.pem\n", kDb);
  EXPECT_EQ(half.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(half.status().message()),
              HasSubstr("server.tls.key_file"));
  absl::StatusOr<Config> ca_only = LoadConfigFromText(
      Service::kDeploy, "server:\n  tls:\n    client_ca_file: /c.pem\n", kDb);
  EXPECT_THAT(std::string(ca_only.status().message()),
              HasSubstr("server.tls.client_ca_file"));
}

TEST(ConfigTest, ConsoleIsOffByDefaultAndValidated) {
  absl::StatusOr<Config> defaults =
      LoadConfigFromText(Service::kDeploy, "", kDb);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->console.listen, "");
  EXPECT_EQ(defaults->console.tls.cert_file, "");
  EXPECT_EQ(defaults->console.session_idle_timeout, absl::Minutes(30));
  EXPECT_EQ(defaults->console.session_max_age, absl::Hours(12));

  const char* yaml = R"(
console:
  listen: 0.0.0.0:8443
  tls:
    cert_file: /etc/shapin/console.pem
    key_file: /etc/shapin/console.key
  public_origin: https://shapin.example.org
  session_idle_timeout: 15m
)";
  Environment env = kDb;
  env["SHAPIN_CONSOLE_SESSION_MAX_AGE"] = "8h";
  absl::StatusOr<Config> c = LoadConfigFromText(Service::kDeploy, yaml, env);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->console.listen, "0.0.0.0:8443");
  EXPECT_EQ(c->console.tls.cert_file, "/etc/shapin/console.pem");
  EXPECT_EQ(c->console.tls.key_file, "/etc/shapin/console.key");
  EXPECT_EQ(c->console.public_origin, "https://shapin.example.org");
  EXPECT_EQ(c->console.session_idle_timeout, absl::Minutes(15));
  EXPECT_EQ(c->console.session_max_age, absl::Hours(8));

  struct Case {
    const char* yaml;
    const char* message;
  };
  for (const Case& bad : {
           Case{"console:\n  listen: 8443\n",
                "console.listen: expected host:port"},
           Case{"console:\n  listen: host:http\n",
                "console.listen: expected host:port"},
           Case{"console:\n  tls:\n    cert_file: /a.pem\n",
                "console.tls.cert_file and console.tls.key_file go together"},
           Case{"console:\n  public_origin: shapin.example.org\n",
                "console.public_origin: expected an origin"},
           Case{"console:\n  public_origin: https://a.example/console\n",
                "console.public_origin: expected an origin"},
           Case{"console:\n  session_idle_timeout: 0s\n",
                "console.session_idle_timeout: must be greater than zero"},
           Case{"console:\n  sessions: 3\n",
                "unknown configuration key \"console.sessions\""},
       }) {
    SCOPED_TRACE(bad.yaml);
    absl::StatusOr<Config> refused =
        LoadConfigFromText(Service::kDeploy, bad.yaml, kDb);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(refused.status().message()),
                HasSubstr(bad.message));
  }
}

TEST(ConfigTest, TlsServerNames) {
  absl::StatusOr<Config> defaults =
      LoadConfigFromText(Service::kDeploy, "", kDb);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->registry.tls_server_name, "");
  EXPECT_EQ(defaults->deploy.akash.console_tls_server_name, "");

  Environment env = kDb;
  env["SHAPIN_DEPLOY_AKASH_CONSOLE_TLS_SERVER_NAME"] = "console.internal";
  absl::StatusOr<Config> c = LoadConfigFromText(
      Service::kDeploy,
      "registry:\n  tls_server_name: registry-1.Example.com\n"
      "deploy:\n  akash:\n    console_tls_server_name: from-file.example\n",
      env);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->registry.tls_server_name, "registry-1.Example.com");
  EXPECT_EQ(c->deploy.akash.console_tls_server_name, "console.internal");

  struct Case {
    const char* name;
    const char* key;
    std::string value;
    const char* message;
  };
  const Case cases[] = {
      {"port", "SHAPIN_REGISTRY_TLS_SERVER_NAME", "registry.example:5000",
       "registry.tls_server_name: \"registry.example:5000\" is not a DNS name"},
      {"ip address", "SHAPIN_REGISTRY_TLS_SERVER_NAME", "10.0.0.5",
       "registry.tls_server_name: \"10.0.0.5\" is an IP address"},
      {"url", "SHAPIN_DEPLOY_AKASH_CONSOLE_TLS_SERVER_NAME",
       "https://console.example",
       "deploy.akash.console_tls_server_name: \"https://console.example\" is "
       "not a DNS name"},
      {"empty label", "SHAPIN_REGISTRY_TLS_SERVER_NAME", "registry..example",
       "registry.tls_server_name"},
      {"leading hyphen", "SHAPIN_REGISTRY_TLS_SERVER_NAME", "-registry.example",
       "registry.tls_server_name"},
      {"underscore", "SHAPIN_REGISTRY_TLS_SERVER_NAME", "my_registry.example",
       "registry.tls_server_name"},
      {"label over 63", "SHAPIN_REGISTRY_TLS_SERVER_NAME",
       std::string(64, 'a') + ".example", "registry.tls_server_name"},
      {"name over 253", "SHAPIN_REGISTRY_TLS_SERVER_NAME",
       std::string(63, 'a') + "." + std::string(63, 'b') + "." +
           std::string(63, 'c') + "." + std::string(63, 'd'),
       "registry.tls_server_name: is longer than 253 characters"},
  };
  for (const Case& bad : cases) {
    SCOPED_TRACE(bad.name);
    Environment bad_env = kDb;
    bad_env[bad.key] = bad.value;
    absl::StatusOr<Config> loaded =
        LoadConfigFromText(Service::kDeploy, "", bad_env);
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(bad.message));
  }
}

TEST(ConfigTest, MissingFileIsNotFoundNamingThePath) {
  absl::StatusOr<Config> c =
      LoadConfig(Service::kBuild, "/nonexistent/shapin.yaml", kDb);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("/nonexistent/shapin.yaml"));
}

TEST(ConfigTest, EveryKeyIsDocumented) {
  std::ifstream doc(SHAPIN_SOURCE_DIR "/docs/configuration.md");
  ASSERT_TRUE(doc) << "docs/configuration.md is missing";
  std::stringstream text;
  text << doc.rdbuf();
  for (const std::string& key : ConfigKeys()) {
    SCOPED_TRACE(key);
    EXPECT_THAT(text.str(), HasSubstr("`" + key + "`"));
  }
}

}  // namespace
}  // namespace shapin
