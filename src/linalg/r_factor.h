// The R factor of a thin QR factorisation, the building block of the LoRA spectrum.
#ifndef LORANK_LINALG_R_FACTOR_H_
#define LORANK_LINALG_R_FACTOR_H_

#include <cstddef>
#include <vector>

#include "linalg/factor_source.h"
#include "lorank/spectrum.h"
#include "lorank/status.h"

namespace lorank::linalg {

// Buffers reused across calls (grow only). Every method streams F in blocks of rows, so
// they hold O(block·n + n²) doubles whatever m is: the Cholesky methods 32 KiB blocks,
// Householder QR (the kHouseholderQr method and the fallback) a stack of R and 2048 rows.
struct RFactorBuffers {
  std::vector<double> x;        // Householder: the stack [R; block of F] that dgeqrf destroys
  std::vector<double> tau;      // Householder scalars
  std::vector<double> rows;     // one block of F, row-major, row length n rounded up to 8
  std::vector<double> cols;     // the same block column-major (triangular solve)
  std::vector<double> gram;     // running Gram matrix (upper triangle, row-major)
  std::vector<double> panel;    // triangular-solve panel
  std::vector<double> scratch;  // product-kernel packing
  std::vector<double> inv_diag; // 1/R1(j, j)
  std::vector<double> r1;       // n×n: first (or only) triangular factor
  std::vector<double> r2;       // n×n: CholeskyQR2's second factor
  std::vector<double> work;     // LAPACK workspace

  std::size_t bytes_reserved() const;
};

// Computes the upper trapezoidal R (k×n with k = min(m, n), column-major, ld k, zeros
// below the diagonal) of F = Q·R into `r_out`, by `method` (see SpectrumMethod). Sets
// *fell_back when a Cholesky method handed F to Householder QR.
// Errors: kNumerical for a NaN/Inf element of F (named as f.name[i, j]).
Status r_factor(const FactorSource& f, SpectrumMethod method, RFactorBuffers& buf,
                double* r_out, bool* fell_back);

// The Cholesky methods (r_factor_stream.cc), for m >= n: true with R (n×n) in r_out, false
// when F must go to Householder QR instead (a Cholesky factorisation failed, the Gram
// matrix overflowed, or CholeskyQR2's acceptance test failed). kNumerical on NaN/Inf.
Result<bool> cholesky_qr_stream(const FactorSource& f, SpectrumMethod method,
                                RFactorBuffers& buf, double* r_out);

}  // namespace lorank::linalg

#endif  // LORANK_LINALG_R_FACTOR_H_
