#include "tests/faults/registry_gate.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shapin::faults {

using registry::testing::TinyHttpRequest;
using registry::testing::TinyHttpResponse;

RegistryGate::Match RegistryGate::TagWrite(const std::string& tag) {
  const std::string suffix = absl::StrCat("/manifests/", tag);
  return [suffix](const TinyHttpRequest& r) {
    return r.method == "PUT" && absl::EndsWith(r.path(), suffix);
  };
}

RegistryGate::Match RegistryGate::SignatureRequest() {
  return [](const TinyHttpRequest& r) {
    return absl::StrContains(r.path(), "/manifests/sha256-") &&
           absl::EndsWith(r.path(), ".sig");
  };
}

absl::StatusOr<std::unique_ptr<RegistryGate>> RegistryGate::Start(
    int upstream_port) {
  std::unique_ptr<RegistryGate> gate(new RegistryGate());
  gate->upstream_port_ = upstream_port;
  RegistryGate* self = gate.get();
  absl::StatusOr<std::unique_ptr<registry::testing::TinyHttpServer>> server =
      registry::testing::TinyHttpServer::Start(
          [self](const TinyHttpRequest& r) { return self->Handle(r); });
  if (!server.ok()) return server.status();
  gate->server_ = std::move(server).value();
  return gate;
}

RegistryGate::~RegistryGate() { Open(/*forward_held=*/false); }

TinyHttpResponse RegistryGate::Handle(const TinyHttpRequest& request) {
  {
    absl::MutexLock lock(&mu_);
    if (hold_ && hold_(request)) {
      ++held_;
      const int generation = generation_;
      auto opened = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return generation_ != generation;
      };
      mu_.Await(absl::Condition(&opened));
      if (!forward_held_) {
        return TinyHttpResponse{
            .status = 503, .headers = {}, .body = "held and dropped"};
      }
    }
    // What Count() matches on; bodies (layers) are not kept.
    forwarded_.push_back({.method = request.method,
                          .target = request.target,
                          .headers = {},
                          .body = ""});
  }
  absl::StatusOr<TinyHttpResponse> response =
      registry::testing::ForwardRequest(request, upstream_port_);
  if (!response.ok()) {
    return TinyHttpResponse{.status = 502,
                            .headers = {},
                            .body = std::string(response.status().message())};
  }
  return *std::move(response);
}

void RegistryGate::Hold(Match match) {
  absl::MutexLock lock(&mu_);
  hold_ = std::move(match);
}

bool RegistryGate::WaitUntilHeld(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto held = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return held_ > 0; };
  return mu_.AwaitWithTimeout(absl::Condition(&held), timeout);
}

void RegistryGate::Open(bool forward_held) {
  absl::MutexLock lock(&mu_);
  hold_ = nullptr;
  forward_held_ = forward_held;
  ++generation_;
}

int RegistryGate::Count(const Match& match) {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const TinyHttpRequest& r : forwarded_) n += match(r) ? 1 : 0;
  return n;
}

}  // namespace shapin::faults
