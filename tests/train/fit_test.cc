#include "lorank/fit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>

namespace lorank {
namespace {

// The explainer's update written as plainly as possible: the oracle for the kernels.
void reference_fit(const Matrix& T, Matrix& B, Matrix& A, int steps, double lr, double s) {
  const std::size_t m = T.rows, n = T.cols, r = A.rows;
  for (int step = 0; step < steps; ++step) {
    Matrix E(m, n), gB(m, r), gA(r, n);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (std::size_t k = 0; k < r; ++k) acc += B(i, k) * A(k, j);
        E(i, j) = s * acc - T(i, j);
      }
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t k = 0; k < r; ++k) {
        double acc = 0.0;
        for (std::size_t j = 0; j < n; ++j) acc += E(i, j) * A(k, j);
        gB(i, k) = s * acc;
      }
    for (std::size_t k = 0; k < r; ++k)
      for (std::size_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (std::size_t i = 0; i < m; ++i) acc += B(i, k) * E(i, j);
        gA(k, j) = s * acc;
      }
    for (std::size_t i = 0; i < B.size(); ++i) B.data[i] -= lr * gB.data[i];
    for (std::size_t i = 0; i < A.size(); ++i) A.data[i] -= lr * gA.data[i];
  }
}

Matrix gaussian(std::size_t rows, std::size_t cols, double scale, std::mt19937_64& gen) {
  std::normal_distribution<double> nd;
  Matrix m(rows, cols);
  for (double& v : m.data) v = scale * nd(gen);
  return m;
}

double max_abs_diff(const Matrix& a, const Matrix& b) {
  double d = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a.data[i] - b.data[i]));
  return d;
}

class FitShapes : public ::testing::TestWithParam<std::tuple<int, int, int, double>> {};

TEST_P(FitShapes, MatchesPlainReference) {
  const auto [m, n, r, s] = GetParam();
  const std::uint64_t seed = 1000u + static_cast<std::uint64_t>(m * 7919 + n * 31 + r);
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 gen(seed);
  const Matrix T = gaussian(m, n, 1.0, gen);
  const Matrix B0(m, r);
  const Matrix A0 = gaussian(r, n, 0.01, gen);
  FitOptions options;
  options.steps = 200;
  options.lr = 0.01;
  options.scale = s;
  Result<LoraFit> fit = fit_lora(T, B0, A0, options);
  ASSERT_TRUE(fit) << fit.error().message();
  Matrix B = B0, A = A0;
  reference_fit(T, B, A, options.steps, options.lr, s);
  // Different summation orders only: agreement to a few hundred ulps of the entries.
  EXPECT_LT(max_abs_diff(fit->B, B), 1e-12);
  EXPECT_LT(max_abs_diff(fit->A, A), 1e-12);
  Matrix E(m, n);
  double e2 = 0.0, t2 = 0.0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(m); ++i)
    for (std::size_t j = 0; j < static_cast<std::size_t>(n); ++j) {
      double acc = 0.0;
      for (std::size_t k = 0; k < static_cast<std::size_t>(r); ++k) acc += B(i, k) * A(k, j);
      e2 += std::pow(T(i, j) - s * acc, 2);
      t2 += T(i, j) * T(i, j);
    }
  EXPECT_NEAR(fit->rel_err, std::sqrt(e2 / t2), 1e-12);
  EXPECT_EQ(fit->steps_run, options.steps);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FitShapes,
    ::testing::Values(std::make_tuple(64, 64, 16, 1.0), std::make_tuple(64, 64, 2, 1.0),
                      std::make_tuple(13, 29, 3, 1.0), std::make_tuple(40, 17, 7, 1.0),
                      std::make_tuple(9, 9, 9, 1.0), std::make_tuple(1, 5, 1, 1.0),
                      std::make_tuple(33, 70, 12, 0.5), std::make_tuple(24, 8, 8, 2.0)));

TEST(Fit, RejectsMismatchedShapes) {
  const Matrix T(8, 8), B(8, 2), A(3, 8);
  Result<LoraFit> fit = fit_lora(T, B, A, FitOptions());
  ASSERT_FALSE(fit);
  EXPECT_EQ(fit.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(fit.error().message().find("B 8x2, A 3x8"), std::string::npos);
}

TEST(Fit, ZeroStepsReturnsInitialFactors) {
  std::mt19937_64 gen(5);
  const Matrix T = gaussian(6, 6, 1.0, gen), B(6, 2), A = gaussian(2, 6, 0.1, gen);
  FitOptions options;
  options.steps = 0;
  Result<LoraFit> fit = fit_lora(T, B, A, options);
  ASSERT_TRUE(fit);
  EXPECT_EQ(fit->A.data, A.data);
  EXPECT_DOUBLE_EQ(fit->rel_err, 1.0);  // B = 0, so the residual is T itself
}

TEST(Fit, DivergenceGivesNonFiniteErrorNotFailure) {
  std::mt19937_64 gen(6);
  const Matrix T = gaussian(16, 16, 10.0, gen), B(16, 4), A = gaussian(4, 16, 0.01, gen);
  FitOptions options;
  options.steps = 500;
  options.lr = 5.0;
  Result<LoraFit> fit = fit_lora(T, B, A, options);
  ASSERT_TRUE(fit);
  EXPECT_FALSE(std::isfinite(fit->rel_err));
}

TEST(Fit, AdamReducesTheError) {
  std::mt19937_64 gen(7);
  const Matrix U = gaussian(20, 3, 1.0, gen), V = gaussian(3, 20, 1.0, gen);
  const Matrix T = matmul(U, V), B(20, 3), A = gaussian(3, 20, 0.01, gen);
  FitOptions options;
  options.steps = 2000;
  options.lr = 0.01;
  options.optimizer = Optimizer::kAdam;
  Result<LoraFit> fit = fit_lora(T, B, A, options);
  ASSERT_TRUE(fit);
  EXPECT_LT(fit->rel_err, 0.05);
}

TEST(Fit, ObserverSeesEveryStepAndCanStop) {
  std::mt19937_64 gen(8);
  const Matrix T = gaussian(8, 8, 1.0, gen), B(8, 2), A = gaussian(2, 8, 0.01, gen);
  FitOptions options;
  options.steps = 100;
  options.observe_every = 10;
  std::vector<int> seen;
  options.observer = [&](int step, const Matrix& b, const Matrix& a) {
    EXPECT_EQ(b.rows, 8u);
    EXPECT_EQ(a.rows, 2u);
    seen.push_back(step);
    return step < 50;
  };
  Result<LoraFit> fit = fit_lora(T, B, A, options);
  ASSERT_TRUE(fit);
  EXPECT_EQ(seen, (std::vector<int>{10, 20, 30, 40, 50}));
  EXPECT_EQ(fit->steps_run, 50);
}

}  // namespace
}  // namespace lorank
