#include "lorank/dense_svd.h"

#include <lapacke.h>

#include <algorithm>
#include <cmath>

namespace lorank {

Result<std::vector<double>> dense_singular_values(const Matrix& m) {
  const std::size_t k = std::min(m.rows, m.cols);
  if (k == 0) return std::vector<double>();
  for (double v : m.data) {
    if (!std::isfinite(v)) return numerical_error("dense SVD: matrix has NaN or Inf entries");
  }
  Matrix work = m;  // dgesdd overwrites its input
  std::vector<double> s(k);
  // Row-major m×n storage is the column-major n×m transpose, which has the same singular
  // values; asking LAPACK for that avoids LAPACKE's row-major copy.
  const lapack_int info = LAPACKE_dgesdd(
      LAPACK_COL_MAJOR, 'N', static_cast<lapack_int>(m.cols), static_cast<lapack_int>(m.rows),
      work.data.data(), static_cast<lapack_int>(m.cols), s.data(), nullptr, 1, nullptr, 1);
  if (info > 0) return numerical_error("dense SVD: dgesdd did not converge (info {})", info);
  if (info < 0) return internal_error("dense SVD: dgesdd rejected argument {}", -info);
  return s;
}

}  // namespace lorank
