// The R factor of a thin QR factorisation, the building block of the LoRA spectrum.
#ifndef LORANK_LINALG_R_FACTOR_H_
#define LORANK_LINALG_R_FACTOR_H_

#include <cstddef>
#include <vector>

#include "lorank/spectrum.h"
#include "lorank/status.h"

namespace lorank::linalg {

// How the m×n matrix F lies in memory: row-major (F[i][j] at i·n + j) or column-major
// (at j·m + i). LoRA's B (out×r, row-major) is F = B row-major; A (r×in, row-major) is
// F = Aᵀ column-major, so neither needs a transposition to be described.
enum class Layout { kRowMajor, kColMajor };

// Buffers reused across calls (grow only).
struct RFactorBuffers {
  std::vector<double> x;     // the widened copy of F that the factorisation destroys
  std::vector<double> tau;   // Householder scalars
  std::vector<double> r1;    // n×n: first (or only) triangular factor
  std::vector<double> r2;    // n×n: CholeskyQR2's second factor
  std::vector<double> work;  // LAPACK workspace
};

// Computes the upper trapezoidal R (k×n with k = min(m, n), column-major, ld k, zeros
// below the diagonal) of F = Q·R into `r_out`, by `method` (see SpectrumMethod). `name`
// ("B" or "A") and `row_length` (the caller's row-major row length) only label errors.
// Sets *fell_back when a Cholesky method handed F to Householder QR.
// Errors: kNumerical for a NaN/Inf element of F.
template <typename T>
Status r_factor(const T* f, int m, int n, Layout layout, SpectrumMethod method,
                const char* name, RFactorBuffers& buf, double* r_out, bool* fell_back);

}  // namespace lorank::linalg

#endif  // LORANK_LINALG_R_FACTOR_H_
