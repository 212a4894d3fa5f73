#include "tests/faults/fault_stack.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "pqxx/pqxx"

namespace shapin::faults {
namespace {

namespace fs = std::filesystem;

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    const unsigned char b = digest[i];
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string RunOrDie(std::vector<std::string> argv) {
  absl::StatusOr<SubprocessResult> r = registry::testing::RunTool(argv);
  if (!r.ok()) {
    std::cerr << "fault stack: " << argv[0] << ": " << r.status() << "\n";
    std::abort();
  }
  return std::string(absl::StripTrailingAsciiWhitespace(r->stdout_data));
}

// Configuration both services share.
std::string CommonConfig(const TestSpace& s, const std::string& listen,
                         const std::string& metrics_listen) {
  return absl::StrCat(
      "server:\n  listen: ", listen, "\n  metrics_listen: ", metrics_listen,
      "\n  shutdown_grace: 2s\n"
      "auth:\n  tokens_file: ",
      s.dir, "/tokens.yaml\n",
      "log:\n  level: info\n"
      "database:\n  url: ",
      s.database_url,
      "\n  pool_size: 8\n  connect_timeout: 3s\n"
      "registry:\n  canonical_repository: ",
      s.canonical_repository, "\n  staging_repository: ", s.staging_repository,
      // The base image's registry, which may not be the publishing one.
      "\n  insecure_hosts: [\"", s.base_image.substr(0, s.base_image.find('/')),
      "\"]\n");
}

}  // namespace

absl::StatusOr<Rows> Query(const std::string& database_url,
                           const std::string& sql) {
  try {
    pqxx::connection c(database_url);
    pqxx::nontransaction tx(c);
    pqxx::result result = tx.exec(sql);
    Rows rows;
    for (const pqxx::row& row : result) {
      std::vector<std::string> values;
      for (const pqxx::field& f : row) {
        values.push_back(f.is_null() ? "" : f.as<std::string>());
      }
      rows.push_back(std::move(values));
    }
    return rows;
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("query ", sql, ": ", e.what()));
  }
}

void Authorize(grpc::ClientContext& context) {
  if (kAuthToken[0] == '\0') return;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kAuthToken));
}

std::vector<pid_t> ProcessesUsing(const std::string& dir) {
  std::vector<pid_t> found;
  std::set<pid_t> leader_groups;
  std::vector<std::pair<pid_t, pid_t>> all;  // live pid, its process group
  std::error_code ec;
  auto inside = [&](const std::string& path) {
    return path == dir || absl::StartsWith(path, absl::StrCat(dir, "/"));
  };
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc", ec)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    if (pid == getpid()) continue;
    // "pid (comm) S ppid pgrp …": zombies are dead already.
    const std::string stat = ReadText(entry.path() / "stat");
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size() ||
        stat[paren + 2] == 'Z') {
      continue;
    }
    std::vector<std::string> fields =
        absl::StrSplit(stat.substr(paren + 1), ' ', absl::SkipEmpty());
    int group = 0;
    if (fields.size() < 3 || !absl::SimpleAtoi(fields[2], &group)) continue;
    all.emplace_back(pid, group);
    std::error_code link_ec;
    const std::string root =
        fs::read_symlink(entry.path() / "root", link_ec).string();
    const std::string cwd =
        fs::read_symlink(entry.path() / "cwd", link_ec).string();
    std::string cmdline = ReadText(entry.path() / "cmdline");
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    const bool names_dir = absl::StrContains(cmdline, dir);
    // Tools are started as group leaders; their children (a RUN step in
    // another mount namespace) are found through the group.
    if (names_dir && group == pid) leader_groups.insert(group);
    if ((root != "/" && inside(root)) || inside(cwd) || names_dir) {
      found.push_back(pid);
    }
  }
  for (const auto& [pid, group] : all) {
    if (leader_groups.count(group) > 0 &&
        std::find(found.begin(), found.end(), pid) == found.end()) {
      found.push_back(pid);
    }
  }
  return found;
}

std::string FreeAddress() {
  absl::StatusOr<int> port = shapin::testing::PickFreePort();
  if (!port.ok()) {
    std::cerr << "no free port: " << port.status() << "\n";
    std::abort();
  }
  return absl::StrCat("127.0.0.1:", *port);
}

std::string TestSpace::LogPath(const std::string& service) const {
  return absl::StrCat(dir, "/", service, ".log");
}

std::string TestSpace::WriteBuildConfig(const BuildServiceSettings& settings,
                                        std::string* grpc_address) const {
  *grpc_address = FreeAddress();
  static int counter = 0;
  const std::string path = absl::StrCat(dir, "/build-svc-", ++counter, ".yaml");
  WriteFile(path, absl::StrCat(
                      CommonConfig(*this, *grpc_address, FreeAddress()),
                      "build:\n  workers: ", settings.workers,
                      "\n  timeout: ", settings.timeout, "\n  work_dir: ",
                      settings.work_dir.empty() ? work_dir : settings.work_dir,
                      "\n  build_args: [\"BASE_IMAGE=", base_image, "\"]\n",
                      settings.signing_key_file.empty()
                          ? ""
                          : absl::StrCat("  signing:\n    key_file: ",
                                         settings.signing_key_file, "\n")));
  return path;
}

std::string TestSpace::WriteDeployConfig(
    const std::vector<DeployEnvironmentSettings>& environments,
    std::string* grpc_address, std::string* metrics_address) const {
  *grpc_address = FreeAddress();
  *metrics_address = FreeAddress();
  static int counter = 0;
  const std::string path =
      absl::StrCat(dir, "/deploy-svc-", ++counter, ".yaml");
  std::string yaml = absl::StrCat(
      CommonConfig(*this, *grpc_address, *metrics_address), "deploy:\n");
  if (!signature_public_key_file.empty()) {
    // build-svc's default build.signing.builder_id.
    absl::StrAppend(&yaml, "  signature:\n    public_key_files: [",
                    signature_public_key_file,
                    "]\n    allowed_builder_ids: "
                    "[https://github.com/mconstant/shapin/build-svc@v1]\n");
  }
  absl::StrAppend(&yaml, "  environments:\n");
  for (const DeployEnvironmentSettings& e : environments) {
    absl::StrAppend(
        &yaml, "    ", e.name, ":\n      target: local\n",
        "      template: ", SHAPIN_SOURCE_DIR,
        "/deploy/akash/pay2slay-api.sdl.yaml\n",
        "      service: api\n      rollout_timeout: ", e.rollout_timeout, "\n");
    if (!e.health_url.empty()) {
      absl::StrAppend(&yaml, "      health_url: ", e.health_url, "\n");
    }
    if (!e.version_url.empty()) {
      absl::StrAppend(&yaml, "      version_url: ", e.version_url, "\n");
    }
    absl::StrAppend(&yaml, "      settings:\n        name: \"",
                    e.container_name,
                    "\"\n        container_port: \"8080\"\n"
                    "        health_path: /healthz\n");
  }
  WriteFile(path, yaml);
  return path;
}

std::unique_ptr<FaultStack> FaultStack::StartOrDie() {
  std::unique_ptr<FaultStack> stack(new FaultStack());
  stack->postgres_ = shapin::testing::PostgresServer::StartOrDie();
  absl::StatusOr<std::unique_ptr<registry::testing::RegistryServer>> reg =
      registry::testing::RegistryServer::Start();
  if (!reg.ok()) {
    std::cerr << "fault stack: registry: " << reg.status() << "\n";
    std::abort();
  }
  stack->registry_ = std::move(reg).value();
  stack->root_dir_ = absl::StrCat("/tmp/shapin-faults-", getpid(), "-",
                                  absl::ToUnixMicros(absl::Now()));
  fs::create_directories(stack->root_dir_);
  stack->base_image_ =
      RunOrDie({SHAPIN_SOURCE_DIR "/tests/fixtures/make-base-image",
                stack->registry_->host()});
  stack->repo_dir_ = stack->root_dir_ + "/sample";
  for (absl::string_view line : absl::StrSplit(
           RunOrDie({SHAPIN_SOURCE_DIR "/tests/fixtures/make-sample-repo",
                     stack->repo_dir_}),
           '\n', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    if (parts.size() == 2) stack->commits_.push_back({parts[0], parts[1]});
  }
  return stack;
}

FaultStack::~FaultStack() {
  std::error_code ignored;
  fs::remove_all(root_dir_, ignored);
}

std::string FaultStack::Commit(const std::string& branch, int n) const {
  for (const auto& [b, sha] : commits_) {
    if (b == branch && n-- == 0) return sha;
  }
  return "";
}

absl::StatusOr<TestSpace> FaultStack::NewSpace(const std::string& name) {
  TestSpace s;
  s.name = absl::AsciiStrToLower(name);
  s.dir = absl::StrCat(root_dir_, "/", s.name);
  fs::create_directories(s.dir + "/work");
  absl::StatusOr<std::string> url = postgres_->CreateDatabase(s.name);
  if (!url.ok()) return url.status();
  s.database_url = *url;
  s.canonical_repository = absl::StrCat(registry_->host(), "/", s.name, "/app");
  s.staging_repository =
      absl::StrCat(registry_->host(), "/", s.name, "/app-staging");
  s.base_image = base_image_;
  s.work_dir = s.dir + "/work";
  WriteFile(s.dir + "/tokens.yaml",
            absl::StrCat("tokens:\n  - name: faults\n    sha256: ",
                         Sha256Hex(kAuthToken),
                         "\n    roles: [builder, deployer, operator, "
                         "viewer]\n"));
  return s;
}

}  // namespace shapin::faults
