#include "deploy-svc/console/html_text.h"

#include "gtest/gtest.h"

namespace shapin::console {
namespace {

TEST(HtmlEscapeTest, MarkupCharactersBecomeReferences) {
  EXPECT_EQ(HtmlEscape("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script"
            "&gt;");
  EXPECT_EQ(HtmlEscape("\" onmouseover=\"x"), "&quot; onmouseover=&quot;x");
  EXPECT_EQ(HtmlEscape("plain text 123"), "plain text 123");
  EXPECT_EQ(HtmlEscape(""), "");
}

TEST(HtmlEscapeTest, ControlCharactersAndBrokenUtf8AreReplaced) {
  EXPECT_EQ(HtmlEscape(std::string("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(HtmlEscape("a\x1b[31mb"), "a\xEF\xBF\xBD[31mb");
  EXPECT_EQ(HtmlEscape("tab\tline\n"), "tab\tline\n");
  // Valid multi-byte text passes; a lone continuation byte, an overlong
  // '<' (C0 BC) and a truncated sequence do not.
  EXPECT_EQ(HtmlEscape("déjà ✓ 😀"), "déjà ✓ 😀");
  EXPECT_EQ(HtmlEscape("\x80"), "\xEF\xBF\xBD");
  EXPECT_EQ(HtmlEscape("\xC0\xBC"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(HtmlEscape("\xE2\x9C"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(HtmlEscape("\xED\xA0\x80"),  // a UTF-16 surrogate
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace shapin::console
