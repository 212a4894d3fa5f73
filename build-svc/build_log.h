// BuildLog: the builder output of one build, bounded.
//
// The pipeline adds lines from the builder's thread; the heartbeat thread
// takes the pending ones to store them (so WatchBuild in any process sees
// them). At most `max_lines` are kept; after that one marker line says how
// much was dropped, so a runaway build cannot fill the database.
#ifndef SHAPIN_BUILD_SVC_BUILD_LOG_H_
#define SHAPIN_BUILD_SVC_BUILD_LOG_H_

#include <deque>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace shapin::build {

class BuildLog {
 public:
  explicit BuildLog(int max_lines = 20000, int tail_lines = 40)
      : max_lines_(max_lines), tail_lines_(tail_lines) {}

  void Add(absl::string_view line);
  // Lines added since the last call.
  std::vector<std::string> TakePending();
  // The last `tail_lines` lines, newline-joined.
  std::string Tail() const;

 private:
  const int max_lines_;
  const int tail_lines_;
  mutable absl::Mutex mu_;
  int stored_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> pending_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> tail_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_LOG_H_
