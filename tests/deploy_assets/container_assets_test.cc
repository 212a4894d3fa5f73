// docker-compose.yml, deploy/docker and deploy/akash: every service has a
// health check, every SHAPIN_* variable is a real configuration key, and the
// services' own configuration loader accepts what the containers would
// start with. (No container engine runs here; these are the checks that
// need none.)
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/deploy_assets/asset_files.h"
#include "tests/support/status_matchers.h"
#include "yaml-cpp/yaml.h"

namespace shapin::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

// SHAPIN_SERVER_LISTEN, … for every flat key (environments are file-only).
std::set<std::string> ConfigVariables() {
  std::set<std::string> out;
  for (const std::string& key : ConfigKeys()) {
    if (absl::StartsWith(key, "deploy.environments.")) continue;
    out.insert(absl::StrCat(
        "SHAPIN_",
        absl::AsciiStrToUpper(absl::StrReplaceAll(key, {{".", "_"}}))));
  }
  return out;
}

// Compose interpolation: ${X:-default} → default, ${X:?message} → a sample.
std::string Interpolate(const std::string& value) {
  static const std::regex kVar(R"(\$\{[A-Za-z_]+(:-([^}]*)|:\?[^}]*)?\})");
  std::string out;
  auto begin = std::sregex_iterator(value.begin(), value.end(), kVar);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    out += value.substr(last, it->position() - last);
    out += (*it)[2].matched ? (*it)[2].str() : "sample";
    last = it->position() + it->length();
  }
  return out + value.substr(last);
}

// Container path → repository path, from the Dockerfile's COPY lines and the
// compose file's bind mounts ("./deploy/x:/etc/y:ro").
class ContainerPaths {
 public:
  void AddCopy(const std::string& repo, const std::string& container) {
    map_[container] = repo;
  }
  std::string ToRepo(const std::string& container) const {
    for (const auto& [prefix, repo] : map_) {
      if (container == prefix) return repo;
      if (absl::StartsWith(container, prefix + "/")) {
        return repo + container.substr(prefix.size());
      }
    }
    return "";
  }

 private:
  std::map<std::string, std::string> map_;
};

struct DockerStage {
  std::string from;
  std::vector<std::string> lines;  // instructions, continuations joined
};

std::map<std::string, DockerStage> DockerStages() {
  std::map<std::string, DockerStage> stages;
  const std::string text = absl::StrReplaceAll(
      ReadAssetOrDie("deploy/docker/Dockerfile"), {{"\\\n", " "}});
  static const std::regex kFrom(R"(^FROM\s+(\S+)\s+AS\s+(\S+))",
                                std::regex::icase);
  DockerStage* current = nullptr;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    const std::string line(absl::StripAsciiWhitespace(raw));
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    if (std::regex_search(line, m, kFrom)) {
      current = &stages[m[2]];
      current->from = m[1];
      continue;
    }
    if (current != nullptr) current->lines.push_back(line);
  }
  return stages;
}

ContainerPaths DockerfileCopies() {
  ContainerPaths paths;
  for (const auto& [name, stage] : DockerStages()) {
    for (const std::string& line : stage.lines) {
      std::vector<std::string> w = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (w.size() == 3 && w[0] == "COPY" && w[1] != ".") {
        paths.AddCopy(w[1], w[2]);
      }
    }
  }
  return paths;
}

class ContainerAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    compose_ = YAML::LoadFile(AssetPath("docker-compose.yml"));
  }
  YAML::Node compose_;
};

TEST_F(ContainerAssetsTest, ComposeRunsTheWholeStackWithHealthChecks) {
  std::set<std::string> names;
  for (const auto& s : compose_["services"]) {
    const std::string name = s.first.as<std::string>();
    names.insert(name);
    SCOPED_TRACE(name);
    const YAML::Node test = s.second["healthcheck"]["test"];
    ASSERT_TRUE(test && test.IsSequence() && test.size() >= 2)
        << "no healthcheck";
    EXPECT_EQ(test[0].as<std::string>(), "CMD");
  }
  EXPECT_THAT(names, IsSupersetOf({"postgres", "registry", "build-svc",
                                   "deploy-svc", "prometheus", "grafana"}));
  for (const auto& s : compose_["services"]) {
    for (const auto& dep : s.second["depends_on"]) {
      SCOPED_TRACE(s.first.as<std::string>() + " → " +
                   dep.first.as<std::string>());
      EXPECT_TRUE(names.contains(dep.first.as<std::string>()));
      EXPECT_EQ(dep.second["condition"].as<std::string>(), "service_healthy");
    }
  }
}

TEST_F(ContainerAssetsTest, ComposeServicesStartWithValidConfiguration) {
  const std::set<std::string> known = ConfigVariables();
  ContainerPaths paths = DockerfileCopies();
  for (const auto& [service_name, service] :
       {std::pair<std::string, Service>{"build-svc", Service::kBuild},
        {"deploy-svc", Service::kDeploy}}) {
    SCOPED_TRACE(service_name);
    const YAML::Node s = compose_["services"][service_name];
    ASSERT_TRUE(s);
    ContainerPaths mounts = paths;
    for (const YAML::Node& v : s["volumes"]) {
      std::vector<std::string> parts = absl::StrSplit(v.as<std::string>(), ':');
      if (parts.size() >= 2 && absl::StartsWith(parts[0], "./")) {
        mounts.AddCopy(parts[0].substr(2), parts[1]);
      }
    }
    Environment env;
    for (const auto& e : s["environment"]) {
      const std::string name = e.first.as<std::string>();
      if (!absl::StartsWith(name, "SHAPIN_")) continue;
      EXPECT_TRUE(known.contains(name))
          << name << " is not a configuration key (docs/configuration.md)";
      env[name] = Interpolate(e.second.as<std::string>());
    }
    std::string config_file;
    const YAML::Node command = s["command"];
    for (size_t i = 0; command && i + 1 < command.size(); ++i) {
      if (command[i].as<std::string>() == "--config") {
        config_file = mounts.ToRepo(command[i + 1].as<std::string>());
        ASSERT_FALSE(config_file.empty())
            << command[i + 1].as<std::string>() << " is not mounted";
      }
    }
    if (env.contains("SHAPIN_AUTH_TOKENS_FILE")) {
      EXPECT_FALSE(mounts.ToRepo(env["SHAPIN_AUTH_TOKENS_FILE"]).empty())
          << "auth.tokens_file " << env["SHAPIN_AUTH_TOKENS_FILE"]
          << " is not mounted";
    } else {
      ADD_FAILURE() << "no SHAPIN_AUTH_TOKENS_FILE: the service refuses to "
                       "start without identities (auth.required)";
    }
    absl::StatusOr<Config> config = LoadConfig(
        service, config_file.empty() ? "" : AssetPath(config_file), env);
    ASSERT_THAT(config, IsOk());
    EXPECT_EQ(config->server.listen, env["SHAPIN_SERVER_LISTEN"]);
    EXPECT_EQ(config->registry.canonical_repository,
              "registry:5000/mconstant/pay2slay-api");
    for (const auto& [name, environment] : config->deploy.environments) {
      SCOPED_TRACE(name);
      const std::string repo = mounts.ToRepo(environment.template_file);
      EXPECT_FALSE(repo.empty())
          << environment.template_file << " is not in the image";
      EXPECT_FALSE(ReadAssetOrDie(repo).empty());
    }
    // Prometheus scrapes the metrics port the service listens on.
    const std::string metrics_port(env["SHAPIN_SERVER_METRICS_LISTEN"].substr(
        env["SHAPIN_SERVER_METRICS_LISTEN"].rfind(':') + 1));
    EXPECT_THAT(ReadAssetOrDie("deploy/prometheus/prometheus.yml"),
                HasSubstr("\"" + service_name + ":" + metrics_port + "\""));
  }
}

TEST_F(ContainerAssetsTest, DockerfileFinalStagesAreRuntimeOnly) {
  const std::map<std::string, DockerStage> stages = DockerStages();
  ASSERT_TRUE(stages.contains("builder"));
  ASSERT_TRUE(stages.contains("runtime"));
  for (const char* final_stage : {"build-svc", "deploy-svc"}) {
    SCOPED_TRACE(final_stage);
    ASSERT_TRUE(stages.contains(final_stage));
    const DockerStage& stage = stages.at(final_stage);
    EXPECT_EQ(stage.from, "runtime");
    bool healthcheck = false;
    for (const std::string& line : stage.lines) {
      if (absl::StartsWith(line, "HEALTHCHECK")) healthcheck = true;
      if (absl::StartsWith(line, "COPY --from=")) {
        EXPECT_THAT(line, HasSubstr("--from=builder /build/"))
            << "only the service binary comes from the builder";
      }
    }
    EXPECT_TRUE(healthcheck);
  }
  // No toolchain or headers after the builder.
  for (const char* stage : {"runtime", "build-svc", "deploy-svc"}) {
    for (const std::string& line : stages.at(stage).lines) {
      SCOPED_TRACE(std::string(stage) + ": " + line);
      if (!absl::StrContains(line, "apt-get install")) continue;
      EXPECT_FALSE(absl::StrContains(line, "-dev "));
      for (const char* tool : {" g++", " cmake", " ninja-build", " clang"}) {
        EXPECT_FALSE(absl::StrContains(line, tool));
      }
    }
  }
  // deploy-svc runs unprivileged; build-svc's root is documented.
  const std::vector<std::string>& deploy = stages.at("deploy-svc").lines;
  EXPECT_THAT(deploy, ::testing::Contains("USER shapin"));
  const std::string dockerfile = ReadAssetOrDie("deploy/docker/Dockerfile");
  EXPECT_THAT(dockerfile, HasSubstr("cap_add: [SYS_ADMIN]"));
  const YAML::Node build = compose_["services"]["build-svc"];
  EXPECT_FALSE(build["privileged"].as<bool>(false));
  EXPECT_EQ(build["cap_add"][0].as<std::string>(), "SYS_ADMIN");
}

TEST_F(ContainerAssetsTest, DockerfileEnvironmentIsConfiguration) {
  const std::set<std::string> known = ConfigVariables();
  static const std::regex kEnvVar(R"((SHAPIN_[A-Z_]+)=)");
  const std::string text = ReadAssetOrDie("deploy/docker/Dockerfile");
  int seen = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kEnvVar);
       it != std::sregex_iterator(); ++it) {
    ++seen;
    EXPECT_TRUE(known.contains((*it)[1].str())) << (*it)[1].str();
  }
  EXPECT_GE(seen, 4);
}

TEST_F(ContainerAssetsTest, ControlPlaneSdlIsCompleteAndPinned) {
  const YAML::Node sdl =
      YAML::LoadFile(AssetPath("deploy/akash/shapin-control-plane.sdl.yaml"));
  EXPECT_EQ(sdl["version"].as<std::string>(), "2.0");
  const std::set<std::string> known = ConfigVariables();
  std::set<std::string> services;
  for (const auto& s : sdl["services"]) {
    const std::string name = s.first.as<std::string>();
    services.insert(name);
    SCOPED_TRACE(name);
    const std::string image = s.second["image"].as<std::string>();
    EXPECT_THAT(image, ::testing::MatchesRegex(".+:.+@sha256:[0-9a-f]{64}"));
    Environment env;
    for (const YAML::Node& e : s.second["env"]) {
      const std::string entry = e.as<std::string>();
      const std::string name_part = entry.substr(0, entry.find('='));
      if (!absl::StartsWith(name_part, "SHAPIN_")) continue;
      EXPECT_TRUE(known.contains(name_part)) << name_part;
      env[name_part] = entry.substr(entry.find('=') + 1);
    }
    if (name == "build-svc" || name == "deploy-svc") {
      EXPECT_THAT(
          LoadConfig(name == "build-svc" ? Service::kBuild : Service::kDeploy,
                     name == "deploy-svc"
                         ? AssetPath("deploy/docker/deploy-svc.yaml")
                         : "",
                     env),
          IsOk());
    }
    // Every deployed service has a compute profile and a price.
    EXPECT_TRUE(sdl["deployment"][name]) << "not deployed";
    const std::string profile =
        sdl["deployment"][name]["akash"]["profile"].as<std::string>("");
    EXPECT_TRUE(sdl["profiles"]["compute"][profile]) << profile;
    EXPECT_TRUE(sdl["profiles"]["placement"]["akash"]["pricing"][profile])
        << profile;
  }
  EXPECT_THAT(services, IsSupersetOf({"postgres", "build-svc", "deploy-svc"}));

  // PostgreSQL's data is on a persistent volume.
  const YAML::Node storage = sdl["services"]["postgres"]["params"]["storage"];
  ASSERT_TRUE(storage && storage.size() == 1);
  const std::string volume = storage.begin()->first.as<std::string>();
  EXPECT_EQ(storage.begin()->second["mount"].as<std::string>(),
            "/var/lib/postgresql/data");
  bool persistent = false;
  for (const YAML::Node& s :
       sdl["profiles"]["compute"]["postgres"]["resources"]["storage"]) {
    if (s["name"].as<std::string>("") == volume) {
      persistent = s["attributes"]["persistent"].as<bool>(false);
    }
  }
  EXPECT_TRUE(persistent) << volume << " is not persistent";
}

}  // namespace
}  // namespace shapin::testing
