// CholeskyQR2 (and the one-pass Gram variant) streamed over blocks of rows of F.
//
// CholeskyQR2 (Yamamoto, Nakatsukasa, Yanagisawa, Fukaya, ETNA 44, 2015): G₁ = FᵀF,
// R₁ = chol(G₁), Q₁ = F·R₁⁻¹, G₂ = Q₁ᵀQ₁, R₂ = chol(G₂), R = R₂·R₁. Only R is needed, so
// Q₁ is never stored: pass 1 streams F's blocks into G₁; pass 2 widens each block again,
// solves it against R₁ and adds its Q₁ rows into G₂. Per factor this is ≈ 3·m·n² flops
// (two symmetric Gram matrices at m·n² each, the solve at m·n²), all in the register-
// blocked broadcast_product; the working set is two blocks of ~256 KB, not a double copy
// of F. Row-wise the solve is ordinary forward substitution (Higham, ASNA 2nd ed., §8.1:
// each computed row q satisfies q·(R₁ + ΔR) = f with |ΔR| ≤ γ_n·|R₁|), which is the
// property the CholeskyQR2 analysis needs; R₁⁻¹ is never formed (ε·κ·‖F‖ error).
#include <algorithm>
#include <cmath>

#include "linalg/lapack.h"
#include "linalg/product_kernel.h"
#include "linalg/r_factor.h"

namespace lorank::linalg {
namespace {

using detail::broadcast_product;
using detail::kLanes;
using detail::Strided;
using detail::Strides;

// CholeskyQR2 accepts its result when the second Cholesky factor R₂ (= the R of the first
// pass's Q₁) is within this Frobenius distance of I, i.e. κ₂(Q₁) ≤ 1.1/0.9. The second
// pass is then as accurate as Householder QR (Yamamoto et al. 2015, Thm 3.3 needs only
// κ₂(Q₁) = O(1)). This a-posteriori test is tighter and cheaper than an a-priori bound on
// κ₂(F) ≲ 1/sqrt(mn·ε).
constexpr double kMaxSecondFactorDistance = 0.1;

// Bytes of one widened block of F: it and its transpose stay in L2 while the Gram strips
// and the solve sweep over them several times.
constexpr std::size_t kBlockBytes = 256 * 1024;

struct Geometry {
  std::size_t m, n;
  std::size_t np;  // n rounded up to kLanes: the kernel's row length
  std::size_t kb;  // rows per block, a multiple of kLanes
};

Geometry geometry(const FactorSource& f) {
  Geometry g{f.m, f.n, detail::round_up_lanes(f.n), 0};
  const std::size_t target = kBlockBytes / (g.np * sizeof(double));
  g.kb = std::min(detail::round_up_lanes(std::max<std::size_t>(target, kLanes)),
                  detail::round_up_lanes(f.m));
  return g;
}

// gram[i·np + j] += Σ_k W(i, k)·X(k, j) for j ≥ i (upper triangle, row-major), where X is
// the block's row-major rows (kb×np) and W = Xᵀ given by `w` (packed or in place). Strips
// of 8 rows start at their diagonal, so the symmetric product costs ≈ kb·n² flops, not 2×.
void add_gram(const Geometry& g, Strided w, const double* x, std::vector<double>& part,
              std::vector<double>& gram, std::vector<double>& scratch) {
  const std::size_t np = g.np;
  for (std::size_t i0 = 0; i0 < np; i0 += kLanes) {
    const Strided strip{w.data + i0 * w.row_stride, w.row_stride, w.col_stride};
    broadcast_product(part.data() + i0 * np + i0, strip, x + i0, nullptr, kLanes, np - i0, g.kb,
                      1.0, scratch.data(), Strides{np, np, np});
  }
  for (std::size_t i = 0; i < np; ++i) {
    for (std::size_t j = i; j < np; ++j) gram[i * np + j] += part[i * np + j];
  }
}

// Copies the leading n×n upper triangle of the row-major `gram` into column-major `r`
// (ld n, zero below the diagonal): row-major upper = column-major upper of Gᵀ = G.
// Returns false if a diagonal entry overflowed (finite F can still overflow FᵀF).
bool take_gram(const Geometry& g, const std::vector<double>& gram, std::vector<double>& r) {
  const std::size_t n = g.n;
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t i = 0; i < n; ++i) r[j * n + i] = i <= j ? gram[i * g.np + j] : 0.0;
    if (!std::isfinite(r[j * n + j])) return false;
  }
  return true;
}

// Rows [row0, row0 + rows) of F into buf.rows (kb×np, row-major) with zero padding:
// padded rows and columns add nothing to FᵀF. False on NaN/Inf.
bool load_rows(const FactorSource& f, const Geometry& g, std::size_t row0, std::size_t rows,
               RFactorBuffers& buf) {
  const bool finite = widen_rows(f, row0, rows, buf.rows.data(), g.np, false);
  for (std::size_t i = 0; i < g.kb; ++i) {
    const std::size_t from = i < rows ? g.n : 0;
    std::fill(buf.rows.data() + i * g.np + from, buf.rows.data() + (i + 1) * g.np, 0.0);
  }
  return finite;
}

// The same block column-major into buf.cols (np×kb; rows n..np and columns rows..kb zero).
void load_cols(const FactorSource& f, const Geometry& g, std::size_t row0, std::size_t rows,
               RFactorBuffers& buf) {
  widen_rows(f, row0, rows, buf.cols.data(), g.kb, true);  // finiteness checked in pass 1
  for (std::size_t j = 0; j < g.np; ++j) {
    const std::size_t from = j < g.n ? rows : 0;
    std::fill(buf.cols.data() + j * g.kb + from, buf.cols.data() + (j + 1) * g.kb, 0.0);
  }
}

// buf.cols := (block·R₁⁻¹)ᵀ, i.e. solves Q·R₁ = X row by row (forward substitution), in
// panels of 8 columns of Q: the update X_p − Q_{<p}·R₁(<p, p) is one broadcast_product
// (R₁ read in place: W(i, k) = R₁(k, p0 + i)), the 8×8 diagonal block is substituted
// directly, vectorised along the block's rows. Multiplying by 1/R₁(j, j) instead of
// dividing adds one rounding per element (the γ_n bound becomes γ_{n+1}).
void solve_block(const Geometry& g, RFactorBuffers& buf) {
  const std::size_t n = g.n, kb = g.kb;
  double* q = buf.cols.data();
  const double* r = buf.r1.data();
  for (std::size_t p0 = 0; p0 < n; p0 += kLanes) {
    const std::size_t pm = std::min(kLanes, n - p0);
    if (p0 > 0) {  // panel = Q_{<p}·R₁(<p, p) − X_p = −(X_p − Q_{<p}·R₁(<p, p))
      broadcast_product(buf.panel.data(), Strided{r + p0 * n, n, 1}, q, q + p0 * kb, pm, kb, p0,
                        1.0, buf.scratch.data(), Strides{kb, kb, kb});
    }
    for (std::size_t c = 0; c < pm; ++c) {
      const std::size_t j = p0 + c;
      double* qj = q + j * kb;
      if (p0 > 0) {
        const double* y = buf.panel.data() + c * kb;
        for (std::size_t t = 0; t < kb; ++t) qj[t] = -y[t];
      }
      for (std::size_t l = p0; l < j; ++l) {
        const double coef = r[j * n + l];
        const double* ql = q + l * kb;
        for (std::size_t t = 0; t < kb; ++t) qj[t] -= coef * ql[t];
      }
      const double inv = buf.inv_diag[j];
      for (std::size_t t = 0; t < kb; ++t) qj[t] *= inv;
    }
  }
}

// buf.rows := buf.cols transposed (kb×np row-major), in 8×8 tiles.
void cols_to_rows(const Geometry& g, RFactorBuffers& buf) {
  for (std::size_t j0 = 0; j0 < g.np; j0 += kLanes) {
    for (std::size_t k0 = 0; k0 < g.kb; k0 += kLanes) {
      for (std::size_t j = j0; j < j0 + kLanes; ++j) {
        for (std::size_t k = k0; k < k0 + kLanes; ++k) {
          buf.rows[k * g.np + j] = buf.cols[j * g.kb + k];
        }
      }
    }
  }
}

double distance_from_identity(const std::vector<double>& a, std::size_t n) {
  double sum = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t i = 0; i <= j; ++i) {
      const double d = a[j * n + i] - (i == j ? 1.0 : 0.0);
      sum += d * d;
    }
  }
  return std::sqrt(sum);
}

void grow(std::vector<double>& v, std::size_t size) {
  if (v.size() < size) v.resize(size);
}

}  // namespace

Result<bool> cholesky_qr_stream(const FactorSource& f, SpectrumMethod method,
                                RFactorBuffers& buf, double* r_out) {
  const Geometry g = geometry(f);
  const int n = static_cast<int>(g.n);
  grow(buf.rows, g.kb * g.np);
  grow(buf.cols, g.np * g.kb);
  grow(buf.part, g.np * g.np);
  grow(buf.panel, kLanes * g.kb);
  grow(buf.scratch, detail::scratch_size(g.kb));
  grow(buf.inv_diag, g.n);
  grow(buf.r1, g.n * g.n);
  grow(buf.r2, g.n * g.n);
  buf.gram.assign(g.np * g.np, 0.0);

  // Pass 1: G₁ = FᵀF; W = Xᵀ is packed from the row-major block by the kernel.
  for (std::size_t row0 = 0; row0 < g.m; row0 += g.kb) {
    const std::size_t rows = std::min(g.kb, g.m - row0);
    if (!load_rows(f, g, row0, rows, buf)) return nonfinite_error(f);
    add_gram(g, Strided{buf.rows.data(), 1, g.np}, buf.rows.data(), buf.part, buf.gram,
             buf.scratch);
  }
  if (!take_gram(g, buf.gram, buf.r1)) return false;
  if (!potrf_upper(n, buf.r1.data(), n).ok()) return false;  // singular or indefinite
  for (std::size_t j = 0; j < g.n; ++j) {
    for (std::size_t i = j + 1; i < g.n; ++i) buf.r1[j * g.n + i] = 0.0;
  }
  if (method == SpectrumMethod::kCholeskyQr2) {
    // Pass 2: G₂ = Q₁ᵀQ₁ block by block; W = Q₁ᵀ is the solved column-major block.
    for (std::size_t j = 0; j < g.n; ++j) buf.inv_diag[j] = 1.0 / buf.r1[j * g.n + j];
    buf.gram.assign(g.np * g.np, 0.0);
    for (std::size_t row0 = 0; row0 < g.m; row0 += g.kb) {
      load_cols(f, g, row0, std::min(g.kb, g.m - row0), buf);
      solve_block(g, buf);
      cols_to_rows(g, buf);
      add_gram(g, Strided{buf.cols.data(), g.kb, 1}, buf.rows.data(), buf.part, buf.gram,
               buf.scratch);
    }
    if (!take_gram(g, buf.gram, buf.r2)) return false;
    if (!potrf_upper(n, buf.r2.data(), n).ok()) return false;
    for (std::size_t j = 0; j < g.n; ++j) {
      for (std::size_t i = j + 1; i < g.n; ++i) buf.r2[j * g.n + i] = 0.0;
    }
    if (!(distance_from_identity(buf.r2, g.n) <= kMaxSecondFactorDistance)) return false;
    upper_times_upper(n, buf.r2.data(), buf.r1.data());  // R = R₂·R₁
  }
  std::copy_n(buf.r1.data(), g.n * g.n, r_out);
  return true;
}

}  // namespace lorank::linalg
