// Colour and emphasis for human output, switched off unless stdout is a
// terminal and NO_COLOR is unset (https://no-color.org), or with --no-color.
//
//   TerminalStyle style = TerminalStyle::ForStdout(/*no_color_flag=*/false);
//   std::cout << style.Paint(Colour::kGreen, "SUCCEEDED");
#ifndef SHAPIN_CLI_TERMINAL_STYLE_H_
#define SHAPIN_CLI_TERMINAL_STYLE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace shapin::cli {

enum class Colour { kNone, kBold, kDim, kRed, kGreen, kYellow, kCyan };

class TerminalStyle {
 public:
  // `colour` false: Paint returns text unchanged.
  explicit TerminalStyle(bool colour) : colour_(colour) {}

  // Colour when stdout is a TTY, NO_COLOR is unset or empty, and the caller
  // did not ask for none.
  static TerminalStyle ForStdout(bool no_color_flag);

  // `text` wrapped in the colour's ANSI escape and a reset; unchanged when
  // colour is off or `c` is kNone.
  std::string Paint(Colour c, absl::string_view text) const;

  bool colour() const { return colour_; }

 private:
  bool colour_ = false;
};

// Whether stdout / stderr is a terminal (isatty).
bool StdoutIsTerminal();
bool StderrIsTerminal();

// Colour conventions shared by the commands: succeeded green, failed red,
// in progress yellow; for state names as printed ("succeeded", "failed", …).
Colour ColourForState(absl::string_view state);

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_TERMINAL_STYLE_H_
