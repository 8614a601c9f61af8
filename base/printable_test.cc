#include "base/printable.h"

#include "gtest/gtest.h"

namespace ers {
namespace {

TEST(PrintableTest, ControlCharactersAreEscapedAndTextIsKept) {
  EXPECT_EQ(Printable("www.example.com"), "www.example.com");
  EXPECT_EQ(Printable("caf\xc3\xa9 \xe4\xb8\xad"), "caf\xc3\xa9 \xe4\xb8\xad");  // UTF-8 stays
  // A subject CN that would clear the screen and retitle the terminal.
  EXPECT_EQ(Printable("evil\x1b[2J\x1b]0;owned\x07"), "evil\\e[2J\\e]0;owned\\x07");
  EXPECT_EQ(Printable("a\nb\rc\td\\"), "a\\nb\\rc\\td\\\\");
  EXPECT_EQ(Printable(absl::string_view("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(Printable("del\x7f"), "del\\x7f");
  EXPECT_EQ(Printable("c1\xc2\x9b" "31m"), "c1\\u009b31m");  // CSI as a C1 control
  EXPECT_EQ(Printable("bad\xff\xc3"), "bad\\xff\\xc3");     // not UTF-8
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
}

TEST(CsvCellTest, FormulasStayTextAndSeparatorsAreQuoted) {
  EXPECT_EQ(CsvCell("plain"), "plain");
  EXPECT_EQ(CsvCell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(CsvCell("+1"), "'+1");
  EXPECT_EQ(CsvCell("-2+3"), "'-2+3");
  EXPECT_EQ(CsvCell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvCell("\tx"), "\\tx");  // escaped: no longer a leading tab
  EXPECT_EQ(CsvCell("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvCell("line\nbreak"), "line\\nbreak");
  EXPECT_EQ(CsvCell("cn\x1b[2J"), "cn\\e[2J");
  EXPECT_EQ(CsvCell(""), "");
}

TEST(HtmlTextTest, EscapesMarkupAndControls) {
  EXPECT_EQ(HtmlText("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
  EXPECT_EQ(HtmlText("evil\033[2J"), "evil\\e[2J");
  EXPECT_EQ(HtmlText("caf\xc3\xa9"), "caf\xc3\xa9");
}

}  // namespace
}  // namespace ers
