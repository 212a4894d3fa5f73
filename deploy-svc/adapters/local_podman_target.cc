#include "deploy-svc/adapters/local_podman_target.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/error_code.h"
#include "common/log.h"
#include "common/registry/curl_transport.h"
#include "common/status_macros.h"
#include "common/subprocess.h"
#include "nlohmann/json.hpp"

namespace shapin::deploy {

using json = nlohmann::json;

struct LocalPodmanTarget::Settings {
  int container_port = 8000;
  int host_port = 0;
  std::string health_path = "/healthz";
  std::string name;
  std::vector<std::pair<std::string, std::string>> env;
};

struct LocalPodmanTarget::ContainerInfo {
  std::string id;
  std::string name;
  bool running = false;
  std::string status;
  std::string image_digest;
  std::string image_id;
  std::map<std::string, std::string> labels;
  int host_port = 0;
};

namespace {

constexpr char kEnvPrefix[] = "env.";
constexpr char kLabelEnvironment[] = "io.shapin.environment";
constexpr char kLabelGitSha[] = "io.shapin.git-sha";
constexpr char kLabelDigest[] = "io.shapin.digest";
constexpr char kLabelImageRef[] = "io.shapin.image-ref";
// Lets Inspect find the published port of a container we started.
constexpr char kLabelContainerPort[] = "io.shapin.container-port";
constexpr int kLogTailLines = 20;

bool IsContainerNameChar(char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

bool IsEnvName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

absl::StatusOr<int> ParsePort(const TargetSettings& settings, const char* key,
                              int fallback, bool allow_zero) {
  auto it = settings.find(key);
  if (it == settings.end()) return fallback;
  int port = 0;
  if (!absl::SimpleAtoi(it->second, &port) || port < (allow_zero ? 0 : 1) ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "local: setting ", key, " \"", it->second, "\" is not a port"));
  }
  return port;
}

const json* Field(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string StringField(const json& j, const char* key) {
  const json* f = Field(j, key);
  return f != nullptr && f->is_string() ? f->get<std::string>() : "";
}

// The host port bound for `container_port` in a ports map
// ({"8080/tcp": [{"HostIp": …, "HostPort": "40717"}]}); 0 when none.
int HostPortIn(const json* ports, int container_port) {
  const json* bindings =
      ports ? Field(*ports, absl::StrCat(container_port, "/tcp").c_str())
            : nullptr;
  if (bindings == nullptr || !bindings->is_array()) return 0;
  for (const json& b : *bindings) {
    int port = 0;
    if (absl::SimpleAtoi(StringField(b, "HostPort"), &port) && port > 0) {
      return port;
    }
  }
  return 0;
}

// `status` with `suffix` added to its message; code and payloads (the
// error code) are kept, so re-wrapping never doubles the "CODE " prefix.
absl::Status WithSuffix(const absl::Status& status, absl::string_view suffix) {
  absl::Status out(status.code(), absl::StrCat(status.message(), suffix));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

std::string Endpoint(int port) {
  return absl::StrCat("http://127.0.0.1:", port);
}

absl::Status CheckSettings(const TargetSettings& settings) {
  for (const auto& [key, value] : settings) {
    if (absl::StartsWith(key, kEnvPrefix)) {
      if (!IsEnvName(key.substr(sizeof(kEnvPrefix) - 1))) {
        return absl::InvalidArgumentError(
            absl::StrCat("local: setting ", key, " names no valid variable"));
      }
      continue;
    }
    if (key != "container_port" && key != "host_port" && key != "health_path" &&
        key != "name") {
      return absl::InvalidArgumentError(absl::StrCat(
          "local: unknown setting \"", key,
          "\" (known: container_port, host_port, health_path, name, "
          "env.<NAME>)"));
    }
  }
  SHAPIN_RETURN_IF_ERROR(
      ParsePort(settings, "container_port", 8000, false).status());
  SHAPIN_RETURN_IF_ERROR(ParsePort(settings, "host_port", 0, true).status());
  if (auto it = settings.find("health_path");
      it != settings.end() && !absl::StartsWith(it->second, "/")) {
    return absl::InvalidArgumentError(
        "local: setting health_path must start with '/'");
  }
  if (auto it = settings.find("name"); it != settings.end()) {
    const std::string& name = it->second;
    if (name.empty() || !absl::ascii_isalnum(name[0]) ||
        !std::all_of(name.begin(), name.end(), IsContainerNameChar)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "local: setting name \"", name, "\" is not a container name"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string LocalPodmanTarget::DefaultContainerName(
    absl::string_view environment) {
  std::string name = absl::StrCat("shapin-", environment);
  for (char& c : name) {
    if (!IsContainerNameChar(c)) c = '-';
  }
  return name;
}

absl::StatusOr<std::unique_ptr<LocalPodmanTarget>> LocalPodmanTarget::Create(
    LocalPodmanOptions options) {
  if (options.transport == nullptr) {
    registry::CurlTransportOptions curl;
    curl.user_agent = "shapin-deploy-healthcheck/0.1";
    curl.connect_timeout = options.health_request_timeout;
    curl.clock = options.clock;
    SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<registry::CurlTransport> t,
                            registry::CurlTransport::Create(curl));
    options.transport = std::move(t);
  }
  return std::unique_ptr<LocalPodmanTarget>(
      new LocalPodmanTarget(std::move(options)));
}

LocalPodmanTarget::LocalPodmanTarget(LocalPodmanOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock
                                       : registry::RealClock::Get()) {}

absl::Status LocalPodmanTarget::ValidateSettings(
    const TargetSettings& settings) const {
  return CheckSettings(settings);
}

absl::StatusOr<LocalPodmanTarget::Settings> LocalPodmanTarget::ParseSettings(
    const TargetSettings& settings, absl::string_view environment) {
  SHAPIN_RETURN_IF_ERROR(CheckSettings(settings));
  Settings s;
  SHAPIN_ASSIGN_OR_RETURN(s.container_port,
                          ParsePort(settings, "container_port", 8000, false));
  SHAPIN_ASSIGN_OR_RETURN(s.host_port,
                          ParsePort(settings, "host_port", 0, true));
  if (auto it = settings.find("health_path"); it != settings.end()) {
    s.health_path = it->second;
  }
  auto name_it = settings.find("name");
  s.name = name_it != settings.end() ? name_it->second
                                     : DefaultContainerName(environment);
  for (const auto& [key, value] : settings) {
    if (absl::StartsWith(key, kEnvPrefix)) {
      s.env.emplace_back(key.substr(sizeof(kEnvPrefix) - 1), value);
    }
  }
  return s;
}

absl::StatusOr<bool> LocalPodmanTarget::ImageHasDigest(
    const ContainerInfo& container, const std::string& digest) {
  if (container.image_digest == digest) return true;
  // For a multi-platform image podman may report the platform manifest's
  // digest; the index digest it was pulled by is among its RepoDigests.
  SHAPIN_ASSIGN_OR_RETURN(
      std::string out,
      Podman({"image", "inspect", "--format", "json", container.image_id},
             options_.command_timeout));
  json doc = json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array() || doc.empty()) return false;
  const json* repo_digests = Field(doc[0], "RepoDigests");
  if (repo_digests == nullptr || !repo_digests->is_array()) return false;
  return std::any_of(
      repo_digests->begin(), repo_digests->end(), [&](const json& d) {
        return d.is_string() &&
               absl::EndsWith(d.get<std::string>(), absl::StrCat("@", digest));
      });
}

absl::StatusOr<std::string> LocalPodmanTarget::Podman(
    const std::vector<std::string>& args, absl::Duration timeout) {
  SubprocessOptions opts;
  opts.argv.push_back(options_.podman);
  opts.argv.insert(opts.argv.end(), options_.global_args.begin(),
                   options_.global_args.end());
  opts.argv.insert(opts.argv.end(), args.begin(), args.end());
  opts.env_allow = options_.env_allow;
  opts.timeout = timeout;
  SHAPIN_ASSIGN_OR_RETURN(SubprocessResult r, RunSubprocess(opts));
  if (!r.ok()) {
    return ShapinError(
        ErrorCode::kTargetFailure,
        r.CheckSuccess(absl::StrCat("podman ", args.empty() ? "" : args[0]))
            .message());
  }
  return std::move(r.stdout_data);
}

absl::StatusOr<std::optional<LocalPodmanTarget::ContainerInfo>>
LocalPodmanTarget::Inspect(const std::string& name) {
  SubprocessOptions opts;
  opts.argv.push_back(options_.podman);
  opts.argv.insert(opts.argv.end(), options_.global_args.begin(),
                   options_.global_args.end());
  opts.argv.insert(opts.argv.end(),
                   {"container", "inspect", "--format", "json", name});
  opts.env_allow = options_.env_allow;
  opts.timeout = options_.command_timeout;
  SHAPIN_ASSIGN_OR_RETURN(SubprocessResult r, RunSubprocess(opts));
  if (!r.ok()) {
    if (absl::StrContains(absl::AsciiStrToLower(r.stderr_data),
                          "no such container")) {
      return std::nullopt;
    }
    return ShapinError(ErrorCode::kTargetFailure,
                       r.CheckSuccess("podman container inspect").message());
  }
  json doc = json::parse(r.stdout_data, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array() || doc.empty()) {
    return ShapinError(
        ErrorCode::kTargetFailure,
        absl::StrCat("podman container inspect ", name, ": unexpected output"));
  }
  const json& c = doc[0];
  ContainerInfo info;
  info.id = StringField(c, "Id");
  info.name = StringField(c, "Name");
  info.image_digest = StringField(c, "ImageDigest");
  info.image_id = StringField(c, "Image");
  if (const json* state = Field(c, "State")) {
    const json* running = Field(*state, "Running");
    info.running =
        running != nullptr && running->is_boolean() && running->get<bool>();
    info.status = StringField(*state, "Status");
  }
  if (const json* config = Field(c, "Config")) {
    if (const json* labels = Field(*config, "Labels");
        labels && labels->is_object()) {
      for (const auto& [k, v] : labels->items()) {
        if (v.is_string()) info.labels[k] = v.get<std::string>();
      }
    }
  }
  // The published port: live bindings first, the configured ones for a
  // stopped container.
  int container_port = 0;
  if (auto it = info.labels.find(kLabelContainerPort);
      it != info.labels.end()) {
    (void)absl::SimpleAtoi(it->second, &container_port);
  }
  const json* network = Field(c, "NetworkSettings");
  const json* host_config = Field(c, "HostConfig");
  info.host_port =
      HostPortIn(network ? Field(*network, "Ports") : nullptr, container_port);
  if (info.host_port == 0) {
    info.host_port =
        HostPortIn(host_config ? Field(*host_config, "PortBindings") : nullptr,
                   container_port);
  }
  return info;
}

absl::Status LocalPodmanTarget::Remove(const std::string& name) {
  return Podman(
             {"rm", "--force", "--ignore", "--time",
              absl::StrCat(absl::ToInt64Seconds(options_.stop_timeout)), name},
             options_.command_timeout + options_.stop_timeout)
      .status();
}

std::string LocalPodmanTarget::Discard(const std::string& name) {
  absl::StatusOr<std::string> logs =
      Podman({"logs", "--tail", absl::StrCat(kLogTailLines), name},
             options_.command_timeout);
  absl::Status removed = Remove(name);
  if (!removed.ok()) {
    LogWarning("local_container_remove_failed",
               {{"container", name}, {"error", removed.ToString()}});
  }
  std::string tail =
      logs.ok() ? std::string(absl::StripAsciiWhitespace(*logs)) : "";
  return tail.empty() ? "" : absl::StrCat("; container log: ", tail);
}

absl::StatusOr<LocalPodmanTarget::ContainerInfo> LocalPodmanTarget::Start(
    const std::string& name, int host_port, const ApplyRequest& request,
    const Settings& settings) {
  const ImageRef& image = request.image;
  const std::string by_digest =
      image.repository_only().with_digest(*image.digest()).ToString();
  std::vector<std::string> args = {
      "run", "--detach", "--name", name,
      // crun cannot run containers on these hosts; runc can.
      "--runtime", "runc",
      // Explicit limits: the defaults inherited from the service are not
      // something an app should depend on.
      "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--pull",
      "never", "--publish",
      absl::StrCat("127.0.0.1:", host_port == 0 ? "" : absl::StrCat(host_port),
                   ":", settings.container_port),
      "--label", absl::StrCat(kLabelEnvironment, "=", request.environment),
      "--label", absl::StrCat(kLabelGitSha, "=", request.git_sha.str()),
      "--label", absl::StrCat(kLabelDigest, "=", image.digest()->str()),
      "--label", absl::StrCat(kLabelImageRef, "=", image.ToString()), "--label",
      absl::StrCat(kLabelContainerPort, "=", settings.container_port), "--env",
      absl::StrCat("GIT_SHA=", request.git_sha.str()), "--env",
      absl::StrCat("IMAGE_DIGEST=", image.digest()->str())};
  for (const auto& [key, value] : settings.env) {
    args.push_back("--env");
    args.push_back(absl::StrCat(key, "=", value));
  }
  args.push_back(by_digest);
  absl::StatusOr<std::string> started = Podman(args, options_.command_timeout);
  if (!started.ok()) {
    // `run` may have created the container before failing to start it.
    return WithSuffix(started.status(), Discard(name));
  }
  SHAPIN_ASSIGN_OR_RETURN(std::optional<ContainerInfo> info, Inspect(name));
  if (!info.has_value() || info->host_port == 0) {
    const std::string tail = Discard(name);
    return ShapinError(
        ErrorCode::kTargetFailure,
        absl::StrCat("container ", name, " started but has no published port",
                     tail));
  }
  return *info;
}

absl::Status LocalPodmanTarget::WaitHealthy(const ContainerInfo& container,
                                            const Settings& settings) {
  const std::string url =
      absl::StrCat(Endpoint(container.host_port), settings.health_path);
  const absl::Time deadline = clock_->Now() + options_.health_timeout;
  std::string last;
  while (true) {
    registry::HttpRequest req;
    req.url = url;
    req.timeout = options_.health_request_timeout;
    absl::StatusOr<registry::HttpResponse> resp =
        options_.transport->RoundTrip(req);
    if (resp.ok() && resp->status / 100 == 2) return absl::OkStatus();
    last = resp.ok() ? absl::StrCat("HTTP ", resp->status)
                     : std::string(resp.status().message());
    SHAPIN_ASSIGN_OR_RETURN(std::optional<ContainerInfo> now,
                            Inspect(container.name));
    if (!now.has_value() || !now->running) {
      return ShapinError(
          ErrorCode::kTargetFailure,
          absl::StrCat("container ", container.name, " ",
                       now.has_value() ? now->status : "vanished",
                       " before answering GET ", url, " (last: ", last, ")"));
    }
    if (clock_->Now() + options_.health_poll_interval > deadline) {
      return ShapinError(
          ErrorCode::kTargetFailure,
          absl::StrCat("container ", container.name, " not healthy within ",
                       absl::FormatDuration(options_.health_timeout), ": GET ",
                       url, " last answered ", last));
    }
    clock_->Sleep(options_.health_poll_interval);
  }
}

absl::StatusOr<ApplyResult> LocalPodmanTarget::Apply(
    const ApplyRequest& request) {
  if (!request.image.digest().has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "local: image ", request.image.ToString(), " is not pinned by digest"));
  }
  SHAPIN_ASSIGN_OR_RETURN(Settings s,
                          ParseSettings(request.settings, request.environment));
  const ImageRef& image = request.image;
  const std::string digest = image.digest()->str();
  const std::string by_digest =
      image.repository_only().with_digest(*image.digest()).ToString();

  // 1. The image, by digest: what runs is exactly what was resolved.
  std::vector<std::string> pull = {"pull", "--quiet"};
  const bool insecure =
      registry::IsLoopbackHost(image.registry()) ||
      std::find(options_.insecure_registries.begin(),
                options_.insecure_registries.end(),
                image.registry()) != options_.insecure_registries.end();
  if (insecure) pull.push_back("--tls-verify=false");
  if (!options_.authfile.empty()) {
    pull.insert(pull.end(), {"--authfile", options_.authfile});
  }
  pull.push_back(by_digest);
  SHAPIN_RETURN_IF_ERROR(Podman(pull, options_.pull_timeout).status());

  SHAPIN_ASSIGN_OR_RETURN(std::optional<ContainerInfo> previous,
                          Inspect(s.name));
  std::string previous_digest;
  if (previous.has_value()) {
    auto it = previous->labels.find(kLabelDigest);
    previous_digest =
        it != previous->labels.end() ? it->second : previous->image_digest;
  }

  // 2. The candidate, beside whatever runs now.
  const std::string candidate_name = s.name + "-next";
  SHAPIN_RETURN_IF_ERROR(Remove(candidate_name));  // a crashed attempt's
  SHAPIN_ASSIGN_OR_RETURN(ContainerInfo candidate,
                          Start(candidate_name, 0, request, s));
  if (absl::Status healthy = WaitHealthy(candidate, s); !healthy.ok()) {
    return WithSuffix(
        healthy, absl::StrCat(Discard(candidate_name),
                              previous.has_value()
                                  ? absl::StrCat("; ", s.name, " keeps running")
                                  : ""));
  }
  LogInfo("local_candidate_healthy", {{"environment", request.environment},
                                      {"container", candidate_name},
                                      {"port", candidate.host_port},
                                      {"digest", digest}});

  ContainerInfo current = candidate;
  if (s.host_port == 0) {
    // 3a. Swap names; the candidate keeps serving on its port.
    SHAPIN_RETURN_IF_ERROR(Remove(s.name));
    SHAPIN_RETURN_IF_ERROR(
        Podman({"rename", candidate_name, s.name}, options_.command_timeout)
            .status());
    current.name = s.name;
  } else {
    // 3b. The port can be bound by one container only: stop the old one,
    // start the new one on it, and restore the old one if that fails.
    SHAPIN_RETURN_IF_ERROR(Remove(candidate_name));
    const std::string parked = s.name + "-prev";
    SHAPIN_RETURN_IF_ERROR(Remove(parked));
    if (previous.has_value()) {
      SHAPIN_RETURN_IF_ERROR(
          Podman({"stop", "--time",
                  absl::StrCat(absl::ToInt64Seconds(options_.stop_timeout)),
                  s.name},
                 options_.command_timeout + options_.stop_timeout)
              .status());
      SHAPIN_RETURN_IF_ERROR(
          Podman({"rename", s.name, parked}, options_.command_timeout)
              .status());
    }
    auto restore = [&](const absl::Status& why) -> absl::Status {
      std::string outcome;
      if (previous.has_value()) {
        absl::Status back =
            Podman({"rename", parked, s.name}, options_.command_timeout)
                .status();
        if (back.ok()) {
          back = Podman({"start", s.name}, options_.command_timeout).status();
        }
        outcome = back.ok() ? absl::StrCat("; previous ", s.name, " restarted")
                            : absl::StrCat("; previous ", s.name,
                                           " NOT restored: ", back.message());
      }
      return WithSuffix(why, outcome);
    };
    absl::StatusOr<ContainerInfo> started =
        Start(s.name, s.host_port, request, s);
    if (!started.ok()) return restore(started.status());
    if (absl::Status healthy = WaitHealthy(*started, s); !healthy.ok()) {
      return restore(WithSuffix(healthy, Discard(s.name)));
    }
    SHAPIN_RETURN_IF_ERROR(Remove(parked));
    current = *started;
  }
  LogInfo("local_deployed", {{"environment", request.environment},
                             {"container", s.name},
                             {"endpoint", Endpoint(current.host_port)},
                             {"image_ref", image.ToString()}});
  return ApplyResult{.target_ref = current.id,
                     .endpoints = {Endpoint(current.host_port)},
                     .previous_revision = previous_digest,
                     .revision = digest};
}

absl::StatusOr<RolloutStatus> LocalPodmanTarget::CheckRollout(
    const RolloutQuery& query) {
  if (!query.image.digest().has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "local: image ", query.image.ToString(), " is not pinned by digest"));
  }
  SHAPIN_ASSIGN_OR_RETURN(Settings s,
                          ParseSettings(query.settings, query.environment));
  const std::string& name = s.name;
  SHAPIN_ASSIGN_OR_RETURN(std::optional<ContainerInfo> info, Inspect(name));
  if (!info.has_value()) {
    return ShapinError(ErrorCode::kTargetFailure,
                       absl::StrCat("local: container ", name, " is gone"));
  }
  const std::string& want = query.image.digest()->str();
  RolloutStatus status{.revision = info->image_digest};
  if (info->host_port != 0) status.endpoints = {Endpoint(info->host_port)};
  if (!info->running) {
    status.detail = absl::StrCat("container ", name, " is ", info->status);
    return status;
  }
  SHAPIN_ASSIGN_OR_RETURN(bool runs_wanted, ImageHasDigest(*info, want));
  if (!runs_wanted) {
    status.detail = absl::StrCat("container ", name, " runs ",
                                 info->image_digest, ", not ", want);
    return status;
  }
  status.revision = want;
  status.done = true;
  status.detail = absl::StrCat("container ", name, " runs ", want);
  return status;
}

}  // namespace shapin::deploy
