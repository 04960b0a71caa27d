// The streamed block-Lanczos top singular values (audit --base's big-W route) against
// LAPACK's dense SVD of the same matrix, on spectra from easy to hard.
#include "linalg/top_singular_values.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>
#include <vector>

#include "linalg/lapack.h"
#include "linalg/singular_vectors.h"

namespace lorank {
namespace {

using linalg::RowBlockReader;

// A rows×cols row-major matrix U·diag(sigma)·Vᵀ with random orthonormal U, V.
std::vector<double> with_spectrum(std::size_t rows, std::size_t cols,
                                  const std::vector<double>& sigma, std::uint64_t seed) {
  DefaultRngNormal rng(seed);
  const std::size_t p = sigma.size();
  std::vector<double> u, v, w(rows * cols, 0.0);
  EXPECT_TRUE(linalg::random_orthonormal_frame(rows, p, rng, u).ok());
  EXPECT_TRUE(linalg::random_orthonormal_frame(cols, p, rng, v).ok());
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      double s = 0.0;
      for (std::size_t l = 0; l < p; ++l) s += u[l * rows + i] * sigma[l] * v[l * cols + j];
      w[i * cols + j] = s;
    }
  }
  return w;
}

std::vector<double> dense_sigma(std::vector<double> w, std::size_t rows, std::size_t cols) {
  std::vector<double> s(std::min(rows, cols)), work;
  std::vector<int> iwork;
  EXPECT_TRUE(linalg::gesdd_values(static_cast<int>(cols), static_cast<int>(rows), w.data(),
                                   static_cast<int>(cols), s.data(), work, iwork)
                  .ok());
  return s;
}

RowBlockReader reader_of(const std::vector<double>& w, std::size_t cols, std::size_t* calls) {
  return [&w, cols, calls](std::size_t row0, std::size_t n, double* dst) {
    ++*calls;
    std::copy_n(w.begin() + static_cast<std::ptrdiff_t>(row0 * cols), n * cols, dst);
    return Status();
  };
}

void expect_agrees(const std::vector<double>& w, std::size_t rows, std::size_t cols, std::size_t k,
                   const linalg::TopSingularValuesOptions& options = {}) {
  const std::vector<double> want = dense_sigma(w, rows, cols);
  std::size_t calls = 0;
  DefaultRngNormal rng(7);
  auto got = linalg::top_singular_values(rows, cols, k, reader_of(w, cols, &calls), rng, options);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  ASSERT_EQ(got->sigma.size(), k);
  EXPECT_GT(got->passes, 0u);
  EXPECT_LE(got->relative_error_bound, options.tolerance / 2);
  for (std::size_t i = 0; i < k; ++i) {
    EXPECT_NEAR(got->sigma[i], want[i], 1e-10 * want[i]) << "sigma " << i;
    // Ritz values are lower bounds (up to rounding).
    EXPECT_LE(got->sigma[i], want[i] * (1 + 1e-13)) << "sigma " << i;
  }
}

TEST(TopSingularValues, DecayingSpectrumMatchesDense) {
  std::vector<double> sigma(300);
  for (std::size_t i = 0; i < sigma.size(); ++i) sigma[i] = 10.0 / std::sqrt(1.0 + i);
  expect_agrees(with_spectrum(700, 300, sigma, 1), 700, 300, 8);
}

TEST(TopSingularValues, GaussianMatrixFlatTopMatchesDense) {
  // The hard case: the top of a Marchenko–Pastur spectrum has tiny relative gaps.
  const std::size_t rows = 500, cols = 400;
  DefaultRngNormal rng(3);
  std::vector<double> w(rows * cols);
  rng.fill(w);
  expect_agrees(w, rows, cols, 4);
  expect_agrees(w, rows, cols, 1);
}

TEST(TopSingularValues, RepeatedSingularValuesAndWideMatrix) {
  std::vector<double> sigma = {5, 5, 5, 2, 2, 1, 0.5, 0.25, 0.1};
  expect_agrees(with_spectrum(120, 900, sigma, 4), 120, 900, 5);
}

TEST(TopSingularValues, ZeroMatrixIsExactlyZero) {
  const std::vector<double> w(50 * 40, 0.0);
  std::size_t calls = 0;
  DefaultRngNormal rng(1);
  auto got = linalg::top_singular_values(50, 40, 3, reader_of(w, 40, &calls), rng);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->sigma, std::vector<double>(3, 0.0));
  EXPECT_EQ(got->relative_error_bound, 0.0);
}

TEST(TopSingularValues, ReaderErrorsAndBadKArePassedOn) {
  DefaultRngNormal rng(1);
  const RowBlockReader failing = [](std::size_t, std::size_t, double*) {
    return io_error("'w.safetensors': read failed");
  };
  auto r = linalg::top_singular_values(10, 10, 2, failing, rng);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "'w.safetensors': read failed");
  EXPECT_FALSE(linalg::top_singular_values(10, 10, 11, failing, rng).has_value());
  EXPECT_FALSE(linalg::top_singular_values(10, 10, 0, failing, rng).has_value());
}

TEST(TopSingularValues, RandomFrameIsOrthonormalAndSpansNumpysDraw) {
  // Its columns span G = standard_normal((n, k)) drawn row-major, as the oracle assumes:
  // the residual of G's columns after projecting onto the frame is at rounding level.
  DefaultRngNormal a(11), b(11);
  std::vector<double> q;
  ASSERT_TRUE(linalg::random_orthonormal_frame(30, 3, a, q).ok());
  std::vector<double> g(30 * 3);
  b.fill(g);
  for (std::size_t j = 0; j < 3; ++j) {
    for (std::size_t l = 0; l < 3; ++l) {
      double dot = 0.0;
      for (std::size_t i = 0; i < 30; ++i) dot += q[j * 30 + i] * q[l * 30 + i];
      EXPECT_NEAR(dot, j == l ? 1.0 : 0.0, 1e-14);
    }
    std::vector<double> col(30);
    for (std::size_t i = 0; i < 30; ++i) col[i] = g[i * 3 + j];
    for (std::size_t l = 0; l < 3; ++l) {
      double dot = 0.0;
      for (std::size_t i = 0; i < 30; ++i) dot += q[l * 30 + i] * col[i];
      for (std::size_t i = 0; i < 30; ++i) col[i] -= dot * q[l * 30 + i];
    }
    for (double x : col) EXPECT_NEAR(x, 0.0, 1e-13);
  }
}

}  // namespace
}  // namespace lorank

namespace lorank {
namespace {

// The Ritz vectors (extract's V_k / U_k): orthonormal, ‖W·v_i‖ = θ_i, for tall and wide W.
TEST(TopSingularValues, RitzVectorsAreOrthonormalAndCarryTheValues) {
  for (const auto& [rows, cols] : {std::pair<std::size_t, std::size_t>{300, 120}, {120, 300}}) {
    std::vector<double> sigma(120);
    for (std::size_t i = 0; i < sigma.size(); ++i) sigma[i] = 1.0 / std::sqrt(1.0 + i);
    const std::vector<double> w = with_spectrum(rows, cols, sigma, 11);
    std::size_t calls = 0;
    DefaultRngNormal rng(3);
    linalg::TopSingularValuesOptions o;
    o.vectors = true;
    o.tolerance = 1e-8;
    auto got = linalg::top_singular_values(rows, cols, 6, reader_of(w, cols, &calls), rng, o);
    ASSERT_TRUE(got.has_value());
    const std::size_t dim = got->left ? rows : cols;
    EXPECT_EQ(got->left, cols > rows);
    ASSERT_EQ(got->vectors.size(), dim * 6);
    for (std::size_t i = 0; i < 6; ++i) {
      for (std::size_t j = 0; j < 6; ++j) {
        double dot = 0.0;
        for (std::size_t l = 0; l < dim; ++l) dot += got->vectors[i * dim + l] * got->vectors[j * dim + l];
        EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-12);
      }
      double norm_sq = 0.0;  // ‖W·v‖ (tall) or ‖Wᵀ·u‖ (wide)
      if (!got->left) {
        for (std::size_t r = 0; r < rows; ++r) {
          double s = 0.0;
          for (std::size_t c = 0; c < cols; ++c) s += w[r * cols + c] * got->vectors[i * cols + c];
          norm_sq += s * s;
        }
      } else {
        for (std::size_t c = 0; c < cols; ++c) {
          double s = 0.0;
          for (std::size_t r = 0; r < rows; ++r) s += w[r * cols + c] * got->vectors[i * rows + r];
          norm_sq += s * s;
        }
      }
      EXPECT_NEAR(std::sqrt(norm_sq), got->sigma[i], 1e-12);
      EXPECT_NEAR(got->sigma[i], sigma[i], 1e-8 * sigma[i]);
    }
  }
}

// A chooser decides k while the basis grows: "every θ ≥ 0.3·θ₁" on σ_i = 1/√(1+i) is
// i ≤ 10, so k = 11, which exceeds the 3 + 8 wide block's first basis.
TEST(TopSingularValues, ChooserDecidesTheRankWhileIterating) {
  std::vector<double> sigma(80);
  for (std::size_t i = 0; i < sigma.size(); ++i) sigma[i] = 1.0 / std::sqrt(1.0 + i);
  const std::vector<double> w = with_spectrum(200, 80, sigma, 5);
  std::size_t calls = 0, asked = 0;
  DefaultRngNormal rng(1);
  linalg::TopSingularValuesOptions o;
  o.tolerance = 1e-9;
  o.choose = [&](std::span<const double> theta) {
    ++asked;
    std::size_t k = 0;
    while (k < theta.size() && theta[k] >= 0.3 * theta[0]) ++k;
    return linalg::RankChoice{std::max<std::size_t>(k, 1), std::min(theta.size(), k + 1), k < theta.size()};
  };
  auto got = linalg::top_singular_values(200, 80, 3, reader_of(w, 80, &calls), rng, o);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->decided);
  EXPECT_GE(asked, 2u);
  ASSERT_EQ(got->sigma.size(), 11u);  // 1/√11 ≥ 0.3 > 1/√12
  for (std::size_t i = 0; i < 11; ++i) EXPECT_NEAR(got->sigma[i], sigma[i], 1e-8);
  EXPECT_LE(got->relative_error_bound, 0.5e-9);
}

}  // namespace
}  // namespace lorank
