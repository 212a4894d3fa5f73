// Aligned text tables for human output: a header row, then rows of cells,
// columns padded to their widest cell (ASCII widths), two spaces between
// columns, no trailing blanks. Colour is applied per cell after padding, so
// escape codes never skew the alignment.
//
//   Table t({"ID", "STATE", "SHA"});
//   t.AddRow({{"7"}, {"succeeded", Colour::kGreen}, {"3f2a9c1d0b7e"}});
//   std::cout << t.Render(style);
//   // ID  STATE      SHA
//   // 7   succeeded  3f2a9c1d0b7e
#ifndef SHAPIN_CLI_TABLE_H_
#define SHAPIN_CLI_TABLE_H_

#include <string>
#include <vector>

#include "cli/terminal_style.h"

namespace shapin::cli {

struct TableCell {
  std::string text{};
  Colour colour = Colour::kNone;
};

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // A row with fewer cells than headers is padded with empty cells; extra
  // cells are dropped. Empty text prints as "-" so columns never look shifted.
  void AddRow(std::vector<TableCell> cells);

  size_t rows() const { return rows_.size(); }

  // Header (bold when colour is on) and rows, each line ending in '\n'.
  std::string Render(const TerminalStyle& style) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<TableCell>> rows_;
};

// Label/value pairs, labels padded to the longest ("state:   succeeded").
// Pairs with an empty value are skipped.
class DetailList {
 public:
  void Add(std::string label, std::string value, Colour colour = Colour::kNone);
  std::string Render(const TerminalStyle& style) const;

 private:
  std::vector<std::pair<std::string, TableCell>> items_;
};

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_TABLE_H_
