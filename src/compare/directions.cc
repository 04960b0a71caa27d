#include "compare/directions.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "linalg/lapack.h"
#include "linalg/singular_vectors.h"

namespace lorank::compare_internal {
namespace {

std::size_t sz(int v) { return static_cast<std::size_t>(v); }

Status validate(std::size_t b_size, std::size_t a_size, const LoraShape& s, double scale) {
  if (!linalg::fits_lapack_int(s.out) || !linalg::fits_lapack_int(s.in) ||
      !linalg::fits_lapack_int(s.r) || (s.r != 0 && s.out > std::numeric_limits<std::size_t>::max() / s.r) ||
      (s.r != 0 && s.in > std::numeric_limits<std::size_t>::max() / s.r)) {
    return invalid_argument("LoRA shape {}x{}·{}x{} exceeds LAPACK's 32-bit dimensions", s.out,
                            s.r, s.r, s.in);
  }
  if (b_size != s.out * s.r) {
    return invalid_argument("B has {} elements, expected out·r = {}·{}", b_size, s.out, s.r);
  }
  if (a_size != s.r * s.in) {
    return invalid_argument("A has {} elements, expected r·in = {}·{}", a_size, s.r, s.in);
  }
  if (!std::isfinite(scale)) return numerical_error("the LoRA scale is {}", scale);
  return Status();
}

// Slow path only when the sum of squares is not finite: names the first bad element.
Status check_finite(std::span<const double> f, std::size_t row_length, const char* name) {
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (!std::isfinite(f[i])) {
      return numerical_error("{}[{}, {}] is {}: its singular directions are undefined", name,
                             i / row_length, i % row_length, f[i]);
    }
  }
  return Status();
}

// ‖F‖_F without overflow for any finite F (LAPACK dlange would do, but this is one pass).
double frobenius(std::span<const double> f) {
  double big = 0.0;
  for (double v : f) big = std::max(big, std::fabs(v));
  if (big == 0.0) return 0.0;
  double sum = 0.0;
  for (double v : f) sum += (v / big) * (v / big);
  return big * std::sqrt(sum);
}

// Copies the upper trapezoid (k×n) of the geqrf output x (m×n, ld m) into r (ld k).
void extract_r(const double* x, int m, int n, int k, double* r) {
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < k; ++i) r[sz(j) * sz(k) + sz(i)] = i <= j ? x[sz(j) * sz(m) + sz(i)] : 0.0;
  }
}

}  // namespace

Status DirectionsWorkspace::compute(std::span<const double> b, std::span<const double> a,
                                    LoraShape shape, double scale, CompareSide side,
                                    Directions& d) {
  LORANK_RETURN_IF_ERROR(validate(b.size(), a.size(), shape, scale));
  LORANK_RETURN_IF_ERROR(check_finite(b, shape.r, "B"));
  LORANK_RETURN_IF_ERROR(check_finite(a, shape.in, "A"));
  const int out = static_cast<int>(shape.out);
  const int r = static_cast<int>(shape.r);
  const int in = static_cast<int>(shape.in);
  const bool left = side == CompareSide::kLeft;
  d.dim = left ? out : in;
  d.kq = std::min(d.dim, r);
  d.count = std::min({out, in, r});
  d.numerical_rank = 0;
  d.sigma.clear();
  if (d.count == 0) {
    d.q.clear();
    d.vectors.clear();
    return Status();
  }
  const int kb = std::min(out, r);
  const int ka = std::min(in, r);

  // B → column-major out×r; Aᵀ (in×r column-major) is A's row-major data as it is.
  xb_.resize(sz(out) * sz(r));
  for (int i = 0; i < out; ++i) {
    for (int j = 0; j < r; ++j) xb_[sz(j) * sz(out) + sz(i)] = b[sz(i) * sz(r) + sz(j)];
  }
  xa_.assign(a.begin(), a.end());
  tau_b_.resize(sz(kb));
  tau_a_.resize(sz(ka));
  rb_.resize(sz(kb) * sz(r));
  ra_.resize(sz(ka) * sz(r));
  // Householder QR, not the spectrum's CholeskyQR2: Q must be orthonormal to working
  // precision even for rank-deficient factors (untrained or duplicated columns), which
  // CholeskyQR cannot deliver, and comparing is a one-off, not a hot loop.
  LORANK_RETURN_IF_ERROR(linalg::geqrf(out, r, xb_.data(), out, tau_b_.data(), work_));
  extract_r(xb_.data(), out, r, kb, rb_.data());
  LORANK_RETURN_IF_ERROR(linalg::geqrf(in, r, xa_.data(), in, tau_a_.data(), work_));
  extract_r(xa_.data(), in, r, ka, ra_.data());
  if (left) {
    LORANK_RETURN_IF_ERROR(linalg::orgqr(out, kb, kb, xb_.data(), out, tau_b_.data(), work_));
    d.q.assign(xb_.begin(), xb_.begin() + static_cast<std::ptrdiff_t>(sz(out) * sz(kb)));
  } else {
    LORANK_RETURN_IF_ERROR(linalg::orgqr(in, ka, ka, xa_.data(), in, tau_a_.data(), work_));
    d.q.assign(xa_.begin(), xa_.begin() + static_cast<std::ptrdiff_t>(sz(in) * sz(ka)));
  }

  // M = R_B·R_Aᵀ (kb×ka) = U_M·Σ·V_Mᵀ. The scale only multiplies Σ (and flips the sign of
  // one side's vectors when negative, which no φ can see), so M is left unscaled.
  core_.resize(sz(kb) * sz(ka));
  linalg::gemm(false, true, kb, ka, r, rb_.data(), kb, ra_.data(), ka, core_.data(), kb);
  const int p = d.count;
  sv_.resize(sz(p));
  double* s = sv_.data();
  u_.resize(sz(kb) * sz(p));
  vt_.resize(sz(p) * sz(ka));
  LORANK_RETURN_IF_ERROR(linalg::gesdd_vectors(kb, ka, core_.data(), kb, s, u_.data(), kb,
                                               vt_.data(), p, work_, iwork_));
  if (left) {
    d.vectors.assign(u_.begin(), u_.begin() + static_cast<std::ptrdiff_t>(sz(kb) * sz(p)));
  } else {
    d.vectors.resize(sz(ka) * sz(p));  // V_M = (V_Mᵀ)ᵀ, ka×p
    for (int c = 0; c < p; ++c) {
      for (int i = 0; i < ka; ++i) d.vectors[sz(c) * sz(ka) + sz(i)] = vt_[sz(i) * sz(p) + sz(c)];
    }
  }
  // Rounding in the QRs and the core SVD perturbs σ by about ε·‖B‖₂·‖A‖₂ (times a modest
  // dimension factor); a value below that is indistinguishable from 0 and its direction is
  // arbitrary. ‖·‖_F ≥ ‖·‖₂ errs on the safe side. Like NumPy's matrix_rank, but the bound
  // is on the factors, not σ₁, because the product can be far smaller than ‖B‖·‖A‖.
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  const double tol = static_cast<double>(std::max({out, in, r})) * kEps * frobenius(b) * frobenius(a);
  const double abs_scale = std::fabs(scale);
  d.sigma.resize(sz(p));
  for (int i = 0; i < p; ++i) {
    d.sigma[sz(i)] = abs_scale * s[sz(i)];
    if (s[sz(i)] > tol) d.numerical_rank = sz(i) + 1;
  }
  return Status();
}

}  // namespace lorank::compare_internal
