// CholeskyQR2 (and the one-pass Gram variant) streamed over blocks of rows of F.
//
// CholeskyQR2 (Yamamoto, Nakatsukasa, Yanagisawa, Fukaya, ETNA 44, 2015): G₁ = FᵀF,
// R₁ = chol(G₁), Q₁ = F·R₁⁻¹, G₂ = Q₁ᵀQ₁, R₂ = chol(G₂), R = R₂·R₁. Only R is needed, so
// Q₁ is never stored: pass 1 streams F's blocks into G₁; pass 2 widens each block again,
// solves it against R₁ and adds its Q₁ rows into G₂. Per factor this is ≈ 3·m·n² flops
// (two symmetric Gram matrices, the solve), all in the register-blocked broadcast_product;
// the working set is one block in two layouts (2 × 128 KiB) and the r×r matrices, not a
// double copy of F. Row-wise the solve is ordinary forward substitution (Higham, ASNA 2nd
// ed., §8.1: each computed row q satisfies q·(R₁ + ΔR) = f with |ΔR| ≤ γ_n·|R₁|), which is
// the property the CholeskyQR2 analysis needs; R₁⁻¹ is never formed (ε·κ·‖F‖ error).
#include <algorithm>
#include <cmath>
#include <utility>

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
// and the solve sweep over them several times. 128 KiB, not 32: a column-major factor
// (Aᵀ) is read as r runs, one per row of A, and 256 rows per block make each run 512 B of
// BF16 instead of 128 B, long enough for the prefetchers (7B audit, one thread, Zen 4:
// 0.99 s of CPU against 1.11 s; 256 KiB: 1.02 s).
constexpr std::size_t kBlockBytes = 128 * 1024;

struct Geometry {
  std::size_t m, n;
  std::size_t np;  // n rounded up to kLanes: the kernel's row length
  std::size_t kb;  // rows per block, a multiple of kLanes
  // Row stride of the column-major copy: kb + kLanes, because a power-of-two stride such
  // as 512 doubles (4 KiB) maps the rows that one tile reads to the same L1 set.
  std::size_t ldt;
};

Geometry geometry(const FactorSource& f) {
  Geometry g{f.m, f.n, detail::round_up_lanes(f.n), 0, 0};
  const std::size_t target = kBlockBytes / (g.np * sizeof(double));
  g.kb = std::min(detail::round_up_lanes(std::max<std::size_t>(target, kLanes)),
                  detail::round_up_lanes(f.m));
  g.ldt = g.kb + kLanes;
  return g;
}

// gram[i·np + j] += Σ_k W(i, k)·X(k, j) on and above the diagonal (row-major), where X is
// the block's row-major rows (kb×np) and W = Xᵀ (the column-major copy, in place). Strips
// of 16 rows start at their diagonal block, so at n = 64 the work is 0.625 of the full
// product. Each strip is cut into a part whose width is a multiple of 32 and a rest
// narrower than 32: the kernel then runs its 4×32 tiles on the first and its 8-row tiles
// on the second (a 4-row tile over a rest of 8 or 16 columns would waste half the loads).
void add_gram(const Geometry& g, Strided w, const double* x, std::vector<double>& gram,
              std::vector<double>& scratch) {
  constexpr std::size_t kStrip = 2 * kLanes, kWide = 4 * kLanes;
  const std::size_t np = g.np;
  for (std::size_t i0 = 0; i0 < np; i0 += kStrip) {
    const Strided strip{w.data + i0 * w.row_stride, w.row_stride, w.col_stride};
    const std::size_t rows = std::min(kStrip, np - i0);
    const std::size_t width = np - i0;
    const std::size_t wide = width / kWide * kWide;
    for (const auto& [j0, cols] : {std::pair{i0, wide}, std::pair{i0 + wide, width - wide}}) {
      if (cols == 0) continue;
      detail::broadcast_product_add(gram.data() + i0 * np + j0, strip, x + j0, rows, cols, g.kb,
                                    1.0, scratch.data(), Strides{np, np, np});
    }
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

// Rows [row0, row0 + rows) of F, widened (a contiguous, vectorised conversion of F's own
// layout) and, where the other layout is needed, transposed in registers:
//   for the Gram matrix (for_solve = false): buf.rows (kb×np, row-major) always, and
//     buf.cols (np×kb, column-major, ld ldt) only if F is column-major (then it is free);
//   for the solve (for_solve = true): buf.cols only.
// Padding rows and columns are zero: they add nothing to a Gram matrix and stay zero
// through the solve. False on NaN/Inf.
bool load_block(const FactorSource& f, const Geometry& g, std::size_t row0, std::size_t rows,
                bool for_solve, RFactorBuffers& buf) {
  double* x = buf.rows.data();
  double* xt = buf.cols.data();
  const bool row_major = f.layout == Layout::kRowMajor;
  const bool finite = row_major ? widen_rows(f, row0, rows, x, g.np, false)
                                : widen_rows(f, row0, rows, xt, g.ldt, true);
  if (row_major) {
    for (std::size_t i = 0; i < g.kb; ++i) {
      std::fill(x + i * g.np + (i < rows ? g.n : 0), x + (i + 1) * g.np, 0.0);
    }
    if (for_solve) detail::transpose(x, g.np, xt, g.ldt, g.kb, g.np);
  } else {
    for (std::size_t j = 0; j < g.np; ++j) {
      std::fill(xt + j * g.ldt + (j < g.n ? rows : 0), xt + j * g.ldt + g.kb, 0.0);
    }
    if (!for_solve) detail::transpose(xt, g.ldt, x, g.np, g.np, g.kb);
  }
  return finite;
}

// buf.cols := (block·R₁⁻¹)ᵀ and buf.rows := block·R₁⁻¹ (kb×np, zero-padded), i.e. solves
// Q·R₁ = X row by row (forward substitution), in panels of 8 columns of Q: the update
// X_p − Q_{<p}·R₁(<p, p) is one broadcast_product (R₁ read in place: W(i, k) =
// R₁(k, p0 + i)), the 8×8 diagonal block is substituted directly, vectorised along the
// block's rows. Multiplying by 1/R₁(j, j) instead of
// dividing adds one rounding per element (the γ_n bound becomes γ_{n+1}).
void solve_block(const Geometry& g, RFactorBuffers& buf) {
  const std::size_t n = g.n, kb = g.kb, ld = g.ldt;
  double* q = buf.cols.data();
  const double* r = buf.r1.data();
  for (std::size_t p0 = 0; p0 < n; p0 += kLanes) {
    const std::size_t pm = std::min(kLanes, n - p0);
    const double* y = q + p0 * ld;
    double sign = 1.0;
    if (p0 > 0) {  // panel = Q_{<p}·R₁(<p, p) − X_p = −(X_p − Q_{<p}·R₁(<p, p))
      broadcast_product(buf.panel.data(), Strided{r + p0 * n, n, 1}, q, y, pm, kb, p0, 1.0,
                        buf.scratch.data(), Strides{ld, ld, ld});
      y = buf.panel.data();
      sign = -1.0;
    }
    detail::substitute_panel(q + p0 * ld, y, ld, pm, kb, r + p0 * n + p0, n,
                             buf.inv_diag.data() + p0, sign, buf.rows.data() + p0, g.np);
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
  grow(buf.cols, g.np * g.ldt);
  grow(buf.panel, kLanes * g.ldt);
  grow(buf.scratch, detail::scratch_size(g.kb));
  grow(buf.inv_diag, g.n);
  grow(buf.r1, g.n * g.n);
  grow(buf.r2, g.n * g.n);
  buf.gram.assign(g.np * g.np, 0.0);

  // Pass 1: G₁ = FᵀF. W = Xᵀ is read in place from a column-major F's copy; for a
  // row-major F the kernel packs it (4 adjacent values per k), cheaper than transposing.
  for (std::size_t row0 = 0; row0 < g.m; row0 += g.kb) {
    const std::size_t rows = std::min(g.kb, g.m - row0);
    if (row0 + rows < g.m) prefetch_rows(f, row0 + rows, std::min(g.kb, g.m - row0 - rows));
    if (!load_block(f, g, row0, rows, false, buf)) return nonfinite_error(f);
    const Strided w = f.layout == Layout::kRowMajor ? Strided{buf.rows.data(), 1, g.np}
                                                    : Strided{buf.cols.data(), g.ldt, 1};
    add_gram(g, w, buf.rows.data(), buf.gram, buf.scratch);
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
      load_block(f, g, row0, std::min(g.kb, g.m - row0), true, buf);  // finite: pass 1
      solve_block(g, buf);  // also leaves the solved block row-major in buf.rows
      add_gram(g, Strided{buf.cols.data(), g.ldt, 1}, buf.rows.data(), buf.gram, buf.scratch);
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
