// The LAPACK/BLAS pieces that singular *vectors* need on top of linalg/lapack.h: an explicit
// Q from dgeqrf's reflectors, an SVD with vectors, and a general matrix product.
//
// Same conventions as linalg/lapack.h: column-major with explicit leading dimensions,
// caller-owned workspace that only grows, info < 0 aborts (a lorank bug), info > 0 is a
// kNumerical Status. Kept apart from lapack.h so that the spectrum routine (values only)
// can evolve independently.
#ifndef LORANK_LINALG_SINGULAR_VECTORS_H_
#define LORANK_LINALG_SINGULAR_VECTORS_H_

#include <vector>

#include "lorank/status.h"

namespace lorank::linalg {

// Forms the m×n matrix Q with orthonormal columns from the first k Householder reflectors
// that geqrf left in `a` (ld `lda` ≥ m) and `tau` (LAPACK dorgqr; GVL 4th ed. §5.1.6).
// REQUIRES m ≥ n ≥ k. Q overwrites `a`.
Status orgqr(int m, int n, int k, double* a, int lda, const double* tau,
             std::vector<double>& work);

// Thin SVD of the m×n matrix `a` (destroyed), LAPACK dgesdd with JOBZ='S': `s` receives the
// p = min(m,n) singular values descending, `u` the m×p left vectors (ld `ldu` ≥ m) and
// `vt` the p×n transposed right vectors (ld `ldvt` ≥ p).
Status gesdd_vectors(int m, int n, double* a, int lda, double* s, double* u, int ldu,
                     double* vt, int ldvt, std::vector<double>& work, std::vector<int>& iwork);

// C := op(A)·op(B) + β·C (BLAS dgemm, α = 1), C m×n with ld `ldc`; op(A) is m×k, op(B)
// k×n. β = 0 (the default) overwrites C; β = 1 accumulates into it.
void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, const double* a, int lda,
          const double* b, int ldb, double* c, int ldc, double beta = 0.0);

}  // namespace lorank::linalg

#endif  // LORANK_LINALG_SINGULAR_VECTORS_H_
