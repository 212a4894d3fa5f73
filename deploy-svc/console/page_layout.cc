#include "deploy-svc/console/page_layout.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/human_time.h"
#include "deploy-svc/console/html_text.h"
#include "deploy-svc/console/http_exchange.h"

namespace shapin::console {
namespace {

std::string Head(absl::string_view title) {
  return absl::StrCat(
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>",
      HtmlEscape(title),
      " · shapin</title>\n"
      "<link rel=\"stylesheet\" href=\"/static/console.css\">\n"
      "<script src=\"/static/console.js\" defer></script>\n</head>\n");
}

std::string AbsoluteTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone());
}

}  // namespace

std::string RenderLayout(const PageContext& ctx, absl::string_view title,
                         NavItem active, absl::string_view body) {
  auto nav = [&](NavItem item, absl::string_view href, absl::string_view text) {
    return absl::StrCat("<a href=\"", href, "\"",
                        item == active ? " class=\"active\"" : "", ">", text,
                        "</a>");
  };
  std::string who;
  if (ctx.viewer) {
    who = absl::StrCat(
        "<div class=\"who\"><span class=\"identity\" data-roles=\"",
        HtmlEscape(ctx.viewer->roles), "\">", HtmlEscape(ctx.viewer->identity),
        "</span> <span class=\"roles\">", HtmlEscape(ctx.viewer->roles),
        "</span><form method=\"post\" action=\"/logout\">", CsrfField(ctx),
        "<button type=\"submit\" class=\"link\">Sign "
        "out</button></form></div>");
  }
  return absl::StrCat(
      Head(title), "<body>\n<header>\n<a class=\"brand\" href=\"/\">shapin</a>",
      "<nav>", nav(NavItem::kEnvironments, "/", "Environments"),
      nav(NavItem::kBuilds, "/builds", "Builds"), "</nav>", who,
      "\n</header>\n<main>\n",
      ctx.notice.empty() ? ""
                         : absl::StrCat("<p class=\"notice\" role=\"status\">",
                                        HtmlEscape(ctx.notice), "</p>\n"),
      body, "\n</main>\n</body>\n</html>\n");
}

std::string RenderErrorPage(const PageContext& ctx, int status,
                            absl::string_view message) {
  const std::string title = absl::StrCat(status, " ", StatusTitle(status));
  return RenderLayout(
      ctx, title, NavItem::kNone,
      absl::StrCat("<section class=\"error\" data-status=\"", status,
                   "\">\n<h1>", HtmlEscape(title),
                   "</h1>\n<p class=\"message\">", HtmlEscape(message),
                   "</p>\n<p><a href=\"/\">Back to the environments</a></p>\n"
                   "</section>"));
}

std::string RenderLoginPage(absl::string_view message) {
  return absl::StrCat(
      Head("Sign in"),
      "<body class=\"login\">\n<main>\n<form class=\"login\" method=\"post\" "
      "action=\"/login\">\n<h1>shapin</h1>\n<p>Sign in with your API token "
      "(the same bearer token the CLI and gRPC use; <code>viewer</code> reads, "
      "<code>operator</code> rolls back and releases holds).</p>\n",
      message.empty()
          ? ""
          : absl::StrCat("<p class=\"error message\" role=\"alert\">",
                         HtmlEscape(message), "</p>\n"),
      "<label for=\"token\">API token</label>\n"
      "<input id=\"token\" name=\"token\" type=\"password\" "
      "autocomplete=\"off\" spellcheck=\"false\" autofocus>\n"
      "<button type=\"submit\">Sign in</button>\n</form>\n</main>\n</body>\n"
      "</html>\n");
}

std::string TimeHtml(absl::Time t, absl::Time now) {
  if (t == absl::InfinitePast()) return "-";
  return absl::StrCat(
      "<time datetime=\"",
      absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone()),
      "\" title=\"", AbsoluteTime(t), "\">", HtmlEscape(RelativeTime(t, now)),
      "</time>");
}

std::string TimeBothHtml(absl::Time t, absl::Time now) {
  if (t == absl::InfinitePast()) return "-";
  return absl::StrCat(TimeHtml(t, now), " <span class=\"abs\">",
                      AbsoluteTime(t), "</span>");
}

std::string ShaHtml(const GitSha& sha) {
  return absl::StrCat(
      "<a class=\"sha\" href=\"/builds?sha=", UrlEncode(sha.str()),
      "\" title=\"", sha.str(), "\"><code>", sha.short_sha(),
      "</code></a><button type=\"button\" class=\"copy\" "
      "data-copy=\"",
      sha.str(), "\" title=\"Copy the full SHA\">copy</button>");
}

std::string CopyableCode(absl::string_view text) {
  if (text.empty()) return "-";
  const std::string escaped = HtmlEscape(text);
  return absl::StrCat("<code class=\"long\">", escaped,
                      "</code><button type=\"button\" class=\"copy\" "
                      "data-copy=\"",
                      escaped, "\" title=\"Copy\">copy</button>");
}

std::string BadgeHtml(absl::string_view word) {
  if (word.empty()) return "-";
  const std::string escaped = HtmlEscape(word);
  return absl::StrCat("<span class=\"badge badge-", escaped, "\">", escaped,
                      "</span>");
}

std::string ErrorHtml(absl::string_view code, absl::string_view message) {
  if (code.empty() && message.empty()) return "-";
  if (!code.empty() && absl::StartsWith(message, code)) {
    message = absl::StripLeadingAsciiWhitespace(message.substr(code.size()));
  }
  return absl::StrCat(code.empty() ? ""
                                   : absl::StrCat("<code class=\"error-code\">",
                                                  HtmlEscape(code), "</code> "),
                      HtmlEscape(message));
}

std::string CsrfField(const PageContext& ctx) {
  if (!ctx.viewer) return "";
  return absl::StrCat("<input type=\"hidden\" name=\"csrf\" value=\"",
                      HtmlEscape(ctx.viewer->csrf_token), "\">");
}

absl::string_view StatusTitle(int status) {
  switch (status) {
    case 400:
      return "Bad request";
    case 401:
      return "Sign-in needed";
    case 403:
      return "Forbidden";
    case 404:
      return "Not found";
    case 405:
      return "Method not allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Request too large";
    case 503:
      return "Unavailable";
    case 504:
      return "Timed out";
    case 502:
      return "Deployment failed";
    default:
      return status >= 500 ? "Internal error" : "Error";
  }
}

}  // namespace shapin::console
