#include "tests/deploy_assets/promql_references.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shapin::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(PromqlReferencesTest, MetricsLabelsAndGroupings) {
  struct Case {
    const char* expr;
    std::map<std::string, std::set<std::string>> selectors;
    std::set<std::string> grouping;
  };
  const Case cases[] = {
      {"up", {{"up", {}}}, {}},
      {"up{job=~\"shapin-.*\"} == 0", {{"up", {"job"}}}, {}},
      {"histogram_quantile(0.95, sum by (le) (rate("
       "shapin_build_duration_seconds_bucket{result=~\"published|x\"}[1h]))) "
       "> 600",
       {{"shapin_build_duration_seconds_bucket", {"result"}}},
       {"le"}},
      {"sum(rate(a_total[5m])) without (instance, job) / on() group_left "
       "sum(b{c!=\"x\",d=\"y\"})",
       {{"a_total", {}}, {"b", {"c", "d"}}},
       {"instance", "job"}},
      {"max(q) > 0 and on() (sum(increase(c_total[20m])) or on() vector(0)) "
       "== 0",
       {{"q", {}}, {"c_total", {}}},
       {}},
      // Grafana variables and strings that look like metrics are skipped.
      {"sum by (environment) (increase(d_total{environment=~\"$environment\","
       "kind=\"deploy\"}[$__range]))",
       {{"d_total", {"environment", "kind"}}},
       {"environment"}},
      {"{__name__=\"named_metric\", env=\"a\"} offset 5m",
       {{"named_metric", {"env"}}},
       {}},
      {"clamp_min(x, 1e3) # a comment with fake_metric\n", {{"x", {}}}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expr);
    absl::StatusOr<PromqlReferences> refs = ExtractPromqlReferences(c.expr);
    ASSERT_THAT(refs, IsOk());
    EXPECT_EQ(refs->selectors, c.selectors);
    EXPECT_EQ(refs->grouping_labels, c.grouping);
  }
}

TEST(PromqlReferencesTest, MalformedExpressionsAreErrors) {
  for (const char* expr : {"a{b=\"c\"", "a{=\"c\"}", "a{b \"c\"}", "rate(a[5m)",
                           "a{b=\"c}", "{b=\"c\"}"}) {
    SCOPED_TRACE(expr);
    EXPECT_THAT(
        ExtractPromqlReferences(expr),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("promql:")));
  }
}

}  // namespace
}  // namespace shapin::testing
