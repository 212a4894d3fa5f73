#include "deploy-svc/adapters/akash_console_target.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/error_code.h"
#include "common/log.h"
#include "common/registry/curl_transport.h"
#include "common/status_macros.h"
#include "deploy-svc/adapters/akash_json.h"
#include "nlohmann/json.hpp"

namespace shapin::deploy {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxMessageChars = 300;

const std::set<std::string>& KnownSettings() {
  static const auto* known = new std::set<std::string>{
      "dseq", "allow_create", "providers", "denom", "deposit"};
  return *known;
}

struct ConsoleSettings {
  std::optional<std::string> dseq;
  bool allow_create = false;
  std::vector<std::string> providers;
  std::optional<std::string> denom;
  std::optional<double> deposit;
};

bool IsDseq(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
}

absl::StatusOr<ConsoleSettings> ParseSettings(const TargetSettings& settings) {
  ConsoleSettings out;
  for (const auto& [key, value] : settings) {
    if (!KnownSettings().contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "akash-console: unknown setting \"", key,
          "\" (known: ", absl::StrJoin(KnownSettings(), ", "), ")"));
    }
  }
  if (auto it = settings.find("dseq");
      it != settings.end() && !it->second.empty()) {
    if (!IsDseq(it->second)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "akash-console: setting dseq \"", it->second, "\" is not a number"));
    }
    out.dseq = it->second;
  }
  if (auto it = settings.find("allow_create"); it != settings.end()) {
    if (it->second != "true" && it->second != "false") {
      return absl::InvalidArgumentError(
          "akash-console: setting allow_create must be \"true\" or \"false\"");
    }
    out.allow_create = it->second == "true";
  }
  if (auto it = settings.find("providers"); it != settings.end()) {
    for (absl::string_view p : absl::StrSplit(it->second, ',')) {
      p = absl::StripAsciiWhitespace(p);
      if (!p.empty()) out.providers.emplace_back(p);
    }
  }
  if (auto it = settings.find("denom");
      it != settings.end() && !it->second.empty()) {
    out.denom = it->second;
  }
  if (auto it = settings.find("deposit"); it != settings.end()) {
    double deposit = 0;
    if (!absl::SimpleAtod(it->second, &deposit) || deposit <= 0) {
      return absl::InvalidArgumentError(
          "akash-console: setting deposit must be a positive number");
    }
    out.deposit = deposit;
  }
  return out;
}

absl::StatusOr<json> ParseData(absl::string_view body, absl::string_view what) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  const json* data = doc.is_discarded() ? nullptr : Field(doc, "data");
  if (data == nullptr) {
    return ShapinError(ErrorCode::kTargetFailure,
                       absl::StrCat("akash console ", what,
                                    ": response is not {\"data\": …}"));
  }
  return *data;
}

// The API's own explanation of an error response, shortened and redacted.
std::string ErrorMessageOf(absl::string_view body) {
  json doc = json::parse(body, nullptr, false);
  std::string message =
      doc.is_discarded() ? std::string(body) : StringField(doc, "message");
  if (message.empty() && !doc.is_discarded()) message = doc.dump();
  if (message.size() > kMaxMessageChars) {
    message = absl::StrCat(message.substr(0, kMaxMessageChars), "…");
  }
  return Logger::Global().Redact(message);
}

struct DeploymentView {
  std::string dseq;
  std::string state;
  std::string hash;
  json leases = json::array();
};

absl::StatusOr<DeploymentView> ParseDeployment(const json& data,
                                               absl::string_view what) {
  const json* dep = Field(data, "deployment");
  if (dep == nullptr) {
    return ShapinError(
        ErrorCode::kTargetFailure,
        absl::StrCat("akash console ", what, ": response has no deployment"));
  }
  DeploymentView view;
  if (const json* id = Field(*dep, "id")) view.dseq = StringField(*id, "dseq");
  view.state = StringField(*dep, "state");
  view.hash = StringField(*dep, "hash");
  if (const json* leases = Field(data, "leases");
      leases && leases->is_array()) {
    view.leases = *leases;
  }
  return view;
}

std::vector<std::string> EndpointsOf(const DeploymentView& view) {
  std::vector<std::string> endpoints;
  for (const json& lease : view.leases) {
    const json* status = Field(lease, "status");
    const json* services = status ? Field(*status, "services") : nullptr;
    if (services == nullptr || !services->is_object()) continue;
    for (const auto& [name, service] : services->items()) {
      const json* uris = Field(service, "uris");
      if (uris == nullptr || !uris->is_array()) continue;
      for (const json& uri : *uris) {
        if (!uri.is_string()) continue;
        std::string u = uri.get<std::string>();
        endpoints.push_back(absl::StrContains(u, "://") ? u : "http://" + u);
      }
    }
  }
  return endpoints;
}

// Whether every service of every active lease is fully rolled out; `detail`
// says what is missing.
bool LeasesReady(const DeploymentView& view, std::string* detail) {
  std::vector<std::string> waiting;
  int active = 0;
  for (const json& lease : view.leases) {
    if (StringField(lease, "state") != "active") continue;
    ++active;
    std::string provider;
    if (const json* id = Field(lease, "id")) {
      provider = StringField(*id, "provider");
    }
    const json* status = Field(lease, "status");
    const json* services = status ? Field(*status, "services") : nullptr;
    if (services == nullptr || !services->is_object() || services->empty()) {
      waiting.push_back(
          absl::StrCat("lease ", provider, ": no service status yet"));
      continue;
    }
    for (const auto& [name, service] : services->items()) {
      const double total = NumberField(service, "total");
      const double available = NumberField(service, "available");
      const double available_replicas =
          NumberField(service, "available_replicas");
      const double updated = NumberField(service, "updated_replicas");
      if (total <= 0 || available < total || available_replicas < total ||
          updated < total) {
        waiting.push_back(absl::StrCat(name, ": ", available, "/", total,
                                       " available, ", updated, "/", total,
                                       " updated"));
      }
    }
  }
  if (active == 0) waiting.push_back("no active lease");
  *detail = absl::StrJoin(waiting, "; ");
  return waiting.empty();
}

struct ChosenBid {
  int gseq = 0;
  int oseq = 0;
  std::string provider;
  double price = 0;
  std::string denom;
};

// The cheapest acceptable open bid per order (gseq/oseq); ties go to the
// provider listed first in the allow-list, so the choice is deterministic.
// `complete` when every order seen has one.
std::vector<ChosenBid> ChooseBids(const json& bids,
                                  const ConsoleSettings& settings,
                                  bool* complete, std::string* seen) {
  std::map<std::pair<int, int>, std::optional<ChosenBid>> orders;
  std::vector<std::string> described;
  for (const json& entry : bids) {
    const json* bid = Field(entry, "bid");
    const json* id = bid ? Field(*bid, "id") : nullptr;
    if (id == nullptr) continue;
    ChosenBid b;
    b.gseq = static_cast<int>(NumberField(*id, "gseq"));
    b.oseq = static_cast<int>(NumberField(*id, "oseq"));
    b.provider = StringField(*id, "provider");
    if (const json* price = Field(*bid, "price")) {
      b.price = NumberField(*price, "amount");
      b.denom = StringField(*price, "denom");
    }
    const std::string state = StringField(*bid, "state");
    auto& slot = orders[{b.gseq, b.oseq}];
    const auto rank = std::find(settings.providers.begin(),
                                settings.providers.end(), b.provider);
    const bool allowed = rank != settings.providers.end();
    described.push_back(absl::StrCat(b.provider, " ", b.price, b.denom, " (",
                                     state, allowed ? "" : ", not allowed",
                                     ")"));
    if (state != "open" || !allowed) continue;
    if (settings.denom.has_value() && b.denom != *settings.denom) continue;
    if (!slot.has_value() || b.price < slot->price ||
        (b.price == slot->price &&
         rank < std::find(settings.providers.begin(), settings.providers.end(),
                          slot->provider))) {
      slot = b;
    }
  }
  std::vector<ChosenBid> chosen;
  *complete = !orders.empty();
  for (const auto& [order, bid] : orders) {
    if (bid.has_value()) {
      chosen.push_back(*bid);
    } else {
      *complete = false;
    }
  }
  *seen = described.empty() ? "none" : absl::StrJoin(described, ", ");
  return chosen;
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

bool IsRetryableStatus(int status) {
  return status == 408 || status == 429 || status >= 500;
}

// Nothing reached the server: safe to retry even a non-idempotent call.
bool NeverSent(const absl::Status& status) {
  const std::optional<int> code = registry::CurlErrorCodeOf(status);
  return code.has_value() && (*code == CURLE_COULDNT_CONNECT ||
                              *code == CURLE_COULDNT_RESOLVE_HOST ||
                              *code == CURLE_COULDNT_RESOLVE_PROXY);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AkashConsoleTarget>> AkashConsoleTarget::Create(
    AkashConsoleOptions options) {
  const char* key = options.api_key_env.empty()
                        ? nullptr
                        : std::getenv(options.api_key_env.c_str());
  if (key == nullptr || *key == '\0') {
    return absl::FailedPreconditionError(
        absl::StrCat("akash-console: the API key variable ",
                     options.api_key_env, " is not set"));
  }
  Logger::Global().AddSecret(key);
  while (!options.base_url.empty() && options.base_url.back() == '/') {
    options.base_url.pop_back();
  }
  const std::string scheme = registry::UrlScheme(options.base_url);
  if (scheme != "https" &&
      !(scheme == "http" &&
        registry::IsLoopbackHost(registry::UrlHost(options.base_url)))) {
    return absl::InvalidArgumentError(
        absl::StrCat("akash-console: base_url ", options.base_url,
                     " must be https (plain http only for loopback)"));
  }
  if (!options.tls_server_name.empty() && scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("akash-console: tls_server_name ", options.tls_server_name,
                     " needs an https base_url, got ", options.base_url));
  }
  if (options.max_attempts < 1) options.max_attempts = 1;
  if (options.transport == nullptr) {
    registry::CurlTransportOptions curl;
    curl.ca_file = options.ca_file;
    if (!options.tls_server_name.empty()) {
      curl.tls_server_names[registry::UrlHost(options.base_url)] =
          options.tls_server_name;
    }
    curl.user_agent = "shapin-deploy/0.1";
    curl.clock = options.clock;
    SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<registry::CurlTransport> t,
                            registry::CurlTransport::Create(curl));
    options.transport = std::move(t);
  }
  return std::unique_ptr<AkashConsoleTarget>(
      new AkashConsoleTarget(std::move(options), key));
}

AkashConsoleTarget::AkashConsoleTarget(AkashConsoleOptions options,
                                       std::string api_key)
    : options_(std::move(options)),
      api_key_(std::move(api_key)),
      clock_(options_.clock != nullptr ? options_.clock
                                       : registry::RealClock::Get()) {}

absl::Status AkashConsoleTarget::ValidateSettings(
    const TargetSettings& settings) const {
  SHAPIN_ASSIGN_OR_RETURN(ConsoleSettings parsed, ParseSettings(settings));
  if (!parsed.dseq.has_value() && parsed.allow_create &&
      parsed.providers.empty()) {
    return absl::InvalidArgumentError(
        "akash-console: allow_create needs a providers allow-list");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> AkashConsoleTarget::Call(absl::string_view method,
                                                     const std::string& path,
                                                     const std::string& body,
                                                     Retry retry) {
  registry::HttpRequest req;
  req.method = std::string(method);
  req.url = options_.base_url + path;
  req.headers = {{"x-api-key", api_key_}, {"Accept", "application/json"}};
  if (!body.empty()) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body;
  }
  req.timeout = options_.request_timeout;
  const std::string what = absl::StrCat(method, " ", path);

  absl::Duration backoff = options_.initial_backoff;
  absl::StatusOr<registry::HttpResponse> outcome;
  int attempt = 1;
  for (;; ++attempt) {
    outcome = options_.transport->RoundTrip(req);
    if (outcome.ok() && outcome->status / 100 == 2) return outcome->body;
    const bool retryable =
        outcome.ok()
            ? retry == Retry::kAlways && IsRetryableStatus(outcome->status)
            : absl::IsUnavailable(outcome.status()) &&
                  (retry == Retry::kAlways || NeverSent(outcome.status()));
    if (!retryable || attempt >= options_.max_attempts) break;
    LogWarning("akash_console_retry",
               {{"request", what},
                {"attempt", attempt},
                {"backoff", absl::FormatDuration(backoff)},
                {"reason", outcome.ok() ? absl::StrCat(outcome->status)
                                        : std::string(Logger::Global().Redact(
                                              outcome.status().message()))}});
    clock_->Sleep(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }

  const std::string attempts =
      attempt > 1 ? absl::StrCat(" (after ", attempt, " attempts)") : "";
  if (!outcome.ok()) {
    const std::string message = absl::StrCat(
        "akash console ", what, ": ",
        Logger::Global().Redact(outcome.status().message()), attempts);
    if (absl::IsUnavailable(outcome.status()) ||
        absl::IsDeadlineExceeded(outcome.status())) {
      return absl::UnavailableError(message);
    }
    return ShapinError(ErrorCode::kTargetFailure, message);
  }
  const std::string message =
      absl::StrCat("akash console ", what, ": HTTP ", outcome->status, ": ",
                   ErrorMessageOf(outcome->body), attempts);
  if (retry == Retry::kAlways && IsRetryableStatus(outcome->status)) {
    return absl::UnavailableError(message);
  }
  return ShapinError(ErrorCode::kTargetFailure, message);
}

absl::StatusOr<ApplyResult> AkashConsoleTarget::Apply(
    const ApplyRequest& request) {
  SHAPIN_ASSIGN_OR_RETURN(ConsoleSettings settings,
                          ParseSettings(request.settings));
  if (request.manifest.empty()) {
    return absl::InvalidArgumentError("akash-console: empty manifest");
  }
  std::optional<std::string> dseq = settings.dseq;
  if (!dseq.has_value() && IsDseq(request.previous_target_ref)) {
    dseq = request.previous_target_ref;
  }
  if (dseq.has_value()) return Update(*dseq, request.manifest);
  if (!settings.allow_create) {
    return absl::FailedPreconditionError(absl::StrCat(
        "akash-console: environment ", request.environment,
        " has no deployment (no dseq) and allow_create is not set"));
  }
  return CreateDeployment(request);
}

absl::StatusOr<ApplyResult> AkashConsoleTarget::Update(const std::string& dseq,
                                                       const std::string& sdl) {
  const std::string path = absl::StrCat("/v1/deployments/", dseq);
  SHAPIN_ASSIGN_OR_RETURN(std::string before_body,
                          Call("GET", path, "", Retry::kAlways));
  SHAPIN_ASSIGN_OR_RETURN(json before_data, ParseData(before_body, "GET"));
  SHAPIN_ASSIGN_OR_RETURN(DeploymentView before,
                          ParseDeployment(before_data, "GET"));
  if (before.state != "active") {
    return ShapinError(ErrorCode::kTargetFailure,
                       absl::StrCat("akash console: deployment ", dseq, " is ",
                                    before.state, ", not active"));
  }
  const std::string body = json{{"data", {{"sdl", sdl}}}}.dump();
  SHAPIN_ASSIGN_OR_RETURN(std::string after_body,
                          Call("PUT", path, body, Retry::kAlways));
  SHAPIN_ASSIGN_OR_RETURN(json after_data, ParseData(after_body, "PUT"));
  SHAPIN_ASSIGN_OR_RETURN(DeploymentView after,
                          ParseDeployment(after_data, "PUT"));
  LogInfo("akash_console_updated", {{"dseq", dseq},
                                    {"hash_before", before.hash},
                                    {"hash_after", after.hash}});
  return ApplyResult{.target_ref = dseq,
                     .endpoints = EndpointsOf(after),
                     .previous_revision = before.hash,
                     .revision = after.hash};
}

absl::StatusOr<ApplyResult> AkashConsoleTarget::CreateDeployment(
    const ApplyRequest& request) {
  SHAPIN_ASSIGN_OR_RETURN(ConsoleSettings settings,
                          ParseSettings(request.settings));
  if (settings.providers.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("akash-console: environment ", request.environment,
                     " allows creation but lists no providers"));
  }
  json create = {{"data", {{"sdl", request.manifest}}}};
  if (settings.deposit.has_value()) {
    create["data"]["deposit"] = *settings.deposit;
  }
  SHAPIN_ASSIGN_OR_RETURN(
      std::string created_body,
      Call("POST", "/v1/deployments", create.dump(), Retry::kOnlyUnsent));
  SHAPIN_ASSIGN_OR_RETURN(json created,
                          ParseData(created_body, "POST /v1/deployments"));
  const std::string dseq = StringField(created, "dseq");
  const std::string manifest = StringField(created, "manifest");
  if (!IsDseq(dseq) || manifest.empty()) {
    return ShapinError(ErrorCode::kTargetFailure,
                       "akash console POST /v1/deployments: response lacks "
                       "dseq or manifest");
  }
  LogInfo("akash_console_created",
          {{"environment", request.environment}, {"dseq", dseq}});

  // A deployment without a lease only holds the deposit: close it when
  // no lease can be made, so a failed create leaves nothing behind.
  auto fail = [&](absl::Status status) -> absl::Status {
    absl::StatusOr<std::string> closed = Call(
        "DELETE", absl::StrCat("/v1/deployments/", dseq), "", Retry::kAlways);
    return WithSuffix(
        status,
        absl::StrCat("; deployment ", dseq,
                     closed.ok() ? " closed"
                                 : absl::StrCat(" NOT closed: ",
                                                closed.status().message())));
  };

  const absl::Time deadline = clock_->Now() + options_.bid_timeout;
  std::vector<ChosenBid> chosen;
  std::string seen;
  while (true) {
    absl::StatusOr<std::string> bids_body =
        Call("GET", absl::StrCat("/v1/bids?dseq=", dseq), "", Retry::kAlways);
    if (!bids_body.ok()) return fail(bids_body.status());
    absl::StatusOr<json> bids = ParseData(*bids_body, "GET /v1/bids");
    if (!bids.ok()) return fail(bids.status());
    bool complete = false;
    chosen = ChooseBids(*bids, settings, &complete, &seen);
    if (complete) break;
    if (clock_->Now() + options_.bid_poll_interval > deadline) {
      return fail(ShapinError(
          ErrorCode::kTargetFailure,
          absl::StrCat("akash console: no acceptable bid for deployment ", dseq,
                       " within ", absl::FormatDuration(options_.bid_timeout),
                       " (bids: ", seen, "; allowed: ",
                       absl::StrJoin(settings.providers, ", "), ")")));
    }
    clock_->Sleep(options_.bid_poll_interval);
  }

  json leases = json::array();
  for (const ChosenBid& bid : chosen) {
    leases.push_back({{"dseq", dseq},
                      {"gseq", bid.gseq},
                      {"oseq", bid.oseq},
                      {"provider", bid.provider}});
    LogInfo("akash_console_bid_chosen",
            {{"dseq", dseq},
             {"provider", bid.provider},
             {"price", absl::StrCat(bid.price, bid.denom)}});
  }
  const json lease_request = {{"manifest", manifest}, {"leases", leases}};
  absl::StatusOr<std::string> leased_body =
      Call("POST", "/v1/leases", lease_request.dump(), Retry::kAlways);
  if (!leased_body.ok()) return fail(leased_body.status());
  SHAPIN_ASSIGN_OR_RETURN(json leased_data,
                          ParseData(*leased_body, "POST /v1/leases"));
  SHAPIN_ASSIGN_OR_RETURN(DeploymentView leased,
                          ParseDeployment(leased_data, "POST /v1/leases"));
  return ApplyResult{.target_ref = dseq,
                     .endpoints = EndpointsOf(leased),
                     .previous_revision = "",
                     .revision = leased.hash};
}

absl::StatusOr<RolloutStatus> AkashConsoleTarget::CheckRollout(
    const RolloutQuery& query) {
  if (!IsDseq(query.target_ref)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "akash-console: target_ref \"", query.target_ref, "\" is not a dseq"));
  }
  SHAPIN_ASSIGN_OR_RETURN(
      std::string body,
      Call("GET", absl::StrCat("/v1/deployments/", query.target_ref), "",
           Retry::kAlways));
  SHAPIN_ASSIGN_OR_RETURN(json data, ParseData(body, "GET"));
  SHAPIN_ASSIGN_OR_RETURN(DeploymentView view, ParseDeployment(data, "GET"));
  if (view.state != "active") {
    return ShapinError(ErrorCode::kTargetFailure,
                       absl::StrCat("akash console: deployment ",
                                    query.target_ref, " is ", view.state));
  }
  RolloutStatus status{.revision = view.hash, .endpoints = EndpointsOf(view)};
  if (query.expect_revision_change && !query.previous_revision.empty() &&
      view.hash == query.previous_revision) {
    status.detail = absl::StrCat("deployment hash unchanged (", view.hash,
                                 "): the update has not taken effect");
    return status;
  }
  std::string waiting;
  status.done = LeasesReady(view, &waiting);
  status.detail =
      status.done ? absl::StrCat("hash ", view.hash, ", ready") : waiting;
  return status;
}

}  // namespace shapin::deploy
