#include "linalg/r_factor.h"

#include <algorithm>

#include "linalg/lapack.h"

namespace lorank::linalg {
namespace {

std::size_t sz(int v) { return static_cast<std::size_t>(v); }

// Householder QR (dgeqrf) of F widened whole, column-major, into buf.x; R into r_out.
// Backward stable for every input (Golub & Van Loan 4th ed., §5.2.2).
Status householder(const FactorSource& f, RFactorBuffers& buf, double* r_out) {
  const int m = static_cast<int>(f.m);
  const int n = static_cast<int>(f.n);
  const int k = std::min(m, n);
  if (buf.x.size() < f.m * f.n) buf.x.resize(f.m * f.n);
  if (!widen_rows(f, 0, f.m, buf.x.data(), f.m, /*transposed=*/true)) return nonfinite_error(f);
  if (buf.tau.size() < sz(k)) buf.tau.resize(sz(k));
  LORANK_RETURN_IF_ERROR(geqrf(m, n, buf.x.data(), m, buf.tau.data(), buf.work));
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < k; ++i) {
      r_out[sz(j) * sz(k) + sz(i)] = i <= j ? buf.x[sz(j) * sz(m) + sz(i)] : 0.0;
    }
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
