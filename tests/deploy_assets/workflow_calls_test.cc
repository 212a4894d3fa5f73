// deploy/ci/github workflows: valid YAML, calling RPCs that exist in
// proto/shapin/v1 with request bodies that parse as their request messages,
// credentials only from secrets and never printed.
//
// Each request body is built with jq in the run script; the test runs that
// very assignment through bash and jq with sample inputs and parses the JSON
// with protobuf's JSON parser (unknown fields are errors), as grpcurl would.
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/subprocess.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/deploy_assets/asset_files.h"
#include "tests/support/status_matchers.h"
#include "yaml-cpp/yaml.h"

namespace shapin::testing {
namespace {

using ::testing::Contains;
using ::testing::IsSupersetOf;

const char kSampleSha[] = "3f2a9c1d0b7e4a5f8c6d2e1b0a9f8e7d6c5b4a39";

struct GrpcCall {
  std::string step;
  std::string service;   // "shapin.v1.BuildService"
  std::string method;    // "SubmitBuild"
  std::string body_var;  // the variable passed to -d
};

struct Step {
  std::string name;
  std::string run;
  std::map<std::string, std::string> env;
};

struct Workflow {
  std::string file;
  YAML::Node root;
  std::vector<Step> steps;
};

Workflow LoadWorkflow(const std::string& file) {
  Workflow w{file, YAML::LoadFile(AssetPath(file)), {}};
  for (const auto& job : w.root["jobs"]) {
    for (const YAML::Node& s : job.second["steps"]) {
      Step step;
      step.name = s["name"].as<std::string>("");
      step.run = s["run"].as<std::string>("");
      if (s["env"]) {
        for (const auto& e : s["env"]) {
          step.env[e.first.as<std::string>()] = e.second.as<std::string>("");
        }
      }
      w.steps.push_back(std::move(step));
    }
  }
  return w;
}

// Shell lines with backslash continuations joined.
std::vector<std::string> LogicalLines(const std::string& script) {
  std::vector<std::string> out;
  std::string joined = absl::StrReplaceAll(script, {{"\\\n", " "}});
  for (absl::string_view line : absl::StrSplit(joined, '\n')) {
    out.emplace_back(line);
  }
  return out;
}

std::vector<GrpcCall> CallsIn(const Step& step) {
  static const std::regex kCall(
      R"re(grpcurl\b.*-d "\$([A-Za-z_]+)".*\b(shapin\.v1\.[A-Za-z]+)/([A-Za-z]+))re");
  std::vector<GrpcCall> calls;
  for (const std::string& line : LogicalLines(step.run)) {
    if (!absl::StrContains(line, "shapin.v1.")) continue;
    std::smatch m;
    if (!std::regex_search(line, m, kCall)) {
      ADD_FAILURE() << step.name << ": a shapin.v1 call not in the form "
                    << "grpcurl … -d \"$body\" … shapin.v1.Service/Method: "
                    << line;
      continue;
    }
    calls.push_back({step.name, m[2], m[3], m[1]});
  }
  return calls;
}

// The JSON the script's `VAR="$(jq …)"` assignment produces from sample
// values of the step's environment.
std::string BodyJson(const Step& step, const std::string& var) {
  std::string assignment;
  for (const std::string& line : LogicalLines(step.run)) {
    if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(line),
                         var + "=\"$(jq ")) {
      assignment = line;
    }
  }
  if (assignment.empty()) {
    ADD_FAILURE() << step.name << ": no " << var << "=\"$(jq …)\" assignment";
    return "";
  }
  SubprocessOptions opts;
  opts.argv = {"bash", "-c",
               absl::StrCat("set -euo pipefail\n", assignment,
                            "\nprintf '%s' \"$", var, "\"")};
  for (const auto& [name, value] : step.env) {
    const bool is_sha = name == "GIT_SHA" || name == "IMAGE_SHA";
    opts.env.push_back({name, is_sha ? kSampleSha : "sample " + name});
  }
  opts.env.push_back({"build_id", "42"});
  opts.timeout = absl::Seconds(20);
  absl::StatusOr<SubprocessResult> r = RunSubprocess(opts);
  if (!r.ok() || !r->ok()) {
    ADD_FAILURE() << step.name << ": running the " << var << " assignment: "
                  << (r.ok() ? r->stderr_data : r.status().ToString());
    return "";
  }
  return r->stdout_data;
}

class WorkflowCallsTest : public ::testing::Test {
 protected:
  static std::vector<std::string> Files() {
    return AssetFiles("deploy/ci/github", ".yml");
  }
};

TEST_F(WorkflowCallsTest, TheThreeWorkflowsExist) {
  EXPECT_THAT(Files(), IsSupersetOf({"deploy/ci/github/api-build.yml",
                                     "deploy/ci/github/api-deploy.yml",
                                     "deploy/ci/github/api-rollback.yml"}));
}

TEST_F(WorkflowCallsTest, EveryCallNamesAnExistingMethodWithAValidBody) {
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  google::protobuf::DynamicMessageFactory factory(pool);
  int calls = 0;
  for (const std::string& file : Files()) {
    const Workflow w = LoadWorkflow(file);
    for (const Step& step : w.steps) {
      for (const GrpcCall& call : CallsIn(step)) {
        SCOPED_TRACE(absl::StrCat(file, " step \"", call.step, "\" ",
                                  call.service, "/", call.method));
        ++calls;
        const google::protobuf::ServiceDescriptor* service =
            pool->FindServiceByName(call.service);
        ASSERT_NE(service, nullptr) << "no such service in proto/shapin/v1";
        const google::protobuf::MethodDescriptor* method =
            service->FindMethodByName(call.method);
        ASSERT_NE(method, nullptr) << "no such method";
        const std::string json = BodyJson(step, call.body_var);
        ASSERT_FALSE(json.empty());
        std::unique_ptr<google::protobuf::Message> request(
            factory.GetPrototype(method->input_type())->New());
        const auto status =
            google::protobuf::util::JsonStringToMessage(json, request.get());
        EXPECT_TRUE(status.ok())
            << json << " is not a " << method->input_type()->full_name() << ": "
            << status.ToString();
        // Every field sent is set (jq produced no nulls or typos).
        std::vector<const google::protobuf::FieldDescriptor*> set;
        request->GetReflection()->ListFields(*request, &set);
        EXPECT_FALSE(set.empty()) << json;
      }
    }
  }
  EXPECT_GE(calls, 4) << "SubmitBuild, WatchBuild, Deploy, Rollback";
}

TEST_F(WorkflowCallsTest, EachWorkflowMakesItsCalls) {
  auto methods = [](const std::string& file) {
    std::set<std::string> out;
    for (const Step& step : LoadWorkflow(file).steps) {
      for (const GrpcCall& c : CallsIn(step)) {
        out.insert(c.service + "/" + c.method);
      }
    }
    return out;
  };
  EXPECT_EQ(methods("deploy/ci/github/api-build.yml"),
            (std::set<std::string>{"shapin.v1.BuildService/SubmitBuild",
                                   "shapin.v1.BuildService/WatchBuild"}));
  EXPECT_EQ(methods("deploy/ci/github/api-deploy.yml"),
            (std::set<std::string>{"shapin.v1.DeployService/Deploy"}));
  EXPECT_EQ(methods("deploy/ci/github/api-rollback.yml"),
            (std::set<std::string>{"shapin.v1.DeployService/Rollback"}));
}

TEST_F(WorkflowCallsTest, TriggersMatchTheSpec) {
  const YAML::Node build = LoadWorkflow("deploy/ci/github/api-build.yml").root;
  EXPECT_TRUE(build["on"]["push"]) << "api-build runs on push";

  const YAML::Node deploy =
      LoadWorkflow("deploy/ci/github/api-deploy.yml").root;
  ASSERT_TRUE(deploy["on"]["workflow_run"]);
  EXPECT_EQ(deploy["on"]["workflow_run"]["workflows"][0].as<std::string>(),
            "api-build");
  EXPECT_EQ(deploy["on"]["workflow_run"]["branches"][0].as<std::string>(),
            "main");
  for (const auto& job : deploy["jobs"]) {
    const std::string cond = job.second["if"].as<std::string>("");
    EXPECT_THAT(cond, ::testing::HasSubstr("conclusion == 'success'"));
    EXPECT_THAT(cond, ::testing::HasSubstr("refs/heads/main"));
  }

  const YAML::Node rollback =
      LoadWorkflow("deploy/ci/github/api-rollback.yml").root;
  const YAML::Node input =
      rollback["on"]["workflow_dispatch"]["inputs"]["IMAGE_SHA"];
  ASSERT_TRUE(input) << "api-rollback needs an IMAGE_SHA input";
  EXPECT_TRUE(input["required"].as<bool>());
  EXPECT_FALSE(rollback["on"]["push"]) << "rollback only by hand (FR-013)";
}

TEST_F(WorkflowCallsTest, SecretsOnlyThroughEnvAndNeverPrinted) {
  for (const std::string& file : Files()) {
    const Workflow w = LoadWorkflow(file);
    for (const Step& step : w.steps) {
      SCOPED_TRACE(absl::StrCat(file, " step \"", step.name, "\""));
      // Expressions are expanded into the script text before bash parses it,
      // so untrusted values (branch names, inputs) and secrets reach scripts
      // only as environment variables.
      EXPECT_FALSE(absl::StrContains(step.run, "${{")) << step.run;
      EXPECT_FALSE(absl::StrContains(step.run, "set -x"));
      for (const std::string& line : LogicalLines(step.run)) {
        if (!absl::StrContains(line, "SHAPIN_TOKEN")) continue;
        EXPECT_FALSE(absl::StrContains(line, "echo") ||
                     absl::StrContains(line, "printf") ||
                     absl::StrContains(line, "tee"))
            << "the token is printed: " << line;
      }
      for (const auto& [name, value] : step.env) {
        if (absl::StrContains(value, "secrets.")) {
          EXPECT_EQ(value, "${{ secrets." + name + " }}")
              << name << " takes exactly its own secret";
        }
      }
    }
  }
}

TEST_F(WorkflowCallsTest, GrpcurlIsPinnedByChecksum) {
  for (const std::string& file : Files()) {
    SCOPED_TRACE(file);
    const Workflow w = LoadWorkflow(file);
    EXPECT_THAT(w.root["env"]["GRPCURL_SHA256"].as<std::string>(""),
                ::testing::MatchesRegex("[0-9a-f]{64}"));
    bool verified = false;
    for (const Step& step : w.steps) {
      if (absl::StrContains(step.run, "grpcurl_${GRPCURL_VERSION}") &&
          absl::StrContains(step.run, "sha256sum -c")) {
        verified = true;
      }
    }
    EXPECT_TRUE(verified) << "grpcurl is downloaded without a checksum check";
  }
}

TEST_F(WorkflowCallsTest, BuildJobFailsUnlessTheBuildSucceeded) {
  const Workflow w = LoadWorkflow("deploy/ci/github/api-build.yml");
  std::string script;
  for (const Step& step : w.steps) script += step.run;
  EXPECT_THAT(script,
              ::testing::HasSubstr("[ \"$state\" != BUILD_STATE_SUCCEEDED ]"));
  EXPECT_THAT(script, ::testing::HasSubstr("exit 1"));
}

}  // namespace
}  // namespace shapin::testing
