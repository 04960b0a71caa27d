#include "linalg/lapack.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <type_traits>

namespace lorank::linalg {

static_assert(std::is_same_v<lapack_int, int>, "lorank assumes LP64 LAPACKE (32-bit ints)");

void argument_bug(const char* routine, int info) {
  std::fprintf(stderr, "lorank: internal error: %s rejected argument %d\n", routine, -info);
  std::abort();
}

void ensure_work(std::vector<double>& work, double query) {
  const auto needed = static_cast<std::size_t>(std::max(1.0, query));
  if (work.size() < needed) work.resize(needed);
}

bool fits_lapack_int(std::size_t n) { return n <= static_cast<std::size_t>(INT_MAX); }

Status geqrf(int m, int n, double* a, int lda, double* tau, std::vector<double>& work) {
  double query = 0.0;
  lapack_int info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, m, n, a, lda, tau, &query, -1);
  if (info < 0) argument_bug("dgeqrf", info);
  ensure_work(work, query);
  info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, m, n, a, lda, tau, work.data(),
                             static_cast<lapack_int>(work.size()));
  if (info < 0) argument_bug("dgeqrf", info);
  return Status();  // dgeqrf has no info > 0
}

Status gesdd_values(int m, int n, double* a, int lda, double* s, std::vector<double>& work,
                    std::vector<int>& iwork) {
  const auto iwork_needed = static_cast<std::size_t>(8 * std::max(1, std::min(m, n)));
  if (iwork.size() < iwork_needed) iwork.resize(iwork_needed);
  double query = 0.0;
  lapack_int info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'N', m, n, a, lda, s, nullptr, 1,
                                        nullptr, 1, &query, -1, iwork.data());
  if (info < 0) argument_bug("dgesdd", info);
  ensure_work(work, query);
  info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'N', m, n, a, lda, s, nullptr, 1, nullptr, 1,
                             work.data(), static_cast<lapack_int>(work.size()), iwork.data());
  if (info < 0) argument_bug("dgesdd", info);
  if (info > 0) {
    return numerical_error("dgesdd: the {}x{} bidiagonal SVD did not converge ({} superdiagonals)",
                           m, n, static_cast<int>(info));
  }
  return Status();
}

Status potrf_upper(int n, double* a, int lda) {
  const lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', n, a, lda);
  if (info < 0) argument_bug("dpotrf", info);
  if (info > 0) {
    return numerical_error("dpotrf: the {}x{} Gram matrix is not positive definite (pivot {})",
                           n, n, static_cast<int>(info));
  }
  return Status();
}

void upper_times_upper(int n, const double* a, double* b) {
  cblas_dtrmm(CblasColMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, n, n, 1.0, a, n,
              b, n);
}

int blas_threads() { return openblas_get_num_threads(); }
void set_blas_threads(int n) { openblas_set_num_threads(std::max(1, n)); }

namespace {
// Guards may overlap when lorank is called from several threads at once (the Python
// module releases the GIL): the first guard in saves the caller's count, the last one out
// restores it, so overlapping guards never leave OpenBLAS at 1 thread.
std::mutex guard_mutex;
int guard_depth = 0;
int guard_saved = 1;
}  // namespace

BlasThreadsGuard::BlasThreadsGuard(int n) {
  const std::lock_guard<std::mutex> lock(guard_mutex);
  if (guard_depth++ == 0) {
    guard_saved = blas_threads();
    set_blas_threads(n);
  }
}
BlasThreadsGuard::~BlasThreadsGuard() {
  const std::lock_guard<std::mutex> lock(guard_mutex);
  if (--guard_depth == 0) set_blas_threads(guard_saved);
}

}  // namespace lorank::linalg
