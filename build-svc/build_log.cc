#include "build-svc/build_log.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shapin::build {

void BuildLog::Add(absl::string_view line) {
  // Very long lines (progress bars without newlines) are cut, not dropped.
  constexpr size_t kMaxLineBytes = 4096;
  std::string text(line.substr(0, kMaxLineBytes));
  absl::MutexLock lock(&mu_);
  tail_.push_back(text);
  while (static_cast<int>(tail_.size()) > tail_lines_) tail_.pop_front();
  if (stored_ < max_lines_) {
    ++stored_;
    pending_.push_back(std::move(text));
    return;
  }
  if (dropped_++ == 0) {
    pending_.push_back(absl::StrCat("[shapin: log limit of ", max_lines_,
                                    " lines reached; further lines are kept "
                                    "only in log_tail]"));
  }
}

std::vector<std::string> BuildLog::TakePending() {
  absl::MutexLock lock(&mu_);
  return std::exchange(pending_, {});
}

std::string BuildLog::Tail() const {
  absl::MutexLock lock(&mu_);
  return absl::StrJoin(tail_, "\n");
}

}  // namespace shapin::build
