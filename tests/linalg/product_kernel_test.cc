// The shared product kernel's helpers used by the streamed CholeskyQR2: transposition,
// accumulation with leading dimensions, panel substitution.
#include "linalg/product_kernel.h"

#include <gtest/gtest.h>

#include <vector>

namespace lorank::detail {
namespace {

TEST(ProductKernel, TransposeAnyShapeWithStrides) {
  for (std::size_t rows : {1u, 7u, 8u, 13u, 64u}) {
    for (std::size_t cols : {1u, 8u, 9u, 24u, 31u}) {
      const std::size_t lds = cols + 3, ldd = rows + 5;
      std::vector<double> src(rows * lds), dst(cols * ldd, -1.0);
      for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<double>(i) + 0.5;
      transpose(src.data(), lds, dst.data(), ldd, rows, cols);
      for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
          ASSERT_EQ(dst[j * ldd + i], src[i * lds + j]) << rows << "x" << cols << " " << i << ","
                                                         << j;
        }
      }
      for (std::size_t j = 0; j < cols; ++j) {  // the padding between rows is untouched
        for (std::size_t i = rows; i < ldd; ++i) ASSERT_EQ(dst[j * ldd + i], -1.0);
      }
    }
  }
}

TEST(ProductKernel, AccumulateWithLeadingDimensions) {
  const std::size_t M = 5, N = 16, K = 11, ldx = 20, ldc = 24;
  std::vector<double> w(M * K), x(K * ldx), c(M * ldc, 2.0), scratch(scratch_size(K));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>(i % 7) - 3.0;
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i % 5) - 2.0;
  broadcast_product_add(c.data(), Strided{w.data(), 1, M}, x.data(), M, N, K, 0.5,
                        scratch.data(), Strides{ldx, ldc, 0});
  for (std::size_t i = 0; i < M; ++i) {
    for (std::size_t j = 0; j < ldc; ++j) {
      double expect = 2.0;
      if (j < N) {
        double sum = 0.0;
        for (std::size_t k = 0; k < K; ++k) sum += w[k * M + i] * x[k * ldx + j];
        expect += 0.5 * sum;
      }
      ASSERT_EQ(c[i * ldc + j], expect) << i << "," << j;  // small integers: exact
    }
  }
}

TEST(ProductKernel, SubstitutePanelIsForwardSubstitution) {
  const std::size_t P = 6, N = 16, ld = 24;
  // L(c, l) for l < c, unit-ish diagonal given through inv.
  std::vector<double> l(P * P, 0.0), inv(P), y(P * ld), q(P * ld, 0.0);
  for (std::size_t c = 0; c < P; ++c) {
    inv[c] = 1.0 / static_cast<double>(1u << c);  // exact reciprocals
    for (std::size_t k = 0; k < c; ++k) l[c * P + k] = static_cast<double>(c + k) - 4.0;
  }
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<double>(i % 9);
  substitute_panel(q.data(), y.data(), ld, P, N, l.data(), P, inv.data(), -1.0);
  for (std::size_t t = 0; t < N; ++t) {
    std::vector<double> ref(P);
    for (std::size_t c = 0; c < P; ++c) {
      double acc = -y[c * ld + t];
      for (std::size_t k = 0; k < c; ++k) acc -= l[c * P + k] * ref[k];
      ref[c] = acc * inv[c];
      ASSERT_EQ(q[c * ld + t], ref[c]) << c << "," << t;
    }
  }
}

}  // namespace
}  // namespace lorank::detail
