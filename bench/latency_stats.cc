#include "bench/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include "absl/strings/str_format.h"

namespace shapin::bench {

void LatencyStats::Merge(const LatencyStats& other) {
  ms_.insert(ms_.end(), other.ms_.begin(), other.ms_.end());
}

double LatencyStats::PercentileMs(double p) const {
  if (ms_.empty()) return 0;
  std::vector<double> sorted = ms_;
  std::sort(sorted.begin(), sorted.end());
  // Nearest rank: the smallest sample with at least p% of samples <= it.
  size_t rank = static_cast<size_t>(
      std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

double LatencyStats::MeanMs() const {
  if (ms_.empty()) return 0;
  return std::accumulate(ms_.begin(), ms_.end(), 0.0) /
         static_cast<double>(ms_.size());
}

std::string LatencyStats::Summary() const {
  return absl::StrFormat("p50 %.2f / p95 %.2f / p99 %.2f ms (n=%d)",
                         PercentileMs(50), PercentileMs(95), PercentileMs(99),
                         count());
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrFormat("%s %s %s", a, b, c);
}

}  // namespace shapin::bench
