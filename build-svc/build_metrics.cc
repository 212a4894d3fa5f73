#include "build-svc/build_metrics.h"

#include <string>

namespace shapin::build {
namespace {

const prometheus::Histogram::BucketBoundaries& BuildBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      10,  30,  60,  120, 180, 240, 300,  360,  420,
      480, 540, 600, 660, 720, 900, 1200, 1800, 3600};
  return *b;
}

const prometheus::Histogram::BucketBoundaries& PushBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.5, 1, 2, 5, 10, 20, 30, 60, 120, 180, 300, 600};
  return *b;
}

}  // namespace

BuildMetrics::BuildMetrics(prometheus::Registry& registry)
    : build_seconds_(prometheus::BuildHistogram()
                         .Name("shapin_build_duration_seconds")
                         .Help("Build+push time from claim to result.")
                         .Register(registry)),
      push_seconds_(prometheus::BuildHistogram()
                        .Name("shapin_build_push_duration_seconds")
                        .Help("Time to push an image and create its tags.")
                        .Register(registry)),
      builds_(prometheus::BuildCounter()
                  .Name("shapin_image_build_total")
                  .Help("Builds that ended, by result.")
                  .Register(registry)),
      queue_depth_(prometheus::BuildGauge()
                       .Name("shapin_build_queue_depth")
                       .Help("Builds waiting to be claimed.")
                       .Register(registry)
                       .Add({})),
      digest_mismatches_(
          prometheus::BuildCounter()
              .Name("shapin_digest_mismatch_total")
              .Help("SHA tags whose digest differed from the expected one "
                    "(escalated).")
              .Register(registry)),
      signings_(prometheus::BuildCounter()
                    .Name("shapin_image_signing_total")
                    .Help("Newly published images by signing result.")
                    .Register(registry)) {
  // Zero-valued series exist from the start, so alerts on increase() work
  // before the first mismatch.
  digest_mismatches_.Add({{"phase", "build"}});
  signings_.Add({{"result", "failed"}});
}

void BuildMetrics::ObserveBuild(absl::string_view repository_type,
                                absl::string_view result, double seconds) {
  const std::map<std::string, std::string> labels = {
      {"repository_type", std::string(repository_type)},
      {"result", std::string(result)}};
  build_seconds_.Add(labels, BuildBuckets()).Observe(seconds);
  builds_.Add(labels).Increment();
}

void BuildMetrics::ObservePush(absl::string_view repository_type,
                               double seconds) {
  push_seconds_
      .Add({{"repository_type", std::string(repository_type)}}, PushBuckets())
      .Observe(seconds);
}

void BuildMetrics::SetQueueDepth(double depth) { queue_depth_.Set(depth); }

void BuildMetrics::CountDigestMismatch(absl::string_view phase) {
  digest_mismatches_.Add({{"phase", std::string(phase)}}).Increment();
}

void BuildMetrics::CountSigning(absl::string_view result) {
  signings_.Add({{"result", std::string(result)}}).Increment();
}

}  // namespace shapin::build
