#include "common/grpc_observability.h"

#include <array>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"

namespace shapin {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

// Buckets from 1 ms to 5 min: unary reads land at the low end, Deploy with
// wait and WatchBuild streams at the high end.
const prometheus::Histogram::BucketBoundaries& HandlingBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
      1,     2.5,    5,     10,   30,    60,   120, 300};
  return *buckets;
}

class ObservabilityInterceptor : public grpc::experimental::Interceptor {
 public:
  ObservabilityInterceptor(grpc::experimental::ServerRpcInfo* info,
                           prometheus::Family<prometheus::Counter>& handled,
                           prometheus::Family<prometheus::Histogram>& seconds)
      : handled_(handled), seconds_(seconds), start_(absl::Now()) {
    absl::string_view full = info->method();  // "/pkg.Service/Method"
    if (!full.empty() && full.front() == '/') full.remove_prefix(1);
    size_t slash = full.find('/');
    service_ = std::string(full.substr(0, slash));
    method_ = slash == absl::string_view::npos
                  ? ""
                  : std::string(full.substr(slash + 1));
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void Record(const grpc::Status& status) {
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    const absl::string_view code = GrpcCodeName(status.error_code());
    handled_
        .Add({{"grpc_service", service_},
              {"grpc_method", method_},
              {"grpc_code", std::string(code)}})
        .Increment();
    seconds_
        .Add({{"grpc_service", service_}, {"grpc_method", method_}},
             HandlingBuckets())
        .Observe(seconds);
    const LogLevel level = service_ == "grpc.health.v1.Health"
                               ? LogLevel::kDebug
                           : status.ok() ? LogLevel::kInfo
                                         : LogLevel::kWarning;
    std::vector<LogField> fields = {
        {"service", service_},
        {"method", method_},
        {"code", code},
        {"duration_ms", absl::StrCat(static_cast<int64_t>(seconds * 1000))}};
    if (!status.ok()) fields.push_back({"error", status.error_message()});
    Logger::Global().Log(level, "grpc_request", fields);
  }

  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  const absl::Time start_;
  std::string service_;
  std::string method_;
};

}  // namespace

absl::string_view GrpcCodeName(grpc::StatusCode code) {
  static constexpr std::array<absl::string_view, 17> kNames = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  if (index < 0 || index >= static_cast<int>(kNames.size())) return "UNKNOWN";
  return kNames[index];
}

ObservabilityInterceptorFactory::ObservabilityInterceptorFactory(
    prometheus::Registry& registry)
    : handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("RPCs completed on the server, by status code.")
                   .Register(registry)),
      handling_seconds_(
          prometheus::BuildHistogram()
              .Name("grpc_server_handling_seconds")
              .Help("Time from the start of an RPC to its status.")
              .Register(registry)) {}

grpc::experimental::Interceptor*
ObservabilityInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new ObservabilityInterceptor(info, handled_, handling_seconds_);
}

}  // namespace shapin
