#include "cli/terminal_style.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace shapin::cli {

TerminalStyle TerminalStyle::ForStdout(bool no_color_flag) {
  const char* no_color = std::getenv("NO_COLOR");
  const bool env_off = no_color != nullptr && no_color[0] != '\0';
  return TerminalStyle(!no_color_flag && !env_off && StdoutIsTerminal());
}

std::string TerminalStyle::Paint(Colour c, absl::string_view text) const {
  if (!colour_) return std::string(text);
  absl::string_view code;
  switch (c) {
    case Colour::kNone:
      return std::string(text);
    case Colour::kBold:
      code = "1";
      break;
    case Colour::kDim:
      code = "2";
      break;
    case Colour::kRed:
      code = "31";
      break;
    case Colour::kGreen:
      code = "32";
      break;
    case Colour::kYellow:
      code = "33";
      break;
    case Colour::kCyan:
      code = "36";
      break;
  }
  return absl::StrCat("\x1b[", code, "m", text, "\x1b[0m");
}

bool StdoutIsTerminal() { return isatty(STDOUT_FILENO) == 1; }
bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

Colour ColourForState(absl::string_view state) {
  if (state == "succeeded") return Colour::kGreen;
  if (state == "failed" || state == "canceled") return Colour::kRed;
  if (state == "running" || state == "queued" || state == "pending") {
    return Colour::kYellow;
  }
  return Colour::kNone;
}

}  // namespace shapin::cli
