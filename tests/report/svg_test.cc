#include "report/svg.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace lorank::report {
namespace {

TEST(SvgTest, EscapeHtmlEscapesMarkupAndRepairsUtf8) {
  EXPECT_EQ(escape_html("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(escape_html("σ₁ ok\tline\n"), "σ₁ ok\tline\n");
  EXPECT_EQ(escape_html("a\xff" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(escape_html("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(escape_html("\xe2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // truncated
  EXPECT_EQ(escape_html(std::string("a\0b", 3)), "a\xEF\xBF\xBD" "b");
}

TEST(SvgTest, CoordinatesAreFiniteAndShort) {
  EXPECT_EQ(coord(12.0), "12");
  EXPECT_EQ(coord(12.345), "12.3");
  EXPECT_EQ(coord(std::numeric_limits<double>::quiet_NaN()), "0");
  EXPECT_EQ(coord(std::numeric_limits<double>::infinity()), "0");
}

TEST(SvgTest, LogScaleClampsZeroAndNegativeToTheFloor) {
  const LogScale y{1e-8, 1.0, 100.0, 0.0};
  EXPECT_DOUBLE_EQ(y(1.0), 0.0);
  EXPECT_DOUBLE_EQ(y(1e-8), 100.0);
  EXPECT_DOUBLE_EQ(y(0.0), 100.0);
  EXPECT_DOUBLE_EQ(y(-3.0), 100.0);
  EXPECT_DOUBLE_EQ(y(std::numeric_limits<double>::quiet_NaN()), 100.0);
  EXPECT_NEAR(y(1e-4), 50.0, 1e-9);
}

TEST(SvgTest, DecadeTicksAndLabels) {
  const std::vector<double> t = decade_ticks(1e-3, 1.0);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(decade_label(t[0]), "1e-3");
  EXPECT_EQ(decade_label(t[2]), "0.1");
  EXPECT_EQ(decade_label(t[3]), "1");
  EXPECT_TRUE(decade_ticks(0.0, 1.0).empty());
}

TEST(SvgTest, FinishClosesGroupsAndEscapesText) {
  Svg svg(10, 10, "a<b");
  svg.open_group("tip <x>");
  svg.text(1, 2, "</text><script>", "c");
  const std::string out = svg.finish();
  EXPECT_NE(out.find("aria-label=\"a&lt;b\""), std::string::npos);
  EXPECT_NE(out.find("<title>tip &lt;x&gt;</title>"), std::string::npos);
  EXPECT_NE(out.find("&lt;/text&gt;&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 10), "</g></svg>");
}

}  // namespace
}  // namespace lorank::report
