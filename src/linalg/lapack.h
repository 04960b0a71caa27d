// A thin layer over LAPACKE/CBLAS (OpenBLAS) for the routines lorank needs.
//
// Every matrix here is COLUMN-MAJOR with an explicit leading dimension, which is what
// LAPACK works in natively: the *_work LAPACKE entry points then neither transpose nor
// allocate. Callers own all workspace (std::vector buffers that only grow), so a hot loop
// over many modules allocates nothing after the largest shape has been seen.
//
// Error policy: LAPACK's info < 0 means lorank passed a bad argument, i.e. a bug; we print
// the routine and argument number and abort. info > 0 is a property of the data (not
// positive definite, no convergence) and becomes a kNumerical Status.
#ifndef LORANK_LINALG_LAPACK_H_
#define LORANK_LINALG_LAPACK_H_

#include <cstddef>
#include <vector>

#include "lorank/status.h"

namespace lorank::linalg {

// True when n fits LAPACK's 32-bit lapack_int.
bool fits_lapack_int(std::size_t n);

// QR factorisation of the m×n matrix `a` (ld `lda` ≥ m) by Householder reflections,
// LAPACK dgeqrf (Golub & Van Loan 4th ed., §5.2.2). On return the upper trapezoid
// (min(m,n)×n) of `a` holds R. `tau` must hold min(m,n) values; `work` grows as needed.
Status geqrf(int m, int n, double* a, int lda, double* tau, std::vector<double>& work);

// Singular values only of the m×n matrix `a` (destroyed), LAPACK dgesdd with JOBZ='N'
// (bidiagonalisation, then dqds: GVL §8.6). `s` receives min(m,n) values, descending.
Status gesdd_values(int m, int n, double* a, int lda, double* s, std::vector<double>& work,
                    std::vector<int>& iwork);

// Cholesky factorisation G = Rᵀ·R of the n×n symmetric matrix whose upper triangle is in
// `a` (LAPACK dpotrf, UPLO='U'); R overwrites that upper triangle. A matrix that is not
// (numerically) positive definite gives kNumerical.
Status potrf_upper(int n, double* a, int lda);

// B := A·B for upper triangular n×n A and B (ld n; BLAS dtrmm). The strictly lower part
// of `b` is read, so it must be zero.
void upper_times_upper(int n, const double* a, double* b);

// LAPACK's info < 0 means argument -info was illegal: lorank's bug, never the data's.
// Prints the routine and argument and aborts.
[[noreturn]] void argument_bug(const char* routine, int info);

// Grows `work` to the size a workspace query (lwork = -1) reported in `query`.
void ensure_work(std::vector<double>& work, double query);

// OpenBLAS's process-wide thread count (1 when the library is single-threaded).
int blas_threads();
void set_blas_threads(int n);

// Sets OpenBLAS to `n` threads for the guard's lifetime, then restores the old count.
// Process-global but reentrant across threads: while guards overlap, the first one's `n`
// holds, and the count from before the first is restored when the last one ends.
class BlasThreadsGuard {
 public:
  explicit BlasThreadsGuard(int n);
  ~BlasThreadsGuard();
  BlasThreadsGuard(const BlasThreadsGuard&) = delete;
  BlasThreadsGuard& operator=(const BlasThreadsGuard&) = delete;
};

}  // namespace lorank::linalg

#endif  // LORANK_LINALG_LAPACK_H_
