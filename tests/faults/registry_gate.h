// RegistryGate: an HTTP proxy in front of the fault stack's docker-registry
// that can stop one request at an exact point of a publication — the first
// tag write, the first signature upload — and hold it while the test breaks
// something (SIGKILL the service, restart PostgreSQL), then let it through
// or drop it. It also counts requests, so a test can say "the SHA tag was
// written exactly once".
//
//   SHAPIN_ASSIGN_OR_RETURN(auto gate, RegistryGate::Start(registry.port()));
//   space.canonical_repository = gate->host() + "/name/app";
//   gate->Hold(RegistryGate::TagWrite(sha));
//   … ASSERT_TRUE(gate->WaitUntilHeld(absl::Seconds(90)));
//   svc.Kill();
//   gate->Open(/*forward_held=*/false);
//   EXPECT_EQ(gate->Count(RegistryGate::TagWrite(sha)), 1);
#ifndef SHAPIN_TESTS_FAULTS_REGISTRY_GATE_H_
#define SHAPIN_TESTS_FAULTS_REGISTRY_GATE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/registry/testing/tiny_http_server.h"

namespace shapin::faults {

class RegistryGate {
 public:
  using Match =
      std::function<bool(const registry::testing::TinyHttpRequest& request)>;

  // A manifest PUT under `tag` (a SHA tag being written).
  static Match TagWrite(const std::string& tag);
  // Any request for cosign's `.sig` manifest of any image: the first thing
  // a signer does.
  static Match SignatureRequest();

  // Listens on 127.0.0.1 and forwards to the registry on `upstream_port`.
  static absl::StatusOr<std::unique_ptr<RegistryGate>> Start(int upstream_port);
  // Drops whatever is still held (answered 503), then stops.
  ~RegistryGate();

  std::string host() const { return server_->host(); }

  // From now on, requests `match` accepts wait inside the gate (their
  // connection open, nothing forwarded) until Open().
  void Hold(Match match);
  // True once a request is waiting.
  bool WaitUntilHeld(absl::Duration timeout);
  // Stops holding. `forward_held`: waiting requests go on to the registry;
  // otherwise they are answered 503 and never reach it (their sender is
  // presumed dead).
  void Open(bool forward_held);
  // Requests forwarded to the registry that `match` accepts.
  int Count(const Match& match);

 private:
  RegistryGate() = default;
  registry::testing::TinyHttpResponse Handle(
      const registry::testing::TinyHttpRequest& request);

  int upstream_port_ = 0;
  absl::Mutex mu_;
  Match hold_ ABSL_GUARDED_BY(mu_);
  int held_ ABSL_GUARDED_BY(mu_) = 0;
  // Bumped by Open(); a held request leaves when it changes.
  int generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool forward_held_ ABSL_GUARDED_BY(mu_) = true;
  std::vector<registry::testing::TinyHttpRequest> forwarded_
      ABSL_GUARDED_BY(mu_);
  // Last: stopped (its handler threads joined) before mu_ goes.
  std::unique_ptr<registry::testing::TinyHttpServer> server_;
};

}  // namespace shapin::faults

#endif  // SHAPIN_TESTS_FAULTS_REGISTRY_GATE_H_
