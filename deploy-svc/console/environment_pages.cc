#include "deploy-svc/console/environment_pages.h"

#include "absl/strings/str_cat.h"
#include "common/human_time.h"
#include "deploy-svc/console/html_text.h"
#include "deploy-svc/console/http_exchange.h"

namespace shapin::console {
namespace {

using deploy::DeploymentKind;
using deploy::DeploymentRecord;
using deploy::DeploymentState;

std::string EnvironmentHref(absl::string_view name) {
  return absl::StrCat("/environments/", UrlEncode(name));
}

// When the current deployment took over: its end, else its start.
absl::Time DeployedSince(const DeploymentRecord& d) {
  if (d.finished_at) return *d.finished_at;
  if (d.started_at) return *d.started_at;
  return d.created_at;
}

std::string SignatureHtml(const DeploymentRecord& d) {
  if (d.signature_status.empty()) return "-";
  // The reason says why when it is more than the status again.
  const bool say_reason =
      !d.signature_reason.empty() && d.signature_reason != d.signature_status;
  return absl::StrCat(
      BadgeHtml(d.signature_status),
      !say_reason ? ""
                  : absl::StrCat(" <span class=\"reason\">",
                                 HtmlEscape(d.signature_reason), "</span>"));
}

// "sha256:71c3bb0950cc…" with the whole digest on hover and to copy.
std::string DigestHtml(const std::optional<Digest>& digest) {
  if (!digest) return "-";
  const std::string& full = digest->str();
  return absl::StrCat("<code class=\"digest\" title=\"", full, "\">",
                      full.substr(0, 19),
                      "…</code><button type=\"button\" class=\"copy\" "
                      "data-copy=\"",
                      full, "\" title=\"Copy the digest\">copy</button>");
}

std::string HoldHtml(const PageContext& ctx, const deploy::HoldRecord& hold) {
  if (!hold.held) return "<span class=\"hold-none\">not held</span>";
  return absl::StrCat(
      "<span class=\"held\">held</span> by ", HtmlEscape(hold.held_by), " ",
      TimeHtml(hold.held_since, ctx.now),
      hold.held_sha ? absl::StrCat(" at ", ShaHtml(*hold.held_sha)) : "",
      hold.deployment_id != 0
          ? absl::StrCat(" (rollback #", hold.deployment_id, ")")
          : "");
}

// "deploy", "rollback", with "dry run" when it was one.
std::string KindHtml(const DeploymentRecord& d) {
  return absl::StrCat(
      HtmlEscape(deploy::DeploymentKindName(d.kind)),
      d.dry_run ? " <span class=\"dry-run\">dry run</span>" : "");
}

std::string DurationHtml(const std::optional<double>& seconds) {
  if (!seconds) return "-";
  return HtmlEscape(ShortDuration(absl::Seconds(*seconds)));
}

std::string HistoryTable(const PageContext& ctx,
                         const std::vector<DeploymentRecord>& rows) {
  if (rows.empty()) {
    return "<p class=\"empty\">No deployment attempts yet.</p>";
  }
  std::string html =
      "<table class=\"history\">\n<thead><tr><th>#</th><th>when</th>"
      "<th>kind</th><th>SHA</th><th>previous</th><th>state</th>"
      "<th>error</th><th>duration</th><th>requested by</th><th>reason</th>"
      "<th>signature</th></tr></thead>\n<tbody>\n";
  for (const DeploymentRecord& d : rows) {
    std::string previous = "-";
    if (absl::StatusOr<GitSha> p = GitSha::Parse(d.previous_sha); p.ok()) {
      previous = ShaHtml(*p);
    }
    const std::string error = ErrorHtml(d.error_code, d.error_message);
    absl::StrAppend(
        &html, "<tr data-deployment-id=\"", d.deployment_id, "\" data-kind=\"",
        deploy::DeploymentKindName(d.kind), "\" data-state=\"",
        deploy::DeploymentStateName(d.state), "\" data-sha=\"",
        d.image_sha.str(), "\"><td>", d.deployment_id, "</td><td>",
        TimeHtml(d.created_at, ctx.now), "</td><td>", KindHtml(d), "</td><td>",
        ShaHtml(d.image_sha), "</td><td>", previous, "</td><td>",
        BadgeHtml(deploy::DeploymentStateName(d.state)),
        "</td><td class=\"error\">", error, "</td><td>",
        DurationHtml(d.duration_seconds), "</td><td>",
        HtmlEscape(d.requested_by), "</td><td class=\"reason\">",
        HtmlEscape(d.reason), "</td><td>", SignatureHtml(d), "</td></tr>\n");
  }
  absl::StrAppend(&html, "</tbody>\n</table>");
  return html;
}

// The latest attempt, when it is not what runs (a failed or running one).
std::string LatestAttemptHtml(const PageContext& ctx,
                              const EnvironmentStatus& env) {
  if (!env.latest) return "";
  if (env.current && env.latest->deployment_id == env.current->deployment_id) {
    return "";
  }
  const DeploymentRecord& d = *env.latest;
  if (d.state == DeploymentState::kSucceeded) return "";  // a dry run
  return absl::StrCat(
      "<p class=\"latest-attempt\">Latest attempt: #", d.deployment_id, " ",
      KindHtml(d), " of ", ShaHtml(d.image_sha), " ",
      BadgeHtml(deploy::DeploymentStateName(d.state)), " ",
      TimeHtml(d.created_at, ctx.now),
      d.error_code.empty() && d.error_message.empty()
          ? ""
          : absl::StrCat(" ", ErrorHtml(d.error_code, d.error_message)),
      "</p>");
}

}  // namespace

std::string RenderEnvironmentsPage(const PageContext& ctx,
                                   const std::vector<EnvironmentStatus>& envs) {
  std::string body =
      "<h1>Environments</h1>\n<table class=\"environments\">\n<thead><tr>"
      "<th>environment</th><th>current SHA</th><th>digest</th><th>image</th>"
      "<th>deployed since</th><th>signature</th><th>provenance</th>"
      "<th>hold</th><th>target</th></tr></thead>\n<tbody>\n";
  if (envs.empty()) {
    absl::StrAppend(&body,
                    "<tr><td colspan=\"9\">No environment is configured "
                    "(deploy.environments).</td></tr>\n");
  }
  for (const EnvironmentStatus& env : envs) {
    absl::StrAppend(&body, "<tr data-environment=\"", HtmlEscape(env.name),
                    "\"><td><a href=\"", EnvironmentHref(env.name), "\">",
                    HtmlEscape(env.name), "</a></td>");
    if (!env.error.empty()) {
      absl::StrAppend(&body, "<td colspan=\"7\" class=\"error\">",
                      HtmlEscape(env.error), "</td>");
    } else if (!env.current) {
      absl::StrAppend(&body,
                      "<td colspan=\"4\" class=\"empty\">nothing deployed "
                      "yet</td><td>-</td><td>-</td><td>",
                      HoldHtml(ctx, env.hold), "</td>");
    } else {
      const DeploymentRecord& d = *env.current;
      absl::StrAppend(
          &body, "<td class=\"current-sha\" data-sha=\"", d.image_sha.str(),
          "\">", ShaHtml(d.image_sha), "</td><td>", DigestHtml(d.digest),
          "</td><td>", CopyableCode(d.image_ref), "</td><td>",
          TimeBothHtml(DeployedSince(d), ctx.now), "</td><td>",
          SignatureHtml(d), "</td><td>", BadgeHtml(d.provenance_status),
          "</td><td>", HoldHtml(ctx, env.hold), "</td>");
    }
    absl::StrAppend(&body, "<td>", HtmlEscape(env.target), "</td></tr>\n");
    if (std::string latest = LatestAttemptHtml(ctx, env); !latest.empty()) {
      absl::StrAppend(&body, "<tr class=\"sub\"><td></td><td colspan=\"8\">",
                      latest, "</td></tr>\n");
    }
  }
  absl::StrAppend(&body, "</tbody>\n</table>");
  return RenderLayout(ctx, "Environments", NavItem::kEnvironments, body);
}

std::string RenderEnvironmentPage(const PageContext& ctx,
                                  const EnvironmentView& view) {
  const EnvironmentStatus& env = view.status;
  const std::string href = EnvironmentHref(env.name);
  std::string body = absl::StrCat(
      "<h1>Environment <span class=\"env-name\">", HtmlEscape(env.name),
      "</span></h1>\n<p class=\"target\">target ", HtmlEscape(env.target),
      "</p>\n<section class=\"current\">\n<h2>Running now</h2>\n");
  if (!env.current) {
    absl::StrAppend(&body, "<p class=\"empty\">Nothing deployed yet.</p>\n");
  } else {
    const DeploymentRecord& d = *env.current;
    absl::StrAppend(
        &body, "<dl class=\"facts\">\n<dt>SHA</dt><dd class=\"current-sha\" ",
        "data-sha=\"", d.image_sha.str(), "\">", ShaHtml(d.image_sha),
        " <code class=\"full-sha\">", d.image_sha.str(), "</code></dd>\n",
        "<dt>image</dt><dd>", CopyableCode(d.image_ref), "</dd>\n",
        "<dt>digest</dt><dd>",
        CopyableCode(d.digest ? d.digest->str() : std::string()), "</dd>\n",
        "<dt>deployed since</dt><dd>", TimeBothHtml(DeployedSince(d), ctx.now),
        "</dd>\n<dt>by</dt><dd>", KindHtml(d), " #", d.deployment_id,
        " requested by ", HtmlEscape(d.requested_by), "</dd>\n",
        "<dt>signature</dt><dd>", SignatureHtml(d), "</dd>\n",
        "<dt>provenance</dt><dd>", BadgeHtml(d.provenance_status), "</dd>\n",
        "<dt>target ref</dt><dd>", CopyableCode(d.target_ref),
        "</dd>\n</dl>\n");
  }
  absl::StrAppend(&body, LatestAttemptHtml(ctx, env), "</section>\n");

  absl::StrAppend(&body, "<section class=\"hold\" data-held=\"",
                  env.hold.held ? "true" : "false", "\">\n<h2>Hold</h2>\n<p>",
                  HoldHtml(ctx, env.hold), "</p>\n");
  if (env.hold.held) {
    absl::StrAppend(
        &body,
        "<p class=\"explain\">Automatic deploys of another SHA are refused "
        "(ON_HOLD) until the hold is released.</p>\n");
    if (ctx.viewer && ctx.viewer->can_operate) {
      absl::StrAppend(&body, "<form method=\"post\" action=\"", href,
                      "/release-hold\" class=\"release-hold\">", CsrfField(ctx),
                      "<button type=\"submit\">Release hold</button></form>\n");
    }
  }
  absl::StrAppend(&body,
                  "</section>\n<section class=\"rollback\">\n"
                  "<h2>Roll back</h2>\n");
  if (!ctx.viewer || !ctx.viewer->can_operate) {
    absl::StrAppend(&body,
                    "<p class=\"explain\">Rolling back needs the "
                    "<code>operator</code> role.</p>\n");
  } else if (view.targets.empty()) {
    absl::StrAppend(&body,
                    "<p class=\"empty\">No other canonical image to roll back "
                    "to.</p>\n");
  } else {
    absl::StrAppend(&body, "<form method=\"post\" action=\"", href,
                    "/rollback\" class=\"rollback\">", CsrfField(ctx),
                    "\n<label for=\"image_sha\">to SHA</label>\n"
                    "<select id=\"image_sha\" name=\"image_sha\" required>\n");
    bool selected = false;
    for (const deploy::RollbackCandidate& c : view.targets) {
      // The most recent one that ran here is the usual choice.
      const bool pick = !selected && c.last_deployed_at.has_value();
      selected = selected || pick;
      absl::StrAppend(
          &body, "<option value=\"", c.git_sha.str(), "\"",
          pick ? " selected" : "", ">", c.git_sha.short_sha(), " · built ",
          HtmlEscape(RelativeTime(c.built_at, ctx.now)), " · ",
          c.last_deployed_at
              ? absl::StrCat("ran here ", HtmlEscape(RelativeTime(
                                              *c.last_deployed_at, ctx.now)))
              : std::string("never ran here"),
          c.signature_status.empty()
              ? ""
              : absl::StrCat(" · ", HtmlEscape(c.signature_status)),
          "</option>\n");
    }
    absl::StrAppend(
        &body,
        "</select>\n<label for=\"reason\">reason (kept in history)</label>\n"
        "<textarea id=\"reason\" name=\"reason\" required maxlength=\"1024\" "
        "rows=\"2\"></textarea>\n<button type=\"submit\" "
        "data-busy-text=\"Rolling back…\">Roll back</button>\n"
        "<p class=\"explain\">Redeploys the chosen image without building and "
        "holds the environment.</p>\n</form>\n");
  }
  absl::StrAppend(&body,
                  "</section>\n<section class=\"recent\">\n"
                  "<h2>Latest attempts</h2>\n",
                  HistoryTable(ctx, view.recent), "\n<p><a href=\"", href,
                  "/history\">Full history</a></p>\n</section>");
  return RenderLayout(ctx, absl::StrCat("Environment ", env.name),
                      NavItem::kEnvironments, body);
}

std::string RenderHistoryPage(const PageContext& ctx,
                              const std::string& environment,
                              const Page<DeploymentRecord>& page,
                              bool first_page) {
  const std::string href = EnvironmentHref(environment);
  std::string body = absl::StrCat(
      "<h1>History of <a href=\"", href, "\">", HtmlEscape(environment),
      "</a></h1>\n<p class=\"explain\">Every attempt, newest first, failed "
      "ones included.</p>\n",
      HistoryTable(ctx, page.items), "\n<p class=\"pager\">");
  if (!first_page) {
    absl::StrAppend(&body, "<a href=\"", href, "/history\">Newest</a> ");
  }
  if (page.next_before_id) {
    absl::StrAppend(&body, "<a class=\"older\" href=\"", href,
                    "/history?page_token=",
                    UrlEncode(PageToken(page.next_before_id)), "\">Older</a>");
  }
  absl::StrAppend(&body, "</p>");
  return RenderLayout(ctx, absl::StrCat("History of ", environment),
                      NavItem::kEnvironments, body);
}

}  // namespace shapin::console
