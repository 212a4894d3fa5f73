#include "common/metrics_exposer.h"

#include <exception>

#include "absl/strings/str_cat.h"

namespace shapin {

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Start(
    const std::string& address,
    std::shared_ptr<prometheus::Registry> registry) {
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "metrics endpoint ", address,
        ": cannot listen (port in use or address invalid): ", e.what()));
  }
  std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(
        absl::StrCat("metrics endpoint ", address, ": no port bound"));
  }
  exposer->RegisterCollectable(registry);
  return std::unique_ptr<MetricsExposer>(
      new MetricsExposer(std::move(exposer), std::move(registry), ports[0]));
}

}  // namespace shapin
