// MetricsExposer: serves a Prometheus registry at http://<address>/metrics.
//
// prometheus-cpp's Exposer throws when its port is taken; Start() turns that
// into an error naming the address, so a service can exit with a clear
// message instead of aborting on an uncaught exception.
//
//   auto registry = std::make_shared<prometheus::Registry>();
//   SHAPIN_ASSIGN_OR_RETURN(auto exposer,
//                           MetricsExposer::Start("127.0.0.1:9464", registry));
#ifndef SHAPIN_COMMON_METRICS_EXPOSER_H_
#define SHAPIN_COMMON_METRICS_EXPOSER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace shapin {

class MetricsExposer {
 public:
  // `address` is host:port; port 0 picks a free one (see port()).
  // UNAVAILABLE naming the address when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Start(
      const std::string& address,
      std::shared_ptr<prometheus::Registry> registry);

  // The port actually bound.
  int port() const { return port_; }

 private:
  MetricsExposer(std::unique_ptr<prometheus::Exposer> exposer,
                 std::shared_ptr<prometheus::Registry> registry, int port)
      : exposer_(std::move(exposer)),
        registry_(std::move(registry)),
        port_(port) {}
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  int port_;
};

}  // namespace shapin

#endif  // SHAPIN_COMMON_METRICS_EXPOSER_H_
