#include "deploy-svc/adapters/akash_cli_target.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/error_code.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/subprocess.h"
#include "deploy-svc/adapters/akash_json.h"
#include "nlohmann/json.hpp"

namespace shapin::deploy {

using json = nlohmann::json;

struct AkashCliTarget::Settings {
  std::string from;
  std::string dseq;
  std::string provider;
  int gseq = 1;
  int oseq = 1;
  std::string owner;
  std::string node;
  std::string chain_id;
  std::string keyring_backend;
  std::string home;
  std::string gas = "auto";
  std::string gas_adjustment = "1.5";
  std::string gas_prices = "0.025uakt";
  std::string fees;
};

struct AkashCliTarget::Lease {
  std::string provider;
  int gseq = 1;
  int oseq = 1;
};

namespace {

constexpr size_t kMaxOutputInError = 400;

const std::set<std::string>& KnownSettings() {
  static const auto* known =
      new std::set<std::string>{"from",       "dseq",     "provider",
                                "gseq",       "oseq",     "owner",
                                "node",       "chain_id", "keyring_backend",
                                "home",       "gas",      "gas_adjustment",
                                "gas_prices", "fees"};
  return *known;
}

bool IsDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
}

std::string Shorten(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.size() <= kMaxOutputInError) return std::string(text);
  return absl::StrCat("…", text.substr(text.size() - kMaxOutputInError));
}

absl::StatusOr<json> ParseJson(absl::string_view text, absl::string_view what) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return ShapinError(ErrorCode::kTargetFailure,
                       absl::StrCat("provider-services ", what,
                                    ": output is not JSON: ", Shorten(text)));
  }
  return doc;
}

void Append(std::vector<std::string>& args, const char* flag,
            const std::string& value) {
  if (value.empty()) return;
  args.push_back(flag);
  args.push_back(value);
}

std::string Get(const TargetSettings& settings, const char* key,
                std::string fallback = "") {
  auto it = settings.find(key);
  return it == settings.end() ? fallback : it->second;
}

absl::StatusOr<int> ParseSeq(const TargetSettings& settings, const char* key) {
  auto it = settings.find(key);
  if (it == settings.end()) return 1;
  int value = 0;
  if (!absl::SimpleAtoi(it->second, &value) || value < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("akash-cli: setting ", key, " must be a positive number"));
  }
  return value;
}

absl::Status CheckSettings(const TargetSettings& settings) {
  for (const auto& [key, value] : settings) {
    if (!KnownSettings().contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "akash-cli: unknown setting \"", key,
          "\" (known: ", absl::StrJoin(KnownSettings(), ", "), ")"));
    }
  }
  auto from = settings.find("from");
  if (from == settings.end() || from->second.empty()) {
    return absl::InvalidArgumentError(
        "akash-cli: setting from (the key name) is required");
  }
  if (auto it = settings.find("dseq");
      it != settings.end() && !IsDigits(it->second)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "akash-cli: setting dseq \"", it->second, "\" is not a number"));
  }
  SHAPIN_RETURN_IF_ERROR(ParseSeq(settings, "gseq").status());
  SHAPIN_RETURN_IF_ERROR(ParseSeq(settings, "oseq").status());
  return absl::OkStatus();
}

}  // namespace

AkashCliTarget::AkashCliTarget(AkashCliOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock
                                       : registry::RealClock::Get()) {
  options_.send_manifest_attempts =
      std::max(options_.send_manifest_attempts, 1);
}

absl::Status AkashCliTarget::ValidateSettings(
    const TargetSettings& settings) const {
  return CheckSettings(settings);
}

absl::StatusOr<AkashCliTarget::Settings> AkashCliTarget::ParseSettings(
    const TargetSettings& in, const std::string& fallback_dseq) {
  SHAPIN_RETURN_IF_ERROR(CheckSettings(in));
  Settings s;
  s.from = Get(in, "from");
  s.dseq = Get(in, "dseq", fallback_dseq);
  s.provider = Get(in, "provider");
  SHAPIN_ASSIGN_OR_RETURN(s.gseq, ParseSeq(in, "gseq"));
  SHAPIN_ASSIGN_OR_RETURN(s.oseq, ParseSeq(in, "oseq"));
  s.owner = Get(in, "owner");
  s.node = Get(in, "node");
  s.chain_id = Get(in, "chain_id");
  s.keyring_backend = Get(in, "keyring_backend");
  s.home = Get(in, "home");
  s.gas = Get(in, "gas", s.gas);
  s.gas_adjustment = Get(in, "gas_adjustment", s.gas_adjustment);
  s.gas_prices = Get(in, "gas_prices", s.gas_prices);
  s.fees = Get(in, "fees");
  return s;
}

absl::StatusOr<std::string> AkashCliTarget::Run(
    const std::vector<std::string>& args, absl::string_view what) {
  SubprocessOptions opts;
  opts.argv.push_back(options_.binary);
  opts.argv.insert(opts.argv.end(), args.begin(), args.end());
  opts.env_allow = options_.env_allow;
  opts.timeout = options_.command_timeout;
  SHAPIN_ASSIGN_OR_RETURN(SubprocessResult r, RunSubprocess(opts));
  if (r.timed_out) {
    return absl::UnavailableError(
        absl::StrCat("provider-services ", what, ": timed out after ",
                     absl::FormatDuration(options_.command_timeout)));
  }
  if (!r.ok()) {
    // CheckSuccess names the exit and carries the stderr tail.
    return ShapinError(
        ErrorCode::kTargetFailure,
        Logger::Global().Redact(
            r.CheckSuccess(absl::StrCat("provider-services ", what))
                .message()));
  }
  return std::move(r.stdout_data);
}

absl::StatusOr<std::string> AkashCliTarget::Owner(const Settings& s) {
  if (!s.owner.empty()) return s.owner;
  std::vector<std::string> args = {"keys", "show", s.from, "-a"};
  Append(args, "--keyring-backend", s.keyring_backend);
  Append(args, "--home", s.home);
  SHAPIN_ASSIGN_OR_RETURN(std::string out, Run(args, "keys show"));
  std::string owner(absl::StripAsciiWhitespace(out));
  if (owner.empty()) {
    return ShapinError(ErrorCode::kTargetFailure,
                       "provider-services keys show: empty address");
  }
  return owner;
}

absl::StatusOr<std::string> AkashCliTarget::Version(const Settings& s,
                                                    const std::string& owner,
                                                    const std::string& dseq) {
  std::vector<std::string> args = {"query", "deployment", "get", "--owner",
                                   owner,   "--dseq",     dseq};
  Append(args, "--node", s.node);
  Append(args, "--home", s.home);
  args.insert(args.end(), {"--output", "json"});
  SHAPIN_ASSIGN_OR_RETURN(std::string out, Run(args, "query deployment get"));
  SHAPIN_ASSIGN_OR_RETURN(json doc, ParseJson(out, "query deployment get"));
  const json* dep = Field(doc, "deployment");
  const std::string state = dep ? StringField(*dep, "state") : "";
  if (state != "active") {
    return ShapinError(
        ErrorCode::kTargetFailure,
        absl::StrCat("akash-cli: deployment ", dseq, " is ",
                     state.empty() ? "unknown" : state, ", not active"));
  }
  return StringField(*dep, "version");
}

absl::StatusOr<std::vector<AkashCliTarget::Lease>> AkashCliTarget::Leases(
    const Settings& s, const std::string& owner, const std::string& dseq) {
  if (!s.provider.empty()) {
    return std::vector<Lease>{{s.provider, s.gseq, s.oseq}};
  }
  std::vector<std::string> args = {"query",   "market", "lease",  "list",
                                   "--owner", owner,    "--dseq", dseq,
                                   "--state", "active"};
  Append(args, "--node", s.node);
  Append(args, "--home", s.home);
  args.insert(args.end(), {"--output", "json"});
  SHAPIN_ASSIGN_OR_RETURN(std::string out,
                          Run(args, "query market lease list"));
  SHAPIN_ASSIGN_OR_RETURN(json doc, ParseJson(out, "query market lease list"));
  std::vector<Lease> leases;
  if (const json* list = Field(doc, "leases"); list && list->is_array()) {
    for (const json& entry : *list) {
      const json* lease = Field(entry, "lease");
      const json* id = lease ? Field(*lease, "lease_id") : nullptr;
      if (id == nullptr || StringField(*lease, "state") != "active") continue;
      leases.push_back({StringField(*id, "provider"),
                        static_cast<int>(NumberField(*id, "gseq")),
                        static_cast<int>(NumberField(*id, "oseq"))});
    }
  }
  if (leases.empty()) {
    return ShapinError(
        ErrorCode::kTargetFailure,
        absl::StrCat("akash-cli: deployment ", dseq, " has no active lease"));
  }
  return leases;
}

absl::Status AkashCliTarget::SendManifest(const Settings& s,
                                          const std::string& sdl_path,
                                          const std::string& dseq,
                                          const std::string& provider) {
  std::vector<std::string> args = {"send-manifest", sdl_path, "--dseq", dseq,
                                   "--provider",    provider, "--from", s.from};
  Append(args, "--node", s.node);
  Append(args, "--keyring-backend", s.keyring_backend);
  Append(args, "--home", s.home);
  args.insert(args.end(), {"--output", "json"});
  absl::Duration backoff = options_.send_manifest_backoff;
  absl::Status last;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<std::string> out = Run(args, "send-manifest");
    if (out.ok()) {
      SHAPIN_ASSIGN_OR_RETURN(json doc, ParseJson(*out, "send-manifest"));
      std::vector<std::string> failed;
      for (const json& r : doc.is_array() ? doc : json::array({doc})) {
        if (StringField(r, "status") != "PASS") {
          failed.push_back(absl::StrCat(StringField(r, "provider"), ": ",
                                        StringField(r, "status"), " ",
                                        StringField(r, "error")));
        }
      }
      if (failed.empty()) return absl::OkStatus();
      last = ShapinError(ErrorCode::kTargetFailure,
                         absl::StrCat("provider-services send-manifest: ",
                                      absl::StrJoin(failed, "; ")));
    } else {
      last = out.status();
    }
    if (attempt >= options_.send_manifest_attempts) break;
    LogWarning("akash_cli_send_manifest_retry",
               {{"dseq", dseq},
                {"provider", provider},
                {"attempt", attempt},
                {"error", std::string(last.message())}});
    clock_->Sleep(backoff);
    backoff *= 2;
  }
  return last;
}

absl::StatusOr<ApplyResult> AkashCliTarget::Apply(const ApplyRequest& request) {
  if (request.manifest.empty()) {
    return absl::InvalidArgumentError("akash-cli: empty manifest");
  }
  SHAPIN_ASSIGN_OR_RETURN(
      Settings s,
      ParseSettings(request.settings, IsDigits(request.previous_target_ref)
                                          ? request.previous_target_ref
                                          : ""));
  if (s.dseq.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "akash-cli: environment ", request.environment,
        " has no dseq (the CLI target only updates existing deployments)"));
  }

  // The CLI reads the SDL from a file; a private temp file, removed after.
  std::string dir = options_.temp_dir;
  if (dir.empty()) {
    const char* tmp = getenv("TMPDIR");
    dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string path = absl::StrCat(dir, "/shapin-sdl-XXXXXX.yaml");
  const int fd = mkstemps(path.data(), 5);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("akash-cli: cannot create a temp file in ", dir));
  }
  absl::Cleanup remove_file = [&path] { unlink(path.c_str()); };
  const bool written =
      write(fd, request.manifest.data(), request.manifest.size()) ==
      static_cast<ssize_t>(request.manifest.size());
  close(fd);
  if (!written) {
    return absl::InternalError(
        absl::StrCat("akash-cli: cannot write the SDL to ", path));
  }

  SHAPIN_ASSIGN_OR_RETURN(std::string owner, Owner(s));
  SHAPIN_ASSIGN_OR_RETURN(std::string before, Version(s, owner, s.dseq));
  SHAPIN_ASSIGN_OR_RETURN(std::vector<Lease> leases, Leases(s, owner, s.dseq));

  std::vector<std::string> args = {"tx",     "deployment", "update", path,
                                   "--dseq", s.dseq,       "--from", s.from};
  Append(args, "--node", s.node);
  Append(args, "--chain-id", s.chain_id);
  Append(args, "--keyring-backend", s.keyring_backend);
  Append(args, "--home", s.home);
  if (!s.fees.empty()) {
    Append(args, "--fees", s.fees);
  } else {
    Append(args, "--gas", s.gas);
    Append(args, "--gas-adjustment", s.gas_adjustment);
    Append(args, "--gas-prices", s.gas_prices);
  }
  args.insert(args.end(), {"-y", "--output", "json"});
  SHAPIN_ASSIGN_OR_RETURN(std::string tx_out,
                          Run(args, "tx deployment update"));
  SHAPIN_ASSIGN_OR_RETURN(json tx, ParseJson(tx_out, "tx deployment update"));
  if (NumberField(tx, "code") != 0) {
    return ShapinError(
        ErrorCode::kTargetFailure,
        absl::StrCat("provider-services tx deployment update: code ",
                     NumberField(tx, "code"), " (",
                     StringField(tx, "codespace"),
                     "): ", Shorten(StringField(tx, "raw_log"))));
  }
  LogInfo("akash_cli_updated", {{"environment", request.environment},
                                {"dseq", s.dseq},
                                {"txhash", StringField(tx, "txhash")},
                                {"version_before", before}});

  for (const Lease& lease : leases) {
    SHAPIN_RETURN_IF_ERROR(SendManifest(s, path, s.dseq, lease.provider));
  }
  return ApplyResult{.target_ref = s.dseq,
                     .endpoints = {},
                     .previous_revision = before,
                     .revision = ""};
}

absl::StatusOr<RolloutStatus> AkashCliTarget::CheckRollout(
    const RolloutQuery& query) {
  SHAPIN_ASSIGN_OR_RETURN(Settings s,
                          ParseSettings(query.settings, query.target_ref));
  if (!IsDigits(s.dseq)) {
    return absl::InvalidArgumentError(
        absl::StrCat("akash-cli: target_ref \"", s.dseq, "\" is not a dseq"));
  }
  SHAPIN_ASSIGN_OR_RETURN(std::string owner, Owner(s));
  SHAPIN_ASSIGN_OR_RETURN(std::string version, Version(s, owner, s.dseq));
  RolloutStatus status{.revision = version};
  if (query.expect_revision_change && !query.previous_revision.empty() &&
      version == query.previous_revision) {
    status.detail = absl::StrCat("deployment version unchanged (", version,
                                 "): the update has not taken effect");
    return status;
  }
  SHAPIN_ASSIGN_OR_RETURN(std::vector<Lease> leases, Leases(s, owner, s.dseq));
  std::vector<std::string> waiting;
  for (const Lease& lease : leases) {
    std::vector<std::string> args = {"lease-status",
                                     "--dseq",
                                     s.dseq,
                                     "--gseq",
                                     absl::StrCat(lease.gseq),
                                     "--oseq",
                                     absl::StrCat(lease.oseq),
                                     "--provider",
                                     lease.provider,
                                     "--from",
                                     s.from};
    Append(args, "--node", s.node);
    Append(args, "--keyring-backend", s.keyring_backend);
    Append(args, "--home", s.home);
    SHAPIN_ASSIGN_OR_RETURN(std::string out, Run(args, "lease-status"));
    SHAPIN_ASSIGN_OR_RETURN(json doc, ParseJson(out, "lease-status"));
    const json* services = Field(doc, "services");
    if (services == nullptr || !services->is_object() || services->empty()) {
      waiting.push_back(absl::StrCat(lease.provider, ": no services yet"));
      continue;
    }
    for (const auto& [name, svc] : services->items()) {
      const double total = NumberField(svc, "total");
      const double available = NumberField(svc, "available");
      const double updated = NumberField(svc, "updated_replicas");
      if (total <= 0 || available < total || updated < total) {
        waiting.push_back(absl::StrCat(name, ": ", available, "/", total,
                                       " available, ", updated, "/", total,
                                       " updated"));
      }
      if (const json* uris = Field(svc, "uris"); uris && uris->is_array()) {
        for (const json& uri : *uris) {
          if (uri.is_string()) {
            status.endpoints.push_back("http://" + uri.get<std::string>());
          }
        }
      }
    }
  }
  status.done = waiting.empty();
  status.detail = status.done ? absl::StrCat("version ", version, ", ready")
                              : absl::StrJoin(waiting, "; ");
  return status;
}

}  // namespace shapin::deploy
