// build-svc's Prometheus metrics.
//
//   shapin_build_duration_seconds{repository_type,result}     histogram
//   shapin_build_push_duration_seconds{repository_type}       histogram
//   shapin_image_build_total{repository_type,result}          counter
//   shapin_build_queue_depth                                  gauge
//   shapin_digest_mismatch_total{phase}                       counter
//   shapin_image_signing_total{result}                        counter
//
// result is published | reused | reproduced | failed | canceled. Buckets are
// dense around the 600 s build+push p95 target so histogram_quantile can
// tell 540 s from 660 s. Signing result is signed | failed | unsigned (no
// key configured), once per newly published image.
#ifndef SHAPIN_BUILD_SVC_BUILD_METRICS_H_
#define SHAPIN_BUILD_SVC_BUILD_METRICS_H_

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace shapin::build {

class BuildMetrics {
 public:
  explicit BuildMetrics(prometheus::Registry& registry);

  void ObserveBuild(absl::string_view repository_type, absl::string_view result,
                    double seconds);
  void ObservePush(absl::string_view repository_type, double seconds);
  void SetQueueDepth(double depth);
  // phase: "build" here; deploy-svc counts "deploy".
  void CountDigestMismatch(absl::string_view phase);
  void CountSigning(absl::string_view result);

 private:
  prometheus::Family<prometheus::Histogram>& build_seconds_;
  prometheus::Family<prometheus::Histogram>& push_seconds_;
  prometheus::Family<prometheus::Counter>& builds_;
  prometheus::Gauge& queue_depth_;
  prometheus::Family<prometheus::Counter>& digest_mismatches_;
  prometheus::Family<prometheus::Counter>& signings_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_METRICS_H_
