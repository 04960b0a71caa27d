// The demo's target matrix. Compiled with the random streams' flags (-ffp-contract=off):
// bit-exactness with NumPy needs P = U·V summed left to right over k with separately
// rounded products, as the reference BLAS does (numpy-rng.md §2.7).
#include <cmath>

#include "lorank/demo.h"
#include "lorank/random.h"

namespace lorank {

DemoTarget make_demo_target(int out, int in, int true_rank, double noise, std::uint32_t seed,
                            bool held_out) {
  const std::size_t m = static_cast<std::size_t>(out), n = static_cast<std::size_t>(in);
  const std::size_t k = static_cast<std::size_t>(true_rank);
  LegacyNormal rng(seed);
  const std::vector<double> U = rng.randn(m * k);  // out×k, row-major
  const std::vector<double> V = rng.randn(k * n);  // k×in
  const std::vector<double> N = rng.randn(m * n);  // out×in
  const double root_k = std::sqrt(static_cast<double>(true_rank));
  const std::vector<double> N2 = held_out ? rng.randn(m * n) : std::vector<double>();
  DemoTarget t{Matrix(m, n), Matrix(m, n), Matrix(m, n), held_out ? Matrix(m, n) : Matrix()};
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double p = 0.0;
      for (std::size_t l = 0; l < k; ++l) p += U[i * k + l] * V[l * n + j];
      const double scaled = noise * N[i * n + j];
      t.signal(i, j) = p / root_k;
      t.target(i, j) = t.signal(i, j) + scaled;
      t.scaled_noise(i, j) = scaled;
      if (held_out) t.held_out(i, j) = t.signal(i, j) + noise * N2[i * n + j];
    }
  }
  return t;
}

}  // namespace lorank
