#include "linalg/singular_vectors.h"

#include "linalg/lapack.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace lorank::linalg {

Status orgqr(int m, int n, int k, double* a, int lda, const double* tau,
             std::vector<double>& work) {
  double query = 0.0;
  lapack_int info = LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, m, n, k, a, lda, tau, &query, -1);
  if (info < 0) argument_bug("dorgqr", info);
  ensure_work(work, query);
  info = LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, m, n, k, a, lda, tau, work.data(),
                             static_cast<lapack_int>(work.size()));
  if (info < 0) argument_bug("dorgqr", info);
  return Status();  // dorgqr has no info > 0
}

Status gesdd_vectors(int m, int n, double* a, int lda, double* s, double* u, int ldu,
                     double* vt, int ldvt, std::vector<double>& work, std::vector<int>& iwork) {
  const auto iwork_needed = static_cast<std::size_t>(8 * std::max(1, std::min(m, n)));
  if (iwork.size() < iwork_needed) iwork.resize(iwork_needed);
  double query = 0.0;
  lapack_int info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'S', m, n, a, lda, s, u, ldu, vt,
                                        ldvt, &query, -1, iwork.data());
  if (info < 0) argument_bug("dgesdd", info);
  ensure_work(work, query);
  info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'S', m, n, a, lda, s, u, ldu, vt, ldvt,
                             work.data(), static_cast<lapack_int>(work.size()), iwork.data());
  if (info < 0) argument_bug("dgesdd", info);
  if (info > 0) {
    return numerical_error("dgesdd: the {}x{} SVD did not converge ({} superdiagonals)", m, n,
                           static_cast<int>(info));
  }
  return Status();
}

void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, const double* a, int lda,
          const double* b, int ldb, double* c, int ldc, double beta) {
  cblas_dgemm(CblasColMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace lorank::linalg
