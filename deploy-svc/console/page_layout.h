// The frame every console page shares and the small pieces pages are made
// of (times, SHAs, state badges), all escaped (html_text.h). Pure: HTML text
// out of values, no I/O.
//
//   std::string html = RenderLayout(ctx, "Builds", NavItem::kBuilds, body);
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_PAGE_LAYOUT_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_PAGE_LAYOUT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/git_sha.h"

namespace shapin::console {

// Who is looking at the page (absent on the login and some error pages).
struct Viewer {
  std::string identity;
  std::string roles;         // "operator,viewer"
  bool can_operate = false;  // may roll back and release holds
  std::string csrf_token;
};

struct PageContext {
  std::optional<Viewer> viewer = std::nullopt;
  absl::Time now = absl::UnixEpoch();
  std::string notice = "";  // shown on top, e.g. "rolled back to …"
};

enum class NavItem { kNone, kEnvironments, kBuilds };

// A whole document: head (the console's CSS and JS, nothing from elsewhere),
// navigation, who is signed in with a sign-out form, the notice, `body`.
std::string RenderLayout(const PageContext& ctx, absl::string_view title,
                         NavItem active, absl::string_view body);

// An error page: `status` and what went wrong (escaped), never internals.
std::string RenderErrorPage(const PageContext& ctx, int status,
                            absl::string_view message);

// The sign-in form; `message` (escaped) says why it is shown again.
std::string RenderLoginPage(absl::string_view message);

// "3m ago" with the absolute UTC time as tooltip and datetime; "-" unset.
std::string TimeHtml(absl::Time t, absl::Time now);
// "3m ago · 2024-01-01 12:00:00 UTC", both visible.
std::string TimeBothHtml(absl::Time t, absl::Time now);
// The short SHA (full one on hover) linked to its builds, and a copy button
// for the full SHA.
std::string ShaHtml(const GitSha& sha);
// Text that may be long (image refs, digests) with a copy button.
std::string CopyableCode(absl::string_view text);
// A state word as a coloured badge: succeeded, failed, running, …
std::string BadgeHtml(absl::string_view word);
// An error code (as a badge-like <code>) and its message; the message's own
// leading code ("ON_HOLD environment …", as the API words it) is not
// repeated. "-" when both are empty.
std::string ErrorHtml(absl::string_view code, absl::string_view message);
// A hidden CSRF field for the viewer's forms.
std::string CsrfField(const PageContext& ctx);
// Reason phrase of an HTTP status: 404 → "Not found".
absl::string_view StatusTitle(int status);

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_PAGE_LAYOUT_H_
