// The pages as HTML text: what each role sees, that every value is escaped,
// and the error and sign-in pages.
#include "deploy-svc/console/build_pages.h"
#include "deploy-svc/console/environment_pages.h"
#include "deploy-svc/console/page_layout.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace shapin::console {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kShaA[] = "aaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbb";
constexpr char kShaB[] = "cccccccccccc0000000000000000000000000000";
constexpr char kHostile[] = "<script>alert(1)</script>\" onload=\"x";

GitSha Sha(const char* s) { return *GitSha::Parse(s); }

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

PageContext Context(bool can_operate) {
  return {.viewer = Viewer{.identity = "alice",
                           .roles = can_operate ? "operator,viewer" : "viewer",
                           .can_operate = can_operate,
                           .csrf_token = "csrf-token-of-alice"},
          .now = kNow};
}

deploy::DeploymentRecord Deployment(int64_t id, const char* sha,
                                    deploy::DeploymentState state) {
  deploy::DeploymentRecord d(Sha(sha));
  d.deployment_id = id;
  d.environment = "production";
  d.state = state;
  d.created_at = kNow - absl::Minutes(10);
  d.started_at = d.created_at;
  d.finished_at = d.created_at + absl::Seconds(42);
  d.duration_seconds = 42;
  d.image_ref = absl::StrCat("ghcr.io/mconstant/pay2slay-api:", sha,
                             "@sha256:", std::string(64, 'e'));
  d.digest = *Digest::Parse("sha256:" + std::string(64, 'e'));
  d.signature_status = "verified";
  d.signature_reason = "verified";
  d.provenance_status = "verified";
  d.requested_by = "ci";
  return d;
}

EnvironmentView HeldProduction() {
  EnvironmentView view;
  view.status.name = "production";
  view.status.target = "akash-console";
  view.status.current =
      Deployment(7, kShaA, deploy::DeploymentState::kSucceeded);
  view.status.current->kind = deploy::DeploymentKind::kRollback;
  view.status.latest = view.status.current;
  view.status.hold = {.environment = "production",
                      .held = true,
                      .deployment_id = 7,
                      .held_by = "alice",
                      .held_since = kNow - absl::Minutes(9),
                      .released_by = "",
                      .held_sha = Sha(kShaA)};
  deploy::RollbackCandidate b(Sha(kShaB),
                              *Digest::Parse("sha256:" + std::string(64, 'f')));
  b.built_at = kNow - absl::Hours(3);
  b.last_deployed_at = kNow - absl::Hours(1);
  view.targets.push_back(b);
  deploy::DeploymentRecord failed =
      Deployment(8, kShaB, deploy::DeploymentState::kFailed);
  failed.error_code = "ON_HOLD";
  failed.error_message = absl::StrCat("ON_HOLD ", kHostile);
  failed.reason = kHostile;
  failed.previous_sha = kShaA;
  view.recent = {failed, *view.status.current};
  return view;
}

TEST(EnvironmentPagesTest, AnOperatorGetsTheRollbackFormAndTheReleaseButton) {
  const std::string html =
      RenderEnvironmentPage(Context(true), HeldProduction());
  EXPECT_THAT(html, HasSubstr("action=\"/environments/production/rollback\""));
  EXPECT_THAT(html,
              HasSubstr("action=\"/environments/production/release-hold\""));
  EXPECT_THAT(html, HasSubstr("name=\"csrf\" value=\"csrf-token-of-alice\""));
  // The candidate that ran here before is preselected; the running SHA is
  // the current one, shown in full.
  EXPECT_THAT(
      html, HasSubstr(absl::StrCat("<option value=\"", kShaB, "\" selected>")));
  EXPECT_THAT(html, HasSubstr(absl::StrCat("data-sha=\"", kShaA, "\"")));
  EXPECT_THAT(html,
              HasSubstr(absl::StrCat("<code class=\"full-sha\">", kShaA)));
  EXPECT_THAT(html, HasSubstr("data-held=\"true\""));
}

TEST(EnvironmentPagesTest, AViewerSeesTheHoldButNoControls) {
  const std::string html =
      RenderEnvironmentPage(Context(false), HeldProduction());
  EXPECT_THAT(html, Not(HasSubstr("/rollback\"")));
  EXPECT_THAT(html, Not(HasSubstr("/release-hold\"")));
  EXPECT_THAT(html, Not(HasSubstr("<select")));
  EXPECT_THAT(html, HasSubstr("needs the <code>operator</code> role"));
  EXPECT_THAT(html, HasSubstr("<span class=\"held\">held</span> by alice"));
}

TEST(EnvironmentPagesTest, HistoryShowsFailuresEscapedAndLinksShasToBuilds) {
  const std::string html =
      RenderEnvironmentPage(Context(false), HeldProduction());
  EXPECT_THAT(html, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(html, Not(HasSubstr("\" onload=\"")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;&quot; "
                              "onload=&quot;x"));
  // The code once, then the rest of the message.
  EXPECT_THAT(html, HasSubstr("<code class=\"error-code\">ON_HOLD</code> "
                              "&lt;script&gt;"));
  EXPECT_THAT(html, HasSubstr(absl::StrCat("href=\"/builds?sha=", kShaB)));
  EXPECT_THAT(html, HasSubstr("data-kind=\"rollback\""));
  EXPECT_THAT(html, HasSubstr(">42s<"));
}

TEST(EnvironmentPagesTest, OverviewShowsCurrentShaOrNothingDeployed) {
  EnvironmentView held = HeldProduction();
  EnvironmentStatus empty{.name = "staging", .target = "local"};
  const std::string html =
      RenderEnvironmentsPage(Context(false), {held.status, empty});
  EXPECT_THAT(html, HasSubstr("href=\"/environments/production\""));
  EXPECT_THAT(html, HasSubstr(absl::StrCat("class=\"current-sha\" data-sha=\"",
                                           kShaA, "\"")));
  EXPECT_THAT(html, HasSubstr(absl::StrCat("title=\"", kShaA, "\"><code>",
                                           std::string(kShaA).substr(0, 12),
                                           "</code>")));
  EXPECT_THAT(html,
              HasSubstr(absl::StrCat("<code class=\"digest\" title=\"sha256:",
                                     std::string(64, 'e'), "\">")));
  // The reason only when it says more than the status.
  EXPECT_THAT(html, Not(HasSubstr("<span class=\"reason\">verified")));
  EXPECT_THAT(html, HasSubstr("nothing deployed yet"));
  EXPECT_THAT(html, HasSubstr("2023-11-14 22:04:02 UTC"));  // since, absolute
}

TEST(EnvironmentPagesTest, HistoryPagesLinkOlderWithTheKeysetToken) {
  Page<deploy::DeploymentRecord> page;
  page.items = {Deployment(9, kShaA, deploy::DeploymentState::kSucceeded)};
  page.next_before_id = 9;
  const std::string html =
      RenderHistoryPage(Context(false), "production", page, true);
  EXPECT_THAT(html,
              HasSubstr("href=\"/environments/production/history?page_token="
                        "p9\">Older"));
  EXPECT_THAT(html, Not(HasSubstr(">Newest<")));
}

build::BuildRecord Build(build::BuildState state) {
  build::BuildRecord b(Sha(kShaA));
  b.build_id = 3;
  b.state = state;
  b.created_at = kNow - absl::Minutes(1);
  return b;
}

TEST(BuildPagesTest, OutcomeLabels) {
  build::BuildRecord b = Build(build::BuildState::kSucceeded);
  b.outcome = build::BuildOutcome::kPublished;
  EXPECT_EQ(BuildOutcomeLabel(b), "built");
  b.outcome = build::BuildOutcome::kReused;
  EXPECT_EQ(BuildOutcomeLabel(b), "reused");
  b.outcome = build::BuildOutcome::kReproduced;
  EXPECT_EQ(BuildOutcomeLabel(b), "reproduced");
  b.digest_verification = "mismatch";
  EXPECT_EQ(BuildOutcomeLabel(b), "mismatch");
  build::BuildRecord failed = Build(build::BuildState::kFailed);
  failed.error_code = "DIGEST_MISMATCH";
  EXPECT_EQ(BuildOutcomeLabel(failed), "mismatch");
  EXPECT_EQ(BuildOutcomeLabel(Build(build::BuildState::kRunning)), "");
}

TEST(BuildPagesTest, RunningBuildsShowTheirPhaseAndAreLive) {
  build::BuildRecord running = Build(build::BuildState::kRunning);
  running.phase = "building";
  running.started_at = kNow - absl::Seconds(30);
  running.repository_type = RepositoryType::kStaging;
  build::BuildRecord done = Build(build::BuildState::kSucceeded);
  done.build_id = 2;
  done.phase = "done";
  done.outcome = build::BuildOutcome::kPublished;
  done.repository_type = RepositoryType::kCanonical;
  Page<build::BuildRecord> page;
  page.items = {running, done};
  const std::string html = RenderBuildsPage(Context(false), page, {}, "");
  EXPECT_THAT(html, HasSubstr("data-live=\"/api/builds\""));
  EXPECT_THAT(html, HasSubstr("data-build-id=\"3\" data-state=\"running\""));
  EXPECT_THAT(html, HasSubstr("<td data-field=\"phase\">building</td>"));
  EXPECT_THAT(html, HasSubstr("badge-staging"));
  EXPECT_THAT(html, HasSubstr("badge-canonical"));
  EXPECT_THAT(html,
              HasSubstr("<span class=\"badge badge-built\">built</span>"));

  nlohmann::json json = nlohmann::json::parse(BuildsJson(page, kNow));
  EXPECT_EQ(json["active"], 1);
  EXPECT_EQ(json["builds"][0]["build_id"], "3");
  EXPECT_EQ(json["builds"][0]["phase"], "building");
  EXPECT_EQ(json["builds"][0]["duration"], "30s");
  EXPECT_EQ(json["builds"][1]["outcome"], "built");
  EXPECT_EQ(json["builds"][1]["phase"], "");
}

TEST(BuildPagesTest, BuilderOutputIsEscapedAndBrokenUtf8DoesNotBreakJson) {
  build::BuildRecord b = Build(build::BuildState::kFailed);
  b.error_code = "BUILD_FAILURE";
  b.error_message = std::string(kHostile) + "\xff";
  b.log_tail = "</pre><script>x()</script>";
  const std::string html = RenderBuildPage(Context(false), b);
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, HasSubstr("&lt;/pre&gt;&lt;script&gt;x()"));
  Page<build::BuildRecord> page;
  page.items = {b};
  nlohmann::json json = nlohmann::json::parse(BuildsJson(page, kNow));
  EXPECT_THAT(json["builds"][0]["error"].get<std::string>(),
              HasSubstr("BUILD_FAILURE <script>"));
}

TEST(LayoutTest, ErrorPagesCarryTheStatusAndOnlyEscapedText) {
  const std::string html = RenderErrorPage(
      Context(false), 404, "environment: \"<b>x</b>\" is not configured");
  EXPECT_THAT(html, AllOf(HasSubstr("<h1>404 Not found</h1>"),
                          HasSubstr("data-status=\"404\""),
                          HasSubstr("&lt;b&gt;x&lt;/b&gt;"),
                          Not(HasSubstr("<b>x</b>"))));
  EXPECT_THAT(RenderErrorPage({}, 400, "sha: must be 40"),
              AllOf(HasSubstr("400 Bad request"), Not(HasSubstr("Sign out"))));
  EXPECT_THAT(RenderErrorPage(Context(false), 403, "lacks role operator"),
              HasSubstr("403 Forbidden"));
}

TEST(LayoutTest, SignInFormPostsTheTokenAndNeverFillsIt) {
  const std::string html = RenderLoginPage("That token is not known <x>");
  EXPECT_THAT(html, HasSubstr("<form class=\"login\" method=\"post\" "
                              "action=\"/login\">"));
  EXPECT_THAT(html, HasSubstr("name=\"token\" type=\"password\" "
                              "autocomplete=\"off\""));
  EXPECT_THAT(html, Not(HasSubstr("value=")));
  EXPECT_THAT(html, HasSubstr("not known &lt;x&gt;"));
  // Scripts and styles are the console's own, nothing from a CDN.
  EXPECT_THAT(html, HasSubstr("src=\"/static/console.js\""));
  EXPECT_THAT(html, Not(HasSubstr("http")));
}

}  // namespace
}  // namespace shapin::console
