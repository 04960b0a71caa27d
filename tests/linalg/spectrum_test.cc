// Accuracy of lora_singular_values against LAPACK's dense SVD of the formed product.
#include "lorank/spectrum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "linalg/spectrum_testing.h"

namespace lorank {
namespace {

using testing::RowMatrix;

// Both accurate methods must agree with the dense SVD to this fraction of σ₁, per value.
constexpr double kSpectrumTolerance = 1e-12;

std::span<const double> span_of(const RowMatrix& m) {
  return {m.data(), static_cast<std::size_t>(m.size())};
}

LoraShape shape_of(const RowMatrix& b, const RowMatrix& a) {
  return {static_cast<std::size_t>(b.rows()), static_cast<std::size_t>(b.cols()),
          static_cast<std::size_t>(a.cols())};
}

// Checks count, order and agreement to kSpectrumTolerance·σ₁ against `reference` (which may
// have extra trailing values: those must be ≈ 0).
void expect_matches(const std::vector<double>& got, const std::vector<double>& reference,
                    std::size_t expected_count, const std::string& label) {
  SCOPED_TRACE(label);
  ASSERT_EQ(got.size(), expected_count);
  const double sigma1 = reference.empty() ? 0.0 : reference[0];
  const double tol = kSpectrumTolerance * sigma1;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const double mine = i < got.size() ? got[i] : 0.0;
    EXPECT_LE(std::fabs(mine - reference[i]), tol)
        << "value " << i << ": got " << mine << ", dense " << reference[i] << ", σ₁ " << sigma1;
  }
  for (std::size_t i = 1; i < got.size(); ++i) EXPECT_LE(got[i], got[i - 1]);
}

class SpectrumAccuracy : public ::testing::TestWithParam<SpectrumMethod> {
 protected:
  void check(const RowMatrix& b, const RowMatrix& a, double scale, std::uint64_t seed,
             const std::string& what) {
    const LoraShape s = shape_of(b, a);
    const std::string label = what + " " + std::to_string(s.out) + "x" + std::to_string(s.r) +
                              "x" + std::to_string(s.in) + " seed " + std::to_string(seed);
    std::vector<double> got;
    ASSERT_TRUE(workspace_.compute(span_of(b), span_of(a), s, scale, got).ok()) << label;
    expect_matches(got, testing::dense_singular_values(b, a, scale),
                   std::min({s.out, s.r, s.in}), label);
  }
  SpectrumWorkspace workspace_{GetParam()};
};

TEST_P(SpectrumAccuracy, RandomGaussianShapes) {
  struct Case { std::size_t out, r, in; double scale; };
  const Case cases[] = {{64, 8, 64, 1.0},    {100, 16, 37, 2.0},  {37, 16, 100, 0.125},
                        {20, 32, 50, 1.0},   {50, 32, 20, 1.0},   {10, 32, 12, -3.0},
                        {300, 1, 200, 1.0},  {1, 1, 1, 1.0},      {5, 5, 5, 1.0},
                        {512, 64, 768, 0.25}, {768, 64, 256, 4.0}};
  std::uint64_t seed = 1000;
  for (const Case& c : cases) {
    std::mt19937_64 rng(++seed);
    const RowMatrix b = testing::gaussian(c.out, c.r, rng);
    const RowMatrix a = testing::gaussian(c.r, c.in, rng);
    check(b, a, c.scale, seed, "gaussian");
  }
}

TEST_P(SpectrumAccuracy, RankDeficientFactors) {
  const std::uint64_t seed = 2001;
  std::mt19937_64 rng(seed);
  RowMatrix b = testing::gaussian(120, 16, rng);
  RowMatrix a = testing::gaussian(16, 90, rng);
  b.col(3) = b.col(7);   // duplicated column
  b.col(11).setZero();   // zero column
  a.row(5) = 2.0 * a.row(9);
  check(b, a, 1.0, seed, "rank-deficient");
  a.setZero();
  a.row(0) = testing::gaussian(1, 90, rng);  // rank-1 A
  check(b, a, 1.0, seed, "rank-1 A");
}

TEST_P(SpectrumAccuracy, IllConditioned) {
  for (double spread : {1e-4, 1e-8, 1e-12}) {
    const std::uint64_t seed = 3000 + static_cast<std::uint64_t>(-std::log10(spread));
    std::mt19937_64 rng(seed);
    // B = U·diag(σ)·Q with a spread of `spread`; A Gaussian (well conditioned).
    const RowMatrix b = testing::with_spectrum(400, 32, testing::geometric(32, spread), rng);
    const RowMatrix a = testing::gaussian(32, 300, rng) / std::sqrt(300.0);
    check(b, a, 1.0, seed, "ill-conditioned B");
    // Both factors ill conditioned with a random rotation between them.
    const RowMatrix a2 = testing::with_spectrum(32, 300, testing::geometric(32, spread), rng);
    check(b, a2, 1.0, seed, "ill-conditioned B and A");
    // Aligned spectra: the product spans σ₁·spread² but stays accurate in absolute terms.
    check(b.transpose().eval().transpose(), b.transpose(), 1.0, seed, "B·Bᵀ");
  }
}

TEST_P(SpectrumAccuracy, BigKnownSpectrum) {
  // 4096×64·64×4096 (a 7B attention module): too big for a dense SVD in a unit test, so
  // B = U·diag(σ_B)·V and A = Vᵀ·diag(σ_A)·Wᵀ share V and σ(B·A) = σ_B·σ_A is known.
  const std::uint64_t seed = 4001;
  std::mt19937_64 rng(seed);
  const std::size_t out = 4096, r = 64, in = 4096;
  const std::vector<double> sb = testing::geometric(r, 1e-3);
  const std::vector<double> sa = testing::geometric(r, 1e-2);
  const RowMatrix u = testing::orthonormal(out, r, rng);
  const RowMatrix v = testing::orthonormal(r, r, rng);
  const RowMatrix w = testing::orthonormal(in, r, rng);
  const Eigen::Map<const Eigen::VectorXd> sbv(sb.data(), static_cast<Eigen::Index>(r));
  const Eigen::Map<const Eigen::VectorXd> sav(sa.data(), static_cast<Eigen::Index>(r));
  const RowMatrix b = u * sbv.asDiagonal() * v;
  const RowMatrix a = v.transpose() * sav.asDiagonal() * w.transpose();
  std::vector<double> expected(r);
  for (std::size_t i = 0; i < r; ++i) expected[i] = 0.5 * sb[i] * sa[i];  // already descending
  std::vector<double> got;
  ASSERT_TRUE(workspace_.compute(span_of(b), span_of(a), {out, r, in}, -0.5, got).ok());
  expect_matches(got, expected, r, "big known spectrum seed " + std::to_string(seed));
}

TEST_P(SpectrumAccuracy, FloatInputEqualsWidenedDouble) {
  std::mt19937_64 rng(5001);
  const RowMatrix b = testing::gaussian(200, 16, rng);
  const RowMatrix a = testing::gaussian(16, 150, rng);
  std::vector<float> bf(b.data(), b.data() + b.size());
  std::vector<float> af(a.data(), a.data() + a.size());
  const std::vector<double> bd(bf.begin(), bf.end());
  const std::vector<double> ad(af.begin(), af.end());
  std::vector<double> from_float, from_double;
  ASSERT_TRUE(workspace_.compute(std::span<const float>(bf), std::span<const float>(af),
                                 shape_of(b, a), 1.5, from_float).ok());
  ASSERT_TRUE(workspace_.compute(std::span<const double>(bd), std::span<const double>(ad),
                                 shape_of(b, a), 1.5, from_double).ok());
  EXPECT_EQ(from_float, from_double);  // widening is exact, the arithmetic identical
}

std::string method_name(const ::testing::TestParamInfo<SpectrumMethod>& param) {
  return param.param == SpectrumMethod::kHouseholderQr ? "HouseholderQr" : "CholeskyQr2";
}

INSTANTIATE_TEST_SUITE_P(AccurateMethods, SpectrumAccuracy,
                         ::testing::Values(SpectrumMethod::kHouseholderQr,
                                           SpectrumMethod::kCholeskyQr2),
                         method_name);

TEST(SpectrumGram, AccurateOnlyWhenWellConditioned) {
  std::mt19937_64 rng(6001);
  const RowMatrix b = testing::gaussian(300, 16, rng);
  const RowMatrix a = testing::gaussian(16, 200, rng);
  SpectrumWorkspace gram(SpectrumMethod::kGram);
  std::vector<double> got;
  ASSERT_TRUE(gram.compute(span_of(b), span_of(a), shape_of(b, a), 1.0, got).ok());
  expect_matches(got, testing::dense_singular_values(b, a, 1.0), 16, "gram, seed 6001");
}

}  // namespace
}  // namespace lorank
