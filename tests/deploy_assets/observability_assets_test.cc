// Every metric and label that deploy/prometheus rules and deploy/grafana
// dashboards use is exported by the services: the real metric classes are
// instantiated, exercised once so every labelled series exists, collected,
// and compared with what the PromQL refers to.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "build-svc/build_metrics.h"
#include "common/grpc_server.h"
#include "deploy-svc/deploy_metrics.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "prometheus/registry.h"
#include "tests/deploy_assets/asset_files.h"
#include "tests/deploy_assets/promql_references.h"
#include "tests/support/status_matchers.h"
#include "yaml-cpp/yaml.h"

namespace shapin::testing {
namespace {

// Series name → label names, as Prometheus would store them after a scrape.
using ExportedSeries = std::map<std::string, std::set<std::string>>;

// Labels Prometheus adds to every scraped series (prometheus.yml targets).
const std::set<std::string>& TargetLabels() {
  static const auto* l =
      new std::set<std::string>{"job", "instance", "service"};
  return *l;
}

void AddCollected(const prometheus::Registry& registry, ExportedSeries& out) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    std::vector<std::string> names = {family.name};
    if (family.type == prometheus::MetricType::Histogram) {
      names = {family.name + "_bucket", family.name + "_sum",
               family.name + "_count"};
    }
    for (const std::string& name : names) {
      std::set<std::string>& labels = out[name];
      if (absl::EndsWith(name, "_bucket")) labels.insert("le");
      for (const prometheus::ClientMetric& m : family.metric) {
        for (const prometheus::ClientMetric::Label& l : m.label) {
          labels.insert(l.name);
        }
      }
    }
  }
}

// One RPC through the services' real gRPC bootstrap (GrpcServer installs
// the observability interceptor), so its series carry their labels.
void ExerciseGrpcObservability(prometheus::Registry& registry) {
  absl::StatusOr<std::unique_ptr<GrpcServer>> server =
      GrpcServer::Start({.listen = "127.0.0.1:0"}, {}, registry);
  ASSERT_THAT(server, IsOk());
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(stub->Check(&context, request, &response).ok());
  (*server)->Shutdown();
}

// What build-svc, deploy-svc and their gRPC interceptors export, each series
// with its labels.
ExportedSeries ExportedByServices() {
  ExportedSeries out;
  prometheus::Registry build_registry;
  build::BuildMetrics build(build_registry);
  build.ObserveBuild("canonical", "published", 120);
  build.ObservePush("canonical", 20);
  build.SetQueueDepth(1);
  build.CountDigestMismatch("build");
  AddCollected(build_registry, out);

  prometheus::Registry deploy_registry;
  deploy::DeployMetrics deploy(deploy_registry);
  deploy.ObserveDeployment("production", "deploy", "succeeded", 30);
  deploy.ObserveDeployment("production", "rollback", "succeeded", 30);
  deploy.CountSignature("unverified", "not_configured");
  deploy.SetDeployedImage("production", std::string(40, 'a'),
                          "sha256:" + std::string(64, 'b'));
  deploy.SetLeadTime("production", 600);
  deploy.CountDigestMismatch();
  deploy.SetSignedDeploymentsRatio("production", 1, 2);
  deploy.ObserveTimeToRestore("production", 600);
  deploy.LockWaitStarted("production");
  deploy.LockWaitEnded("production", 1.5);
  AddCollected(deploy_registry, out);

  prometheus::Registry grpc_registry;
  ExerciseGrpcObservability(grpc_registry);
  AddCollected(grpc_registry, out);

  // Prometheus's own per-target series.
  out["up"] = {};
  return out;
}

struct Expression {
  std::string where;  // file and rule or panel, for failure messages
  std::string promql;
};

std::vector<Expression> RuleExpressions() {
  std::vector<Expression> out;
  for (const std::string& file :
       AssetFiles("deploy/prometheus/rules", ".yml")) {
    YAML::Node root = YAML::LoadFile(AssetPath(file));
    for (const YAML::Node& group : root["groups"]) {
      for (const YAML::Node& rule : group["rules"]) {
        const std::string name = rule["alert"]
                                     ? rule["alert"].as<std::string>()
                                     : rule["record"].as<std::string>();
        out.push_back({file + " " + name, rule["expr"].as<std::string>()});
      }
    }
  }
  return out;
}

void CollectPanelExpressions(const nlohmann::json& panels,
                             const std::string& file,
                             std::vector<Expression>& out) {
  for (const nlohmann::json& panel : panels) {
    if (panel.contains("panels")) {
      CollectPanelExpressions(panel["panels"], file, out);
    }
    if (!panel.contains("targets")) continue;
    for (const nlohmann::json& target : panel["targets"]) {
      out.push_back({file + " panel \"" + panel.value("title", "") + "\"",
                     target.at("expr").get<std::string>()});
    }
  }
}

// label_values(metric, label) of a templating variable, as a PromQL-like
// selector so it is checked the same way.
std::vector<Expression> DashboardExpressions() {
  std::vector<Expression> out;
  for (const std::string& file :
       AssetFiles("deploy/grafana/dashboards", ".json")) {
    const nlohmann::json dash = nlohmann::json::parse(ReadAssetOrDie(file));
    CollectPanelExpressions(dash.at("panels"), file, out);
    for (const nlohmann::json& var : dash["templating"]["list"]) {
      if (var.value("type", "") != "query") continue;
      const std::string q = var["query"].is_string()
                                ? var["query"].get<std::string>()
                                : var["query"].value("query", "");
      const size_t open = q.find("label_values(");
      const size_t comma = q.find(',', open);
      const size_t close = q.find(')', comma);
      if (open == std::string::npos || comma == std::string::npos ||
          close == std::string::npos) {
        ADD_FAILURE() << file << " variable " << var["name"]
                      << ": expected label_values(metric, label), got " << q;
        continue;
      }
      const std::string metric = q.substr(open + 13, comma - open - 13);
      std::string label = q.substr(comma + 1, close - comma - 1);
      label.erase(0, label.find_first_not_of(' '));
      out.push_back({file + " variable " + var["name"].get<std::string>(),
                     metric + "{" + label + "!=\"\"}"});
    }
  }
  return out;
}

// The metric names, selector labels and grouping labels of `e` all exist in
// `exported`; returns the problems found.
std::vector<std::string> Problems(const Expression& e,
                                  const ExportedSeries& exported) {
  std::vector<std::string> problems;
  absl::StatusOr<PromqlReferences> refs = ExtractPromqlReferences(e.promql);
  if (!refs.ok()) return {std::string(refs.status().message())};
  std::set<std::string> in_scope = TargetLabels();
  for (const auto& [metric, labels] : refs->selectors) {
    auto it = exported.find(metric);
    if (it == exported.end()) {
      problems.push_back("metric " + metric + " is not exported");
      continue;
    }
    in_scope.insert(it->second.begin(), it->second.end());
    for (const std::string& label : labels) {
      if (!it->second.contains(label) && !TargetLabels().contains(label)) {
        problems.push_back("metric " + metric + " has no label " + label +
                           " (it has: " + absl::StrJoin(it->second, ", ") +
                           ")");
      }
    }
  }
  for (const std::string& label : refs->grouping_labels) {
    if (!in_scope.contains(label)) {
      problems.push_back("grouping label " + label +
                         " is on none of the metrics used");
    }
  }
  return problems;
}

class ObservabilityAssetsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    exported_ = new ExportedSeries(ExportedByServices());
  }
  static void TearDownTestSuite() { delete exported_; }
  static const ExportedSeries* exported_;
};
const ExportedSeries* ObservabilityAssetsTest::exported_ = nullptr;

TEST_F(ObservabilityAssetsTest, ServicesExportTheSeriesTheAssetsNeed) {
  // Guards the exercise itself: a series missing here would make the checks
  // below fail for the wrong reason, or pass vacuously for its labels.
  const ExportedSeries expected = {
      {"shapin_build_duration_seconds_bucket",
       {"repository_type", "result", "le"}},
      {"shapin_build_push_duration_seconds_bucket", {"repository_type", "le"}},
      {"shapin_image_build_total", {"repository_type", "result"}},
      {"shapin_build_queue_depth", {}},
      {"shapin_deploy_duration_seconds_bucket",
       {"environment", "kind", "result", "le"}},
      {"shapin_deployments_total", {"environment", "kind", "result"}},
      {"shapin_rollback_total", {"environment", "result"}},
      {"shapin_deployed_image_info", {"environment", "git_sha", "digest"}},
      {"shapin_lead_time_seconds", {"environment"}},
      {"shapin_signature_verification_total", {"status", "reason"}},
      {"shapin_signed_deployments_ratio", {"environment"}},
      {"shapin_digest_mismatch_total", {"phase"}},
      {"grpc_server_handled_total",
       {"grpc_service", "grpc_method", "grpc_code"}},
      {"grpc_server_handling_seconds_bucket",
       {"grpc_service", "grpc_method", "le"}},
  };
  for (const auto& [name, labels] : expected) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(exported_->contains(name)) << "not exported";
    EXPECT_EQ(exported_->at(name), labels);
  }
}

TEST_F(ObservabilityAssetsTest, AlertRulesUseExportedMetricsAndLabels) {
  const std::vector<Expression> rules = RuleExpressions();
  ASSERT_GE(rules.size(), 5u) << "deploy/prometheus/rules has no rules";
  for (const Expression& e : rules) {
    SCOPED_TRACE(e.where);
    EXPECT_THAT(Problems(e, *exported_), ::testing::IsEmpty()) << e.promql;
  }
}

TEST_F(ObservabilityAssetsTest, DashboardsUseExportedMetricsAndLabels) {
  const std::vector<Expression> queries = DashboardExpressions();
  ASSERT_GE(queries.size(), 10u) << "deploy/grafana/dashboards has no queries";
  for (const Expression& e : queries) {
    SCOPED_TRACE(e.where);
    EXPECT_THAT(Problems(e, *exported_), ::testing::IsEmpty()) << e.promql;
  }
}

TEST_F(ObservabilityAssetsTest, TheCheckCatchesUnknownMetricsAndLabels) {
  EXPECT_THAT(Problems({"x", "rate(shapin_no_such_total[5m])"}, *exported_),
              ::testing::ElementsAre(::testing::HasSubstr("not exported")));
  EXPECT_THAT(
      Problems({"x", "shapin_deployments_total{colour=\"red\"}"}, *exported_),
      ::testing::ElementsAre(::testing::HasSubstr("has no label colour")));
  EXPECT_THAT(
      Problems({"x", "sum by (colour) (shapin_rollback_total)"}, *exported_),
      ::testing::ElementsAre(::testing::HasSubstr("grouping label")));
}

TEST_F(ObservabilityAssetsTest, DashboardShowsTheServiceLevelTargets) {
  const nlohmann::json dash = nlohmann::json::parse(
      ReadAssetOrDie("deploy/grafana/dashboards/shapin-overview.json"));
  std::set<double> slo_lines;
  for (const nlohmann::json& panel : dash["panels"]) {
    if (!panel.contains("fieldConfig")) continue;
    const nlohmann::json& d = panel["fieldConfig"]["defaults"];
    if (!d.contains("custom") || !d["custom"].contains("thresholdsStyle") ||
        d["custom"]["thresholdsStyle"].value("mode", "off") == "off") {
      continue;
    }
    for (const nlohmann::json& step : d["thresholds"]["steps"]) {
      if (step["value"].is_number())
        slo_lines.insert(step["value"].get<double>());
    }
  }
  EXPECT_THAT(slo_lines, ::testing::IsSupersetOf({600.0, 300.0}));
}

}  // namespace
}  // namespace shapin::testing

namespace shapin::testing {
namespace {

// Grafana silently moves overlapping panels; a layout that only works by
// accident breaks on the next edit.
TEST(DashboardLayoutTest, PanelsHaveUniqueIdsAndDoNotOverlap) {
  for (const std::string& file :
       AssetFiles("deploy/grafana/dashboards", ".json")) {
    SCOPED_TRACE(file);
    const nlohmann::json dash = nlohmann::json::parse(ReadAssetOrDie(file));
    std::set<int> ids;
    std::map<std::pair<int, int>, std::string> cells;
    for (const nlohmann::json& panel : dash.at("panels")) {
      const std::string title = panel.value("title", "");
      EXPECT_TRUE(ids.insert(panel.at("id").get<int>()).second)
          << "duplicate id in " << title;
      const nlohmann::json& g = panel.at("gridPos");
      const int x = g.at("x"), y = g.at("y"), w = g.at("w"), h = g.at("h");
      EXPECT_LE(x + w, 24) << title << " is wider than the dashboard";
      std::string overlapped;
      for (int cx = x; cx < x + w; ++cx) {
        for (int cy = y; cy < y + h; ++cy) {
          auto [it, fresh] = cells.emplace(std::make_pair(cx, cy), title);
          if (!fresh && overlapped.empty()) overlapped = it->second;
        }
      }
      EXPECT_EQ(overlapped, "") << title << " overlaps another panel";
    }
  }
}

}  // namespace
}  // namespace shapin::testing
