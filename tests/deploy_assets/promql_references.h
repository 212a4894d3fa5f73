// The metric names and label names a PromQL expression refers to, so tests
// can check dashboards and alert rules against what the services export.
//
// A deliberately small reading of PromQL: identifiers followed by `(` are
// functions, the rest are metric names; `{…}` after a metric lists the
// labels it is matched on; `by`/`without`/`on`/`ignoring`/`group_left`/
// `group_right` lists are grouping labels. Strings, `[…]` ranges, numbers
// and Grafana variables (`$environment`, `$__range`) are skipped.
//
//   absl::StatusOr<PromqlReferences> refs = ExtractPromqlReferences(
//       "sum by (result) (rate(shapin_image_build_total{job=\"b\"}[5m]))");
//   refs->selectors  // {"shapin_image_build_total": {"job"}}
//   refs->grouping_labels  // {"result"}
#ifndef SHAPIN_TESTS_DEPLOY_ASSETS_PROMQL_REFERENCES_H_
#define SHAPIN_TESTS_DEPLOY_ASSETS_PROMQL_REFERENCES_H_

#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shapin::testing {

struct PromqlReferences {
  // Metric name → label names matched in its selectors (possibly none).
  std::map<std::string, std::set<std::string>> selectors;
  // Labels named in by/without/on/ignoring/group_left/group_right.
  std::set<std::string> grouping_labels;
};

// INVALID_ARGUMENT for an unterminated string, range or matcher list, or a
// matcher without a label name.
absl::StatusOr<PromqlReferences> ExtractPromqlReferences(
    absl::string_view expr);

}  // namespace shapin::testing

#endif  // SHAPIN_TESTS_DEPLOY_ASSETS_PROMQL_REFERENCES_H_
