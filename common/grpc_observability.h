// gRPC server interceptor: one log line and two metrics per call.
//
//   grpc_server_handled_total{grpc_service,grpc_method,grpc_code}  counter
//   grpc_server_handling_seconds{grpc_service,grpc_method}         histogram
//
// (the names and labels of go-grpc-prometheus, so existing dashboards work).
// Health checks log at debug level: load balancers call them every second.
//
//   std::vector<std::unique_ptr<
//       grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
//   interceptors.push_back(
//       std::make_unique<ObservabilityInterceptorFactory>(*registry));
//   builder.experimental().SetInterceptorCreators(std::move(interceptors));
#ifndef SHAPIN_COMMON_GRPC_OBSERVABILITY_H_
#define SHAPIN_COMMON_GRPC_OBSERVABILITY_H_

#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace shapin {

// "OK", "INVALID_ARGUMENT", … as Prometheus label values and in logs.
absl::string_view GrpcCodeName(grpc::StatusCode code);

class ObservabilityInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ObservabilityInterceptorFactory(prometheus::Registry& registry);
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_seconds_;
};

}  // namespace shapin

#endif  // SHAPIN_COMMON_GRPC_OBSERVABILITY_H_
