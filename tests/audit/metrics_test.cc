// spectrum_metrics and energy_rank on hand-made spectra: exact values, edge cases, no NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "lorank/rank.h"

namespace lorank {
namespace {

void expect_all_finite(const SpectrumMetrics& m) {
  for (double v :
       {m.sigma1, m.frobenius, m.entropy_rank, m.stable_rank, m.gap_ratio, m.tail_ratio}) {
    EXPECT_TRUE(std::isfinite(v));
  }
}

TEST(SpectrumMetrics, HandComputedValues) {
  const std::vector<double> sv = {4.0, 2.0, 1.0, 1.0};
  const SpectrumMetrics m = spectrum_metrics(sv, 0.3);
  EXPECT_EQ(m.n, 4u);
  EXPECT_DOUBLE_EQ(m.sigma1, 4.0);
  EXPECT_DOUBLE_EQ(m.frobenius, std::sqrt(22.0));
  EXPECT_DOUBLE_EQ(m.stable_rank, 22.0 / 16.0);
  EXPECT_EQ(m.threshold_rank, 2);  // 4, 2 >= 1.2; 1 < 1.2
  // Energies 16, 20, 21, 22 of 22: 0.727, 0.909, 0.955, 1.
  EXPECT_EQ(m.energy_rank_90, 2);
  EXPECT_EQ(m.energy_rank_95, 3);
  EXPECT_EQ(m.energy_rank_99, 4);
  const double p[] = {0.5, 0.25, 0.125, 0.125};
  double h = 0.0;
  for (double x : p) h -= x * std::log(x);
  EXPECT_NEAR(m.entropy_rank, std::exp(h), 1e-15);
  EXPECT_EQ(m.gap_index, 1);  // ratios 2, 2, 1: the first maximum
  EXPECT_DOUBLE_EQ(m.gap_ratio, 2.0);
  EXPECT_FALSE(m.gap_capped);
  EXPECT_DOUBLE_EQ(m.tail_ratio, 0.25);
  EXPECT_FALSE(m.untrained);
}

TEST(SpectrumMetrics, UntrainedIsAllZeros) {
  for (const std::vector<double>& sv :
       {std::vector<double>{}, std::vector<double>{0.0, 0.0, 0.0}}) {
    const SpectrumMetrics m = spectrum_metrics(sv);
    EXPECT_TRUE(m.untrained);
    EXPECT_EQ(m.n, sv.size());
    EXPECT_EQ(m.threshold_rank + m.energy_rank_90 + m.energy_rank_95 + m.energy_rank_99, 0);
    EXPECT_EQ(m.gap_index, 0);
    EXPECT_EQ(m.sigma1 + m.frobenius + m.entropy_rank + m.stable_rank + m.gap_ratio, 0.0);
    expect_all_finite(m);
  }
}

TEST(SpectrumMetrics, RankOneSpectrum) {
  const std::vector<double> sv = {3.5};
  const SpectrumMetrics m = spectrum_metrics(sv);
  EXPECT_EQ(m.threshold_rank, 1);
  EXPECT_EQ(m.energy_rank_99, 1);
  EXPECT_DOUBLE_EQ(m.entropy_rank, 1.0);
  EXPECT_DOUBLE_EQ(m.stable_rank, 1.0);
  EXPECT_EQ(m.gap_index, 0);  // no gap with one value
  EXPECT_EQ(m.gap_ratio, 0.0);
}

TEST(SpectrumMetrics, FlatSpectrum) {
  const std::vector<double> sv(8, 0.02);
  const SpectrumMetrics m = spectrum_metrics(sv);
  EXPECT_EQ(m.threshold_rank, 8);
  EXPECT_EQ(m.energy_rank_90, 8);  // 7/8 = 0.875 < 0.9
  EXPECT_NEAR(m.entropy_rank, 8.0, 1e-12);
  EXPECT_NEAR(m.stable_rank, 8.0, 1e-12);
  EXPECT_DOUBLE_EQ(m.tail_ratio, 1.0);
}

TEST(SpectrumMetrics, ZeroTailGivesACappedFiniteGap) {
  // out < r (distilbert-nestedcls: B is 6x8) or an exactly rank-deficient product.
  const std::vector<double> sv = {5.0, 1.0, 0.0, 0.0};
  const SpectrumMetrics m = spectrum_metrics(sv);
  EXPECT_EQ(m.gap_index, 2);
  EXPECT_TRUE(m.gap_capped);
  EXPECT_DOUBLE_EQ(m.gap_ratio, 1.0 / (kGapFloor * 5.0));
  EXPECT_EQ(m.threshold_rank, 2);
  expect_all_finite(m);
  // A value below the floor counts as zero too.
  const std::vector<double> tiny = {1.0, 1e-14};
  EXPECT_TRUE(spectrum_metrics(tiny).gap_capped);
  EXPECT_DOUBLE_EQ(spectrum_metrics(tiny).gap_ratio, 1.0 / kGapFloor);
}

TEST(SpectrumMetrics, ExtremeMagnitudesStayFinite) {
  const double big = std::numeric_limits<double>::max() / 4;
  const std::vector<double> sv = {big, big / 2};
  const SpectrumMetrics m = spectrum_metrics(sv);
  EXPECT_DOUBLE_EQ(m.stable_rank, 1.25);  // computed on σ/σ₁, no overflow
  EXPECT_EQ(m.energy_rank_99, 2);
  const std::vector<double> small = {1e-300, 5e-301};
  expect_all_finite(spectrum_metrics(small));
  EXPECT_EQ(spectrum_metrics(small).threshold_rank, 2);
}

TEST(EnergyRank, NeverExceedsNAndIsRobustToRounding) {
  // Many equal values: a separately rounded total could exceed the last cumulative sum.
  std::vector<double> sv(1000, 0.1);
  EXPECT_EQ(energy_rank(sv, 1.0), 1000);
  EXPECT_EQ(energy_rank(sv, 0.9985), 999);
  const std::vector<double> sv2 = {1.0, 1e-9, 1e-9};
  EXPECT_EQ(energy_rank(sv2, 0.99), 1);
  // 1 + 2e-18 rounds to 1: the tail's energy is below the sum's resolution, so even p = 1
  // keeps one value (as PEFT's float32 cumsum would).
  EXPECT_EQ(energy_rank(sv2, 1.0), 1);
  // Exact boundary: 9 of 10 is 0.9 (PEFT: smallest k with cumulative >= p·total).
  const std::vector<double> sv3 = {3.0, 1.0};
  EXPECT_EQ(energy_rank(sv3, 0.9), 1);
  EXPECT_EQ(energy_rank(std::vector<double>{0.0, 0.0}, 0.9), 0);
}

}  // namespace
}  // namespace lorank
