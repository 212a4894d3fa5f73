// The live view of a running build or deployment.
//
// On a terminal it redraws a block in place: one status line (spinner, phase,
// elapsed time, detail) and the last few log lines. Elsewhere (CI logs,
// pipes) it prints one line per phase change and each log line once, so the
// output reads top to bottom.
//
//   ProgressDisplay view(std::cout, /*live=*/StdoutIsTerminal(), style);
//   view.Update("building", absl::Seconds(12), "build 42 3f2a9c1d0b7e", lines);
//   view.Tick(absl::Seconds(13));   // redraws the elapsed time (live only)
//   view.Finish();                  // removes the block (live only)
#ifndef SHAPIN_CLI_PROGRESS_DISPLAY_H_
#define SHAPIN_CLI_PROGRESS_DISPLAY_H_

#include <deque>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/terminal_style.h"

namespace shapin::cli {

class ProgressDisplay {
 public:
  // `width`: terminal columns; live lines are cut to width - 1 so that none
  // wraps (a wrapped line would break the redraw).
  ProgressDisplay(std::ostream& out, bool live, TerminalStyle style,
                  size_t tail_lines = 6, size_t width = 100);

  // A new state: phase (e.g. "building"), time since the start, a detail
  // (what is being watched) and log lines that arrived since the last call.
  void Update(absl::string_view phase, absl::Duration elapsed,
              absl::string_view detail,
              const std::vector<std::string>& new_log_lines);

  // Live: redraws with a new elapsed time and the next spinner frame.
  // Otherwise nothing (a line per tick would flood logs).
  void Tick(absl::Duration elapsed);

  // Live: erases the block, so a summary can follow. Otherwise nothing.
  void Finish();

 private:
  void Redraw();
  std::string Cut(absl::string_view line) const;

  std::ostream& out_;
  const bool live_;
  const TerminalStyle style_;
  const size_t tail_lines_;
  const size_t width_;
  std::string phase_;
  std::string detail_;
  absl::Duration elapsed_;
  std::deque<std::string> tail_;
  size_t drawn_lines_ = 0;
  size_t frame_ = 0;
};

// Columns of the terminal on stdout; `fallback` when it is not a terminal.
size_t TerminalWidth(size_t fallback);

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_PROGRESS_DISPLAY_H_
