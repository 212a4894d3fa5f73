#include "tests/deploy_assets/promql_references.h"

#include <cctype>

#include "absl/strings/str_cat.h"

namespace shapin::testing {
namespace {

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsIdentChar(char c) {
  return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c));
}

const std::set<std::string>& GroupingKeywords() {
  static const auto* k = new std::set<std::string>{
      "by", "without", "on", "ignoring", "group_left", "group_right"};
  return *k;
}

const std::set<std::string>& OtherKeywords() {
  static const auto* k =
      new std::set<std::string>{"and",   "or",  "unless", "bool", "offset",
                                "atan2", "inf", "nan",    "Inf",  "NaN"};
  return *k;
}

class Scanner {
 public:
  explicit Scanner(absl::string_view text) : text_(text) {}

  absl::StatusOr<PromqlReferences> Run() {
    std::string last_metric;  // a metric just read: `{` belongs to it
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
        continue;
      }
      if (c == '"' || c == '\'' || c == '`') {
        if (!SkipString()) return Error("unterminated string");
        last_metric.clear();
        continue;
      }
      if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
        continue;
      }
      if (c == '[') {
        const size_t end = text_.find(']', pos_);
        if (end == absl::string_view::npos) return Error("unterminated [");
        pos_ = end + 1;
        continue;
      }
      if (c == '{') {
        absl::Status s = ReadMatchers(last_metric);
        if (!s.ok()) return s;
        last_metric.clear();
        continue;
      }
      if (c == '$') {  // Grafana variable: $name or ${name}
        ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '{') {
          const size_t end = text_.find('}', pos_);
          if (end == absl::string_view::npos) return Error("unterminated ${");
          pos_ = end + 1;
        } else {
          while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
        }
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c)) ||
          (c == '.' && pos_ + 1 < text_.size() &&
           std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])))) {
        // Numbers and durations (0.95, 1e3, 5m).
        while (pos_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
                text_[pos_] == '.')) {
          ++pos_;
        }
        continue;
      }
      if (IsIdentStart(c)) {
        const std::string ident = ReadIdent();
        last_metric.clear();
        if (GroupingKeywords().contains(ident)) {
          absl::Status s = ReadLabelList();
          if (!s.ok()) return s;
          continue;
        }
        if (OtherKeywords().contains(ident)) continue;
        // A function, or an aggregation with its grouping first
        // (`sum by (le) (…)`).
        if (NextNonSpace() == '(' || NextIsGroupingKeyword()) continue;
        refs_.selectors[ident];
        last_metric = ident;
        continue;
      }
      last_metric.clear();
      ++pos_;
    }
    return refs_;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("promql: ", what, " at offset ", pos_, " in: ", text_));
  }

  bool SkipString() {
    const char quote = text_[pos_++];
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '\\' && quote != '`') {
        ++pos_;
      } else if (c == quote) {
        return true;
      }
    }
    return false;
  }

  std::string ReadIdent() {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  char NextNonSpace() {
    size_t p = pos_;
    while (p < text_.size() &&
           std::isspace(static_cast<unsigned char>(text_[p]))) {
      ++p;
    }
    return p < text_.size() ? text_[p] : '\0';
  }

  bool NextIsGroupingKeyword() {
    size_t p = pos_;
    while (p < text_.size() &&
           std::isspace(static_cast<unsigned char>(text_[p]))) {
      ++p;
    }
    size_t end = p;
    while (end < text_.size() && IsIdentChar(text_[end])) ++end;
    const std::string next(text_.substr(p, end - p));
    return next == "by" || next == "without";
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }

  // `{label op "value", …}`; labels go to `metric`'s set, or with no metric
  // before the braces, `__name__="x"` names the metric.
  absl::Status ReadMatchers(const std::string& metric) {
    ++pos_;  // '{'
    std::set<std::string> labels;
    std::string named_metric;
    for (;;) {
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unterminated {");
      if (text_[pos_] == '}') {
        ++pos_;
        break;
      }
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (!IsIdentStart(text_[pos_])) return Error("expected a label name");
      const std::string label = ReadIdent();
      SkipSpace();
      const size_t op_start = pos_;
      while (pos_ < text_.size() &&
             (text_[pos_] == '=' || text_[pos_] == '!' || text_[pos_] == '~')) {
        ++pos_;
      }
      if (pos_ == op_start) return Error("expected a matcher operator");
      SkipSpace();
      if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) {
        return Error("expected a quoted label value");
      }
      const size_t value_start = pos_ + 1;
      if (!SkipString()) return Error("unterminated string");
      if (label == "__name__") {
        named_metric =
            std::string(text_.substr(value_start, pos_ - 1 - value_start));
        continue;
      }
      labels.insert(label);
    }
    const std::string& target = metric.empty() ? named_metric : metric;
    if (target.empty()) {
      return Error("a matcher list without a metric name");
    }
    refs_.selectors[target].insert(labels.begin(), labels.end());
    return absl::OkStatus();
  }

  // `( label, … )` after a grouping keyword; group_left may have none.
  absl::Status ReadLabelList() {
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != '(') return absl::OkStatus();
    ++pos_;
    for (;;) {
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unterminated label list");
      if (text_[pos_] == ')') {
        ++pos_;
        return absl::OkStatus();
      }
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (!IsIdentStart(text_[pos_])) return Error("expected a label name");
      refs_.grouping_labels.insert(ReadIdent());
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
  PromqlReferences refs_;
};

}  // namespace

absl::StatusOr<PromqlReferences> ExtractPromqlReferences(
    absl::string_view expr) {
  return Scanner(expr).Run();
}

}  // namespace shapin::testing
