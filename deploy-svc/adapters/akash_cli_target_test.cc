// AkashCliTarget against tests/fakes/provider-services, a stateful fake of
// the CLI (deployment versions, leases, provider manifest checks) that
// records every argv.
#include "deploy-svc/adapters/akash_cli_target.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"
#include "common/error_code.h"
#include "common/registry/testing/fake_clock.h"
#include "common/registry/testing/registry_server.h"
#include "common/registry/testing/status_matchers.h"
#include "deploy-svc/sdl_renderer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace shapin::deploy {
namespace {

using json = nlohmann::json;
using ::shapin::registry::testing::FakeClock;
using ::shapin::registry::testing::IsOk;
using ::shapin::registry::testing::StatusIs;
using ::shapin::registry::testing::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kSha[] = "cccccccccccccccccccccccccccccccccccccccc";
constexpr char kDigest[] =
    "sha256:3333333333333333333333333333333333333333333333333333333333333333";
constexpr char kOwner[] = "akash1owner000000000000000000000000000000";
constexpr char kProvider[] = "akash1provider0000000000000000000000000000";
constexpr char kNode[] = "http://127.0.0.1:26657";

ImageRef Pinned() {
  return *ImageRef::Parse(
      absl::StrCat("ghcr.io/mconstant/pay2slay-api:", kSha, "@", kDigest));
}

std::string Sdl() {
  std::ifstream in(std::string(SHAPIN_SOURCE_DIR) +
                   "/deploy/akash/pay2slay-api.sdl.yaml");
  std::stringstream text;
  text << in.rdbuf();
  const std::string tmpl = text.str();
  return *RenderSdl({.template_yaml = tmpl,
                     .service = "api",
                     .image = Pinned(),
                     .env = ImageEnv(Pinned())});
}

// What the chain stores as the deployment version: base64(sha256(sdl)).
std::string VersionOf(const std::string& sdl) {
  return absl::Base64Escape(absl::HexStringToBytes(Digest::OfBytes(sdl).hex()));
}

class AkashCliTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("shapin-cli-test");
    ASSERT_THAT(dir, IsOk());
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    state_path_ = (dir_->path() / "state.json").string();
    log_path_ = (dir_->path() / "argv.jsonl").string();
    setenv("PROVIDER_SERVICES_FAKE_STATE", state_path_.c_str(), 1);
    setenv("PROVIDER_SERVICES_FAKE_LOG", log_path_.c_str(), 1);
    WriteState({{"address", kOwner},
                {"deployments",
                 {{"77",
                   {{"owner", kOwner},
                    {"state", "active"},
                    {"version", "b2xkLXZlcnNpb24="},
                    {"leases", json::array({{{"provider", kProvider},
                                             {"gseq", 1},
                                             {"oseq", 1}}})}}}}}});
  }

  void WriteState(const json& state) {
    std::ofstream(state_path_) << state.dump();
  }
  json ReadState() {
    std::ifstream in(state_path_);
    return json::parse(in);
  }
  std::vector<std::vector<std::string>> Invocations() {
    std::vector<std::vector<std::string>> out;
    std::ifstream in(log_path_);
    for (std::string line; std::getline(in, line);) {
      out.push_back(json::parse(line).get<std::vector<std::string>>());
    }
    return out;
  }

  AkashCliTarget MakeTarget() {
    AkashCliOptions o;
    o.binary =
        std::string(SHAPIN_SOURCE_DIR) + "/tests/fakes/provider-services";
    o.env_allow = {"PROVIDER_SERVICES_FAKE_STATE",
                   "PROVIDER_SERVICES_FAKE_LOG"};
    o.temp_dir = dir_->path().string();
    o.command_timeout = absl::Seconds(20);
    o.send_manifest_attempts = 3;
    o.send_manifest_backoff = absl::Seconds(6);
    o.clock = &clock_;
    return AkashCliTarget(std::move(o));
  }

  ApplyRequest Request(TargetSettings settings) {
    return ApplyRequest{.environment = "production",
                        .manifest = Sdl(),
                        .image = Pinned(),
                        .git_sha = *GitSha::Parse(kSha),
                        .settings = std::move(settings)};
  }

  const TargetSettings kSettings = {{"from", "deployer"},
                                    {"dseq", "77"},
                                    {"node", kNode},
                                    {"chain_id", "akashnet-2"},
                                    {"keyring_backend", "test"}};
  std::unique_ptr<TempDir> dir_;
  std::string state_path_;
  std::string log_path_;
  FakeClock clock_;
};

TEST_F(AkashCliTargetTest, UpdatesAndSendsManifestWithExactArgv) {
  AkashCliTarget target = MakeTarget();
  absl::StatusOr<ApplyResult> applied = target.Apply(Request(kSettings));
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(applied->target_ref, "77");
  EXPECT_EQ(applied->previous_revision, "b2xkLXZlcnNpb24=");

  const std::string sdl_path_re =
      absl::StrCat(dir_->path().string(), "/shapin-sdl-[A-Za-z0-9]{6}\\.yaml");
  std::vector<std::vector<std::string>> calls = Invocations();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_THAT(calls[0], ElementsAre("keys", "show", "deployer", "-a",
                                    "--keyring-backend", "test"));
  EXPECT_THAT(calls[1],
              ElementsAre("query", "deployment", "get", "--owner", kOwner,
                          "--dseq", "77", "--node", kNode, "--output", "json"));
  EXPECT_THAT(calls[2],
              ElementsAre("query", "market", "lease", "list", "--owner", kOwner,
                          "--dseq", "77", "--state", "active", "--node", kNode,
                          "--output", "json"));
  EXPECT_THAT(
      calls[3],
      ElementsAre("tx", "deployment", "update", MatchesRegex(sdl_path_re),
                  "--dseq", "77", "--from", "deployer", "--node", kNode,
                  "--chain-id", "akashnet-2", "--keyring-backend", "test",
                  "--gas", "auto", "--gas-adjustment", "1.5", "--gas-prices",
                  "0.025uakt", "-y", "--output", "json"));
  EXPECT_THAT(
      calls[4],
      ElementsAre("send-manifest", MatchesRegex(sdl_path_re), "--dseq", "77",
                  "--provider", kProvider, "--from", "deployer", "--node",
                  kNode, "--keyring-backend", "test", "--output", "json"));
  EXPECT_EQ(calls[3][3], calls[4][1]);
  // The CLI read exactly the rendered SDL; the temp file is gone.
  EXPECT_EQ(ReadState()["deployments"]["77"]["version"], VersionOf(Sdl()));
  EXPECT_FALSE(std::filesystem::exists(calls[3][3]));

  RolloutQuery query{.environment = "production",
                     .image = Pinned(),
                     .target_ref = applied->target_ref,
                     .previous_revision = applied->previous_revision,
                     .settings = kSettings};
  absl::StatusOr<RolloutStatus> first = target.CheckRollout(query);
  ASSERT_THAT(first, IsOk());
  EXPECT_FALSE(first->done);
  EXPECT_THAT(first->detail, HasSubstr("api: 0/1 available"));
  absl::StatusOr<RolloutStatus> second = target.CheckRollout(query);
  ASSERT_THAT(second, IsOk());
  EXPECT_TRUE(second->done) << second->detail;
  EXPECT_EQ(second->revision, VersionOf(Sdl()));
  EXPECT_THAT(second->endpoints,
              ElementsAre("http://api.fake-provider.example"));
  EXPECT_THAT(
      Invocations().back(),
      ElementsAre("lease-status", "--dseq", "77", "--gseq", "1", "--oseq", "1",
                  "--provider", kProvider, "--from", "deployer", "--node",
                  kNode, "--keyring-backend", "test"));
}

TEST_F(AkashCliTargetTest, ConfiguredOwnerProviderAndFeesSkipLookups) {
  AkashCliTarget target = MakeTarget();
  ApplyRequest request = Request({{"from", "deployer"},
                                  {"owner", kOwner},
                                  {"provider", kProvider},
                                  {"fees", "5000uakt"}});
  request.previous_target_ref = "77";
  ASSERT_THAT(target.Apply(request), IsOk());
  std::vector<std::vector<std::string>> calls = Invocations();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0][1], "deployment");  // query deployment get
  EXPECT_THAT(calls[1],
              ElementsAre("tx", "deployment", "update", ::testing::_, "--dseq",
                          "77", "--from", "deployer", "--fees", "5000uakt",
                          "-y", "--output", "json"));
  EXPECT_EQ(calls[2][0], "send-manifest");
}

TEST_F(AkashCliTargetTest, FailedCommandIsTargetFailureWithStderrTail) {
  json state = ReadState();
  state["fail"]["tx deployment update"] = {
      {"exit", 1},
      {"stderr",
       "Error: rpc error: code = Unavailable desc = connection refused to "
       "node\n"}};
  WriteState(state);
  AkashCliTarget target = MakeTarget();
  absl::StatusOr<ApplyResult> applied = target.Apply(Request(kSettings));
  EXPECT_THAT(applied,
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("TARGET_FAILURE"),
                             HasSubstr("tx deployment update"),
                             HasSubstr("connection refused to node"))));
  EXPECT_EQ(ErrorCodeOf(applied.status()), ErrorCode::kTargetFailure);
  // Nothing was sent to the provider.
  for (const auto& call : Invocations()) EXPECT_NE(call[0], "send-manifest");
}

TEST_F(AkashCliTargetTest, RejectedTransactionCarriesRawLog) {
  json state = ReadState();
  state["deployments"]["77"]["version"] = VersionOf(Sdl());
  WriteState(state);
  AkashCliTarget target = MakeTarget();
  EXPECT_THAT(target.Apply(Request(kSettings)),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("code 5"),
                             HasSubstr("version has not changed"))));
}

TEST_F(AkashCliTargetTest, SendManifestIsRetried) {
  json state = ReadState();
  state["fail"]["send-manifest"] = {
      {"exit", 1},
      {"count", 1},
      {"stderr", "Error: remote server returned 500\n"}};
  WriteState(state);
  AkashCliTarget target = MakeTarget();
  ASSERT_THAT(target.Apply(Request(kSettings)), IsOk());
  EXPECT_THAT(clock_.sleeps(), ElementsAre(absl::Seconds(6)));
}

TEST_F(AkashCliTargetTest, ProviderRefusingTheManifestFailsAfterRetries) {
  // The update lands but the chain keeps the old version (as if the tx
  // never made it into a block): the provider refuses the manifest.
  json state = ReadState();
  state["freeze"] = true;
  WriteState(state);
  AkashCliTarget target = MakeTarget();
  EXPECT_THAT(target.Apply(Request(kSettings)),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr("submit manifest to some providers")));
  EXPECT_THAT(clock_.sleeps(),
              ElementsAre(absl::Seconds(6), absl::Seconds(12)));
}

TEST_F(AkashCliTargetTest, SettingsAreChecked) {
  AkashCliTarget target = MakeTarget();
  EXPECT_THAT(target.Apply(Request({{"from", "deployer"}})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("has no dseq")));
  EXPECT_THAT(target.ValidateSettings({{"dseq", "77"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("from")));
  EXPECT_THAT(target.ValidateSettings({{"from", "k"}, {"gseq", "0"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("gseq")));
  EXPECT_THAT(target.ValidateSettings({{"from", "k"}, {"fee", "1uakt"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown setting \"fee\"")));
  EXPECT_TRUE(Invocations().empty());
}

}  // namespace
}  // namespace shapin::deploy
