#include "cli/progress_display.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/relative_time.h"

namespace shapin::cli {
namespace {

constexpr absl::string_view kSpinner = "|/-\\";

// Builder output may carry carriage returns, tabs or escape sequences; on
// our lines they would move the cursor.
std::string Printable(absl::string_view line) {
  std::string out(line);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

}  // namespace

ProgressDisplay::ProgressDisplay(std::ostream& out, bool live,
                                 TerminalStyle style, size_t tail_lines,
                                 size_t width)
    : out_(out),
      live_(live),
      style_(style),
      tail_lines_(tail_lines),
      width_(width < 20 ? 20 : width) {}

void ProgressDisplay::Update(absl::string_view phase, absl::Duration elapsed,
                             absl::string_view detail,
                             const std::vector<std::string>& new_log_lines) {
  const bool phase_changed = phase != phase_;
  phase_ = std::string(phase);
  detail_ = std::string(detail);
  elapsed_ = absl::Trunc(elapsed, absl::Seconds(1));
  if (!live_) {
    if (phase_changed) {
      out_ << absl::StrFormat("[%6s] %s  %s\n", ShortDuration(elapsed_), phase,
                              detail);
    }
    for (const std::string& line : new_log_lines) {
      out_ << "         | " << Printable(line) << "\n";
    }
    out_.flush();
    return;
  }
  for (const std::string& line : new_log_lines) {
    tail_.push_back(Printable(line));
    if (tail_.size() > tail_lines_) tail_.pop_front();
  }
  Redraw();
}

void ProgressDisplay::Tick(absl::Duration elapsed) {
  if (!live_) return;
  elapsed_ = absl::Trunc(elapsed, absl::Seconds(1));
  ++frame_;
  Redraw();
}

void ProgressDisplay::Finish() {
  if (!live_ || drawn_lines_ == 0) return;
  out_ << "\x1b[" << drawn_lines_ << "A\r\x1b[J";
  out_.flush();
  drawn_lines_ = 0;
}

std::string ProgressDisplay::Cut(absl::string_view line) const {
  if (line.size() < width_) return std::string(line);
  return absl::StrCat(line.substr(0, width_ - 4), "...");
}

void ProgressDisplay::Redraw() {
  std::string block;
  if (drawn_lines_ > 0) {
    // Up to the block's first line, then clear to the end of the screen.
    absl::StrAppend(&block, "\x1b[", drawn_lines_, "A\r\x1b[J");
  }
  const std::string status =
      Cut(absl::StrCat(std::string(1, kSpinner[frame_ % kSpinner.size()]), " ",
                       phase_, "  ", ShortDuration(elapsed_), "  ", detail_));
  absl::StrAppend(&block, style_.Paint(Colour::kBold, status), "\n");
  for (const std::string& line : tail_) {
    absl::StrAppend(&block, style_.Paint(Colour::kDim, Cut("  " + line)), "\n");
  }
  drawn_lines_ = 1 + tail_.size();
  out_ << block;
  out_.flush();
}

size_t TerminalWidth(size_t fallback) {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    return ws.ws_col;
  }
  return fallback;
}

}  // namespace shapin::cli
