// Text made safe for HTML: every value a page shows (SHAs, messages,
// reasons, names, error text from the store or a target) passes through
// HtmlEscape, in element content and in double-quoted attributes alike.
//
//   absl::StrAppend(&html, "<td title=\"", HtmlEscape(d.reason), "\">");
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_HTML_TEXT_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_HTML_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace shapin::console {

// & < > " ' as character references; control characters other than tab and
// newline, and bytes that are not valid UTF-8, as U+FFFD, so nothing can
// open a tag, end an attribute or confuse the parser.
std::string HtmlEscape(absl::string_view text);

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_HTML_TEXT_H_
