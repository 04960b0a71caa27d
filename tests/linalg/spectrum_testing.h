// Helpers for the spectrum tests: seeded test matrices and the dense LAPACK reference.
#ifndef LORANK_TESTS_LINALG_SPECTRUM_TESTING_H_
#define LORANK_TESTS_LINALG_SPECTRUM_TESTING_H_

#include <lapacke.h>

// GCC 12 with -march=native reports a false -Wmaybe-uninitialized inside its own
// avx512fintrin.h when Eigen's gemv is inlined (GCC bug 105593). The diagnostic is located
// in the intrinsics header, so it must be silenced before Eigen first includes it and
// cannot be popped afterwards.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Dense>
#include <algorithm>
#include <cstddef>
#include <random>
#include <vector>

namespace lorank::testing {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline RowMatrix gaussian(std::size_t rows, std::size_t cols, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  RowMatrix m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

// rows×cols with orthonormal columns (rows ≥ cols), the Q of a Gaussian matrix.
inline RowMatrix orthonormal(std::size_t rows, std::size_t cols, std::mt19937_64& rng) {
  const RowMatrix g = gaussian(rows, cols, rng);
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  const Eigen::MatrixXd thin =
      qr.householderQ() * Eigen::MatrixXd::Identity(g.rows(), g.cols());
  return thin;
}

// m×n matrix U·diag(sigma)·Vᵀ with random orthonormal U, V (sigma.size() ≤ min(m, n)).
inline RowMatrix with_spectrum(std::size_t m, std::size_t n, const std::vector<double>& sigma,
                               std::mt19937_64& rng) {
  const RowMatrix u = orthonormal(m, sigma.size(), rng);
  const RowMatrix v = orthonormal(n, sigma.size(), rng);
  const Eigen::Map<const Eigen::VectorXd> s(sigma.data(), static_cast<Eigen::Index>(sigma.size()));
  const RowMatrix result = u * s.asDiagonal() * v.transpose();
  return result;
}

// k values geometric from 1 down to `smallest`.
inline std::vector<double> geometric(std::size_t k, double smallest) {
  std::vector<double> s(k, 1.0);
  for (std::size_t i = 1; i < k; ++i) {
    s[i] = std::pow(smallest, static_cast<double>(i) / static_cast<double>(k - 1));
  }
  return s;
}

// Reference: all min(out, in) singular values of the formed scale·B·A, LAPACK dgesdd
// (JOBZ='N'), descending.
inline std::vector<double> dense_singular_values(const RowMatrix& b, const RowMatrix& a,
                                                 double scale) {
  RowMatrix m = scale * (b * a);
  const auto rows = static_cast<lapack_int>(m.rows());
  const auto cols = static_cast<lapack_int>(m.cols());
  std::vector<double> s(static_cast<std::size_t>(std::min(rows, cols)));
  if (s.empty()) return s;
  // The row-major rows×cols buffer is Mᵀ in column-major order: same singular values, and
  // no transposition inside LAPACKE.
  const lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', cols, rows, m.data(), cols,
                                         s.data(), nullptr, 1, nullptr, 1);
  if (info != 0) s.assign(s.size(), -1.0);  // makes the comparison fail loudly
  return s;
}

}  // namespace lorank::testing

#endif  // LORANK_TESTS_LINALG_SPECTRUM_TESTING_H_
