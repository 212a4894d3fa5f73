#include "cli/table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace shapin::cli {
namespace {

// Appends `text` painted, padded to `width` unless it is the last column.
void AppendCell(std::string& line, const TerminalStyle& style,
                const std::string& text, Colour colour, size_t width,
                bool last) {
  absl::StrAppend(&line, style.Paint(colour, text));
  if (!last) line.append(width - text.size() + 2, ' ');
}

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::AddRow(std::vector<TableCell> cells) {
  cells.resize(headers_.size());
  for (TableCell& c : cells) {
    // assign(count, char): GCC 12 -O3 misreports -Wrestrict for = "-".
    if (c.text.empty()) {
      c.text.assign(1, '-');
      c.colour = Colour::kNone;
    }
  }
  rows_.push_back(std::move(cells));
}

std::string Table::Render(const TerminalStyle& style) const {
  std::vector<size_t> widths;
  for (const std::string& h : headers_) widths.push_back(h.size());
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].text.size());
    }
  }
  std::string out;
  const size_t n = headers_.size();
  std::string line;
  for (size_t i = 0; i < n; ++i) {
    AppendCell(line, style, headers_[i], Colour::kBold, widths[i], i + 1 == n);
  }
  absl::StrAppend(&out, line, "\n");
  for (const auto& row : rows_) {
    line.clear();
    for (size_t i = 0; i < n; ++i) {
      AppendCell(line, style, row[i].text, row[i].colour, widths[i],
                 i + 1 == n);
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

void DetailList::Add(std::string label, std::string value, Colour colour) {
  if (value.empty()) return;
  items_.push_back({std::move(label),
                    TableCell{.text = std::move(value), .colour = colour}});
}

std::string DetailList::Render(const TerminalStyle& style) const {
  size_t width = 0;
  for (const auto& [label, cell] : items_) {
    width = std::max(width, label.size() + 1);
  }
  std::string out;
  for (const auto& [label, cell] : items_) {
    std::string head = absl::StrCat(label, ":");
    head.resize(width + 1, ' ');
    absl::StrAppend(&out, style.Paint(Colour::kDim, head),
                    style.Paint(cell.colour, cell.text), "\n");
  }
  return out;
}

}  // namespace shapin::cli
