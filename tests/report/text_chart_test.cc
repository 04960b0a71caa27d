#include "lorank/text_chart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

namespace lorank {
namespace {

TEST(LogSparkline, HeightsFollowDecades) {
  const std::vector<double> sv = {1.0, 0.1, 0.01, 0.001, 1e-5, 0.0};
  EXPECT_EQ(log_sparkline(sv, 4.0), "█▆▄▂  ");
}

TEST(LogSparkline, EmptyZeroAndNonFinite) {
  EXPECT_EQ(log_sparkline(std::vector<double>{}), "");
  EXPECT_EQ(log_sparkline(std::vector<double>{0.0, 0.0}), "  ");
  const std::vector<double> odd = {2.0, std::nan(""), 2.0};
  EXPECT_EQ(log_sparkline(odd), "█ █");
}

TEST(LogSparkline, LongInputsAreSampledToWidth) {
  std::vector<double> sv(64, 1.0);
  std::string full;
  for (int i = 0; i < 16; ++i) full += "█";
  EXPECT_EQ(log_sparkline(sv, 4.0, 16), full);
}

TEST(ProgressBar, SilentWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar(f, "audit", 10, std::chrono::milliseconds(0));
    bar.update(5);
  }
  EXPECT_EQ(std::ftell(f), 0L);
  std::fclose(f);
}

}  // namespace
}  // namespace lorank
