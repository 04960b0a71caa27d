#include "linalg/factor_product.h"

#include <algorithm>

#include "linalg/product_kernel.h"

namespace lorank::linalg {
namespace {

// Rows per block: the widened block (rows × n doubles) stays in L1/L2 while the kernel
// sweeps it once per 8-column strip of T.
constexpr std::size_t kProductBlockBytes = 32 * 1024;

}  // namespace

Status factor_times(const FactorSource& f, const double* t, std::size_t ldt, std::size_t k,
                    double* y, bool transposed, FactorProductBuffers& buf) {
  const std::size_t m = f.m, n = f.n;
  if (m == 0 || k == 0) return Status();
  const std::size_t kp = detail::round_up_lanes(k);
  const std::size_t block = std::clamp<std::size_t>(
      kProductBlockBytes / (std::max<std::size_t>(n, 1) * sizeof(double)) / detail::kLanes * detail::kLanes,
      detail::kLanes, detail::round_up_lanes(m));
  // T row-major (n×kp) and zero-padded: the kernel's X operand.
  buf.t.assign(n * kp, 0.0);
  for (std::size_t j = 0; j < k; ++j) {
    for (std::size_t l = 0; l < n; ++l) buf.t[l * kp + j] = t[j * ldt + l];
  }
  if (buf.rows.size() < block * n) buf.rows.resize(block * n);
  if (buf.product.size() < block * kp) buf.product.resize(block * kp);
  if (buf.scratch.size() < detail::scratch_size(n)) buf.scratch.resize(detail::scratch_size(n));
  for (std::size_t row0 = 0; row0 < m; row0 += block) {
    const std::size_t rows = std::min(block, m - row0);
    if (row0 + rows < m) prefetch_rows(f, row0 + rows, std::min(block, m - row0 - rows));
    if (!widen_rows(f, row0, rows, buf.rows.data(), n, /*transposed=*/false)) {
      return nonfinite_error(f);
    }
    detail::broadcast_product(buf.product.data(), detail::Strided{buf.rows.data(), n, 1},
                              buf.t.data(), nullptr, rows, kp, n, 1.0, buf.scratch.data());
    if (transposed) {
      detail::transpose(buf.product.data(), kp, y + row0, m, rows, k);
    } else {
      for (std::size_t i = 0; i < rows; ++i) {
        std::copy_n(buf.product.data() + i * kp, k, y + (row0 + i) * k);
      }
    }
  }
  return Status();
}

}  // namespace lorank::linalg
