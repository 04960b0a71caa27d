#include "compare/directions.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "linalg/lapack.h"
#include "linalg/singular_vectors.h"
#include "core/lapack_size.h"

namespace lorank::compare_internal {
namespace {

Status validate(std::size_t b_size, std::size_t a_size, const LoraShape& s, double scale) {
  if (!linalg::fits_lapack_int(s.out) || !linalg::fits_lapack_int(s.in) ||
      !linalg::fits_lapack_int(s.r) || (s.r != 0 && s.out > std::numeric_limits<std::size_t>::max() / s.r) ||
      (s.r != 0 && s.in > std::numeric_limits<std::size_t>::max() / s.r)) {
    return not_supported("LoRA shape {}x{}·{}x{} exceeds LAPACK's 32-bit dimensions", s.out,
                            s.r, s.r, s.in);
  }
  if (b_size != s.out * s.r) {
    return invalid_data("B has {} elements, expected out·r = {}·{}", b_size, s.out, s.r);
  }
  if (a_size != s.r * s.in) {
    return invalid_data("A has {} elements, expected r·in = {}·{}", a_size, s.r, s.in);
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

}  // namespace

Status DirectionsWorkspace::compute(std::span<const double> b, std::span<const double> a,
                                    LoraShape shape, double scale, CompareSide side,
                                    Directions& d) {
  LORANK_RETURN_IF_ERROR(validate(b.size(), a.size(), shape, scale));
  LORANK_RETURN_IF_ERROR(check_finite(b, shape.r, "B"));
  LORANK_RETURN_IF_ERROR(check_finite(a, shape.in, "A"));
  const bool left = side == CompareSide::kLeft;
  LORANK_RETURN_IF_ERROR(svd_workspace_.compute(b, a, shape, left, !left, svd_));
  const int out = svd_.out, in = svd_.in, r = svd_.r;
  d.dim = left ? out : in;
  d.kq = left ? svd_.kb : svd_.ka;
  d.count = svd_.count;
  d.numerical_rank = 0;
  d.sigma.clear();
  if (d.count == 0) {
    d.q.clear();
    d.vectors.clear();
    return Status();
  }
  // The scale only multiplies Σ (and flips the sign of one side's vectors when negative,
  // which no φ can see), so the core was left unscaled.
  const int p = d.count;
  const int ka = svd_.ka;
  const double* s = svd_.sigma.data();
  if (left) {
    d.q = svd_.qb;
    d.vectors = svd_.u;
  } else {
    d.q = svd_.qa;
    d.vectors.resize(sz(ka) * sz(p));  // V_M = (V_Mᵀ)ᵀ, ka×p
    for (int c = 0; c < p; ++c) {
      for (int i = 0; i < ka; ++i) d.vectors[sz(c) * sz(ka) + sz(i)] = svd_.vt[sz(i) * sz(p) + sz(c)];
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
