#include "linalg/r_factor.h"

#include <algorithm>

#include "linalg/lapack.h"

namespace lorank::linalg {
namespace {

// Rows of F per Householder step below: the stack [R; block] is (n + kRowsPerStep)×n.
constexpr std::size_t kRowsPerStep = 2048;

// Householder QR of F for R only, streamed (TSQR, Demmel et al., SIAM J. Sci. Comput. 34,
// 2012): R ← R of [R; next block of F], block after block. Each step is a backward-stable
// dgeqrf, so the result is the R of a backward-stable QR of F (up to the signs of its
// rows), holding (n + kRowsPerStep)·n doubles whatever m is, not a widened copy of F.
// Cost ≈ 2·m·n²·(1 + n/kRowsPerStep) flops, close to one dgeqrf of F.
Status householder(const FactorSource& f, RFactorBuffers& buf, double* r_out) {
  const std::size_t m = f.m, n = f.n;
  const std::size_t step = std::min(m, kRowsPerStep);
  const std::size_t ld = std::min(m, n + step);  // rows of the stack
  if (buf.x.size() < ld * n) buf.x.resize(ld * n);
  if (buf.tau.size() < n) buf.tau.resize(n);
  std::size_t kept = 0;  // rows of R at the top of the stack
  for (std::size_t row0 = 0; row0 < m;) {
    const std::size_t rows = std::min(ld - kept, m - row0);
    // The block under R; below the diagonal R's columns hold zeros, set here.
    if (!widen_rows(f, row0, rows, buf.x.data() + kept, ld, /*transposed=*/true)) {
      return nonfinite_error(f);
    }
    const std::size_t height = kept + rows;
    LORANK_RETURN_IF_ERROR(geqrf(static_cast<int>(height), static_cast<int>(n), buf.x.data(),
                                 static_cast<int>(ld), buf.tau.data(), buf.work));
    kept = std::min(height, n);
    for (std::size_t j = 0; j < n; ++j) {  // keep R (upper trapezoid), clear the reflectors
      for (std::size_t i = std::min(j + 1, kept); i < kept; ++i) buf.x[j * ld + i] = 0.0;
    }
    row0 += rows;
  }
  const std::size_t k = std::min(m, n);
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t i = 0; i < k; ++i) r_out[j * k + i] = i <= j ? buf.x[j * ld + i] : 0.0;
  }
  return Status();
}

}  // namespace

std::size_t RFactorBuffers::bytes_reserved() const {
  const std::size_t doubles = x.capacity() + tau.capacity() + rows.capacity() +
                              cols.capacity() + gram.capacity() +
                              panel.capacity() + scratch.capacity() + inv_diag.capacity() +
                              r1.capacity() + r2.capacity() + work.capacity();
  return doubles * sizeof(double);
}

Status r_factor(const FactorSource& f, SpectrumMethod method, RFactorBuffers& buf,
                double* r_out, bool* fell_back) {
  *fell_back = false;
  // A wide F (m < n) has a singular Gram matrix: only Householder applies.
  if (method != SpectrumMethod::kHouseholderQr && f.m >= f.n) {
    LORANK_ASSIGN_OR_RETURN(const bool done, cholesky_qr_stream(f, method, buf, r_out));
    if (done) return Status();
    *fell_back = true;
  }
  return householder(f, buf, r_out);
}

}  // namespace lorank::linalg
