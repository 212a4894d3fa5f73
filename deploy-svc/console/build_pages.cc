#include "deploy-svc/console/build_pages.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/human_time.h"
#include "common/repository_type.h"
#include "deploy-svc/console/html_text.h"
#include "deploy-svc/console/http_exchange.h"
#include "nlohmann/json.hpp"

namespace shapin::console {
namespace {

using build::BuildRecord;
using build::BuildState;

bool IsActive(const BuildRecord& b) {
  return b.state == BuildState::kQueued || b.state == BuildState::kRunning;
}

// The phase is only worth showing while the build runs.
std::string PhaseText(const BuildRecord& b) {
  return IsActive(b) ? b.phase : "";
}

// Queue to end, or to now while it runs.
std::string DurationText(const BuildRecord& b, absl::Time now) {
  if (!b.started_at) return "";
  const absl::Time end = b.finished_at ? *b.finished_at : now;
  return ShortDuration(end - *b.started_at);
}

// The message as the API words it: it starts with its code when it has one.
std::string ErrorText(const BuildRecord& b) {
  if (b.error_code.empty() || absl::StartsWith(b.error_message, b.error_code)) {
    return b.error_message;
  }
  return absl::StrCat(b.error_code, " ", b.error_message);
}

std::string BuildsHref(const std::optional<GitSha>& filter,
                       absl::string_view page_token) {
  std::string href = "/builds";
  absl::string_view sep = "?";
  if (filter) {
    absl::StrAppend(&href, sep, "sha=", UrlEncode(filter->str()));
    sep = "&amp;";
  }
  if (!page_token.empty()) {
    absl::StrAppend(&href, sep, "page_token=", UrlEncode(page_token));
  }
  return href;
}

}  // namespace

std::string BuildOutcomeLabel(const BuildRecord& b) {
  if (b.digest_verification == "mismatch" ||
      b.error_code == "DIGEST_MISMATCH") {
    return "mismatch";
  }
  if (!b.outcome) return "";
  switch (*b.outcome) {
    case build::BuildOutcome::kPublished:
      return "built";
    case build::BuildOutcome::kReused:
      return "reused";
    case build::BuildOutcome::kReproduced:
      return "reproduced";
  }
  return "";
}

std::string RenderBuildsPage(const PageContext& ctx,
                             const Page<BuildRecord>& page,
                             const std::optional<GitSha>& filter,
                             const std::string& page_token) {
  std::string live_query;
  if (filter) live_query = absl::StrCat("?sha=", UrlEncode(filter->str()));
  if (!page_token.empty()) {
    absl::StrAppend(&live_query, live_query.empty() ? "?" : "&amp;",
                    "page_token=", UrlEncode(page_token));
  }
  std::string body = absl::StrCat(
      "<h1>Builds",
      filter ? absl::StrCat(" of <code class=\"full-sha\">", filter->str(),
                            "</code>")
             : "",
      "</h1>\n", filter ? "<p><a href=\"/builds\">All builds</a></p>\n" : "",
      "<table class=\"builds\" data-live=\"/api/builds", live_query,
      "\">\n<thead><tr><th>#</th><th>created</th><th>SHA</th>"
      "<th>branch</th><th>repository</th><th>state</th><th>phase</th>"
      "<th>outcome</th><th>duration</th><th>requested by</th>"
      "<th>error</th></tr></thead>\n<tbody>\n");
  if (page.items.empty()) {
    absl::StrAppend(&body,
                    "<tr><td colspan=\"11\" class=\"empty\">No builds.</td>"
                    "</tr>\n");
  }
  for (const BuildRecord& b : page.items) {
    const std::string state(build::BuildStateName(b.state));
    absl::StrAppend(
        &body, "<tr data-build-id=\"", b.build_id, "\" data-state=\"", state,
        "\" data-sha=\"", b.git_sha.str(), "\"><td><a href=\"/builds/",
        b.build_id, "\">", b.build_id, "</a></td><td>",
        TimeHtml(b.created_at, ctx.now), "</td><td>", ShaHtml(b.git_sha),
        "</td><td>", HtmlEscape(b.branch), "</td><td>",
        BadgeHtml(RepositoryTypeName(b.repository_type)),
        "</td><td data-field=\"state\">", BadgeHtml(state),
        "</td><td data-field=\"phase\">", HtmlEscape(PhaseText(b)),
        "</td><td data-field=\"outcome\">", BadgeHtml(BuildOutcomeLabel(b)),
        "</td><td data-field=\"duration\">",
        HtmlEscape(DurationText(b, ctx.now)), "</td><td>",
        HtmlEscape(b.requested_by),
        "</td><td data-field=\"error\" "
        "class=\"error\">",
        HtmlEscape(ErrorText(b)), "</td></tr>\n");
  }
  absl::StrAppend(&body, "</tbody>\n</table>\n<p class=\"pager\">");
  if (!page_token.empty()) {
    absl::StrAppend(&body, "<a href=\"", BuildsHref(filter, ""),
                    "\">Newest</a> ");
  }
  if (page.next_before_id) {
    absl::StrAppend(&body, "<a class=\"older\" href=\"",
                    BuildsHref(filter, PageToken(page.next_before_id)),
                    "\">Older</a>");
  }
  absl::StrAppend(&body, "</p>");
  return RenderLayout(ctx, "Builds", NavItem::kBuilds, body);
}

std::string RenderBuildPage(const PageContext& ctx, const BuildRecord& b) {
  const std::string state(build::BuildStateName(b.state));
  std::string image_ref;
  if (b.digest) {
    image_ref =
        absl::StrCat(b.repository, ":", b.git_sha.str(), "@", b.digest->str());
  }
  auto row = [](absl::string_view name, absl::string_view html) {
    return absl::StrCat("<dt>", name, "</dt><dd>", html, "</dd>\n");
  };
  std::string body = absl::StrCat(
      "<h1>Build #", b.build_id, "</h1>\n",
      "<dl class=\"facts\" data-build-id=\"", b.build_id, "\" data-state=\"",
      state, "\" data-live=\"/api/builds?sha=", UrlEncode(b.git_sha.str()),
      "\">\n",
      row("SHA", absl::StrCat(ShaHtml(b.git_sha), " <code class=\"full-sha\">",
                              b.git_sha.str(), "</code>")),
      row("branch", HtmlEscape(b.branch)),
      row("repository",
          absl::StrCat(BadgeHtml(RepositoryTypeName(b.repository_type)), " ",
                       HtmlEscape(b.repository))),
      row("state", absl::StrCat("<span data-field=\"state\">", BadgeHtml(state),
                                "</span>")),
      row("phase", absl::StrCat("<span data-field=\"phase\">",
                                HtmlEscape(PhaseText(b)), "</span>")),
      row("outcome", absl::StrCat("<span data-field=\"outcome\">",
                                  BadgeHtml(BuildOutcomeLabel(b)), "</span>")),
      row("image", CopyableCode(image_ref)),
      row("digest verification", HtmlEscape(b.digest_verification)),
      row("signature", HtmlEscape(b.signature_status)),
      row("provenance", CopyableCode(b.provenance_ref)),
      row("SBOM", CopyableCode(b.sbom_ref)),
      row("created", TimeBothHtml(b.created_at, ctx.now)),
      row("duration",
          absl::StrCat("<span data-field=\"duration\">",
                       HtmlEscape(DurationText(b, ctx.now)), "</span>")),
      row("requested by", HtmlEscape(b.requested_by)),
      row("source", HtmlEscape(b.source_url)),
      row("error", absl::StrCat("<span data-field=\"error\">",
                                HtmlEscape(ErrorText(b)), "</span>")),
      "</dl>\n<h2>Log (last lines)</h2>\n<pre class=\"log\">",
      HtmlEscape(b.log_tail), "</pre>");
  return RenderLayout(ctx, absl::StrCat("Build ", b.build_id), NavItem::kBuilds,
                      body);
}

std::string BuildsJson(const Page<BuildRecord>& page, absl::Time now) {
  nlohmann::json builds = nlohmann::json::array();
  int active = 0;
  for (const BuildRecord& b : page.items) {
    if (IsActive(b)) ++active;
    builds.push_back({{"build_id", absl::StrCat(b.build_id)},
                      {"state", std::string(build::BuildStateName(b.state))},
                      {"phase", PhaseText(b)},
                      {"outcome", BuildOutcomeLabel(b)},
                      {"duration", DurationText(b, now)},
                      {"error", ErrorText(b)}});
  }
  nlohmann::json out = {{"builds", builds}, {"active", active}};
  // Messages are the builder's output: invalid UTF-8 must not throw.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace shapin::console
