// Percentiles of measured latencies, computed from the sorted samples
// (nearest-rank), and the machine's load average to print beside them.
//
//   LatencyStats stats;
//   for (...) stats.Add(absl::Now() - start);
//   std::printf("p95 %.2f ms\n", stats.PercentileMs(95));
//
// Not thread-safe: concurrent generators keep one each and Merge() at the end.
#ifndef SHAPIN_BENCH_LATENCY_STATS_H_
#define SHAPIN_BENCH_LATENCY_STATS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace shapin::bench {

class LatencyStats {
 public:
  void Add(absl::Duration d) { ms_.push_back(absl::ToDoubleMilliseconds(d)); }
  void Merge(const LatencyStats& other);
  size_t count() const { return ms_.size(); }

  // Nearest-rank percentile in milliseconds (p in (0, 100]); 0 when empty.
  double PercentileMs(double p) const;
  double MeanMs() const;

  // "p50 1.23 / p95 4.56 / p99 7.89 ms (n=…)".
  std::string Summary() const;

 private:
  std::vector<double> ms_;
};

// The median of `v` (upper middle for even sizes); 0 when empty.
double Median(std::vector<double> v);

// "/proc/loadavg" first three fields, e.g. "3.10 2.80 2.55".
std::string LoadAverage();

}  // namespace shapin::bench

#endif  // SHAPIN_BENCH_LATENCY_STATS_H_
