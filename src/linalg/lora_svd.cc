#include "linalg/lora_svd.h"

#include <algorithm>
#include <limits>

#include "linalg/lapack.h"
#include "linalg/singular_vectors.h"
#include "core/lapack_size.h"

namespace lorank::linalg {
namespace {

// Copies the upper trapezoid (k×n) of the geqrf output x (m×n, ld m) into r (ld k).
void extract_r(const double* x, int m, int n, int k, double* r) {
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < k; ++i) r[sz(j) * sz(k) + sz(i)] = i <= j ? x[sz(j) * sz(m) + sz(i)] : 0.0;
  }
}

// Sets the dimensions of `d` and empties its vectors.
void reset(LoraSvd& d, int out, int in, int r) {
  d.out = out;
  d.in = in;
  d.r = r;
  d.kb = std::min(out, r);
  d.ka = std::min(in, r);
  d.count = std::min({out, in, r});
  for (std::vector<double>* v : {&d.rb, &d.ra, &d.qb, &d.qa, &d.u, &d.vt, &d.sigma}) v->clear();
}

}  // namespace

Status LoraSvdWorkspace::compute(std::span<const double> b, std::span<const double> a,
                                 LoraShape s, bool want_qb, bool want_qa, LoraSvd& d) {
  if (!fits_lapack_int(s.out) || !fits_lapack_int(s.in) || !fits_lapack_int(s.r) ||
      (s.r != 0 && s.out > std::numeric_limits<std::size_t>::max() / s.r) ||
      (s.r != 0 && s.in > std::numeric_limits<std::size_t>::max() / s.r)) {
    return not_supported("LoRA shape {}x{}·{}x{} exceeds LAPACK's 32-bit dimensions", s.out,
                            s.r, s.r, s.in);
  }
  if (b.size() != s.out * s.r) {
    return invalid_data("B has {} elements, expected out·r = {}·{}", b.size(), s.out, s.r);
  }
  if (a.size() != s.r * s.in) {
    return invalid_data("A has {} elements, expected r·in = {}·{}", a.size(), s.r, s.in);
  }
  const int out = static_cast<int>(s.out);
  const int r = static_cast<int>(s.r);
  const int in = static_cast<int>(s.in);
  reset(d, out, in, r);
  if (d.count == 0) return Status();
  const int kb = d.kb;
  const int ka = d.ka;

  // B → column-major out×r; Aᵀ (in×r column-major) is A's row-major data as it is.
  xb_.resize(sz(out) * sz(r));
  for (int i = 0; i < out; ++i) {
    for (int j = 0; j < r; ++j) xb_[sz(j) * sz(out) + sz(i)] = b[sz(i) * sz(r) + sz(j)];
  }
  xa_.assign(a.begin(), a.end());
  tau_b_.resize(sz(kb));
  tau_a_.resize(sz(ka));
  d.rb.resize(sz(kb) * sz(r));
  d.ra.resize(sz(ka) * sz(r));
  // Householder QR: Q must be orthonormal to working precision even for rank-deficient
  // factors (untrained or duplicated columns), which CholeskyQR cannot deliver.
  LORANK_RETURN_IF_ERROR(geqrf(out, r, xb_.data(), out, tau_b_.data(), work_));
  extract_r(xb_.data(), out, r, kb, d.rb.data());
  LORANK_RETURN_IF_ERROR(geqrf(in, r, xa_.data(), in, tau_a_.data(), work_));
  extract_r(xa_.data(), in, r, ka, d.ra.data());
  if (want_qb) {
    LORANK_RETURN_IF_ERROR(orgqr(out, kb, kb, xb_.data(), out, tau_b_.data(), work_));
    d.qb.assign(xb_.begin(), xb_.begin() + static_cast<std::ptrdiff_t>(sz(out) * sz(kb)));
  }
  if (want_qa) {
    LORANK_RETURN_IF_ERROR(orgqr(in, ka, ka, xa_.data(), in, tau_a_.data(), work_));
    d.qa.assign(xa_.begin(), xa_.begin() + static_cast<std::ptrdiff_t>(sz(in) * sz(ka)));
  }

  return core_svd(d);
}

Status LoraSvdWorkspace::compute(const FactorSource& b, const FactorSource& a,
                                 SpectrumMethod method, LoraSvd& d) {
  if (!fits_lapack_int(b.m) || !fits_lapack_int(a.m) || !fits_lapack_int(b.n) || a.n != b.n) {
    return invalid_data("LoRA factors {}x{} and {}x{} do not fit together", b.m, b.n, a.n, a.m);
  }
  reset(d, static_cast<int>(b.m), static_cast<int>(a.m), static_cast<int>(b.n));
  if (d.count == 0) return Status();
  d.rb.resize(sz(d.kb) * sz(d.r));
  d.ra.resize(sz(d.ka) * sz(d.r));
  bool fell_back = false;
  LORANK_RETURN_IF_ERROR(r_factor(b, method, factor_, d.rb.data(), &fell_back));
  LORANK_RETURN_IF_ERROR(r_factor(a, method, factor_, d.ra.data(), &fell_back));
  return core_svd(d);
}

// M = R_B·R_Aᵀ (kb×ka) = U_M·Σ·V_Mᵀ.
Status LoraSvdWorkspace::core_svd(LoraSvd& d) {
  const int kb = d.kb, ka = d.ka, p = d.count;
  core_.resize(sz(kb) * sz(ka));
  gemm(false, true, kb, ka, d.r, d.rb.data(), kb, d.ra.data(), ka, core_.data(), kb);
  d.sigma.resize(sz(p));
  d.u.resize(sz(kb) * sz(p));
  d.vt.resize(sz(p) * sz(ka));
  return gesdd_vectors(kb, ka, core_.data(), kb, d.sigma.data(), d.u.data(), kb, d.vt.data(), p,
                       work_, iwork_);
}

}  // namespace lorank::linalg
