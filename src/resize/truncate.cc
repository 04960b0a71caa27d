// Truncating one module: the rank-k factors of s·B·A from its QR-core SVD.
//
// With B = Q_B·R_B, Aᵀ = Q_A·R_A and R_B·R_Aᵀ = U·Σ·Vᵀ, the left and right singular
// vectors of B·A are Q_B·U and Q_A·V. Q is never formed on the fast path: A·Q_A = R_Aᵀ
// and Bᵀ·Q_B = R_Bᵀ, so (B·A)·(Q_A·V) = Q_B·U·Σ and (B·A)ᵀ·(Q_B·U) = Q_A·V·Σ give
//   Q_B·U_k = B·(R_Aᵀ·V_k·Σ_k⁻¹),    Q_A·V_k = Aᵀ·(R_Bᵀ·U_k·Σ_k⁻¹),
// so each new factor is the old factor times a small r×k matrix: one more streamed read
// of B and A, after the same streamed R factors as the audit. The error of a column is
// ≈ ε·‖B‖·‖A‖/σ_i, which the product B'·A' turns back into ≈ ε·‖B‖·‖A‖ absolute, the
// spectrum's own accuracy. Single columns, e.g. the orthonormal rows of A' under
// sigma_in_b, keep that ε·‖B‖·‖A‖/σ_k ≤ 2.2e-11 relative error only while σ_k is well
// above rounding level, so below kFastFloor the module takes the explicit-Q (Householder)
// route instead.
#include "resize/truncate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "adapter/widen_factor.h"
#include "linalg/singular_vectors.h"
#include "core/lapack_size.h"

namespace lorank::resize_internal {
namespace {

// σ_k / (‖B‖_F·‖A‖_F) below which the Σ_k⁻¹ of the fast path would amplify rounding
// beyond 1e-5⁻¹·ε ≈ 2.2e-11 in a direction.
constexpr double kFastFloor = 1e-5;

double frobenius(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// B (out×r) and Aᵀ (in×r) over the stored bytes: row- and column-major as PEFT stores
// them, the other way round for mlx_lm's transposed factors (LoraModule::transposed).
linalg::FactorSource b_source(const LoraModule& m) {
  return {m.B.data.data(), m.B.dtype, m.out, m.rank,
          m.transposed ? linalg::Layout::kColMajor : linalg::Layout::kRowMajor, "B"};
}
linalg::FactorSource a_source(const LoraModule& m) {
  return {m.A.data.data(), m.A.dtype, m.in, m.rank,
          m.transposed ? linalg::Layout::kRowMajor : linalg::Layout::kColMajor, "A"};
}

// Column weights: B' = (left vectors)·diag(cb), A'ᵀ = (right vectors)·diag(ca), with
// σ' = |s/new_scale|·σ balanced as √σ' on both sides or all in B'; B' carries the sign.
void column_weights(const linalg::LoraSvd& svd, int k, double ratio, bool sigma_in_b,
                    std::vector<double>& cb, std::vector<double>& ca) {
  const double sign = ratio < 0.0 ? -1.0 : 1.0;
  cb.resize(sz(k));
  ca.resize(sz(k));
  for (int i = 0; i < k; ++i) {
    const double s = std::fabs(ratio) * svd.sigma[sz(i)];
    cb[sz(i)] = sigma_in_b ? sign * s : sign * std::sqrt(s);
    ca[sz(i)] = sigma_in_b ? 1.0 : std::sqrt(s);
  }
}

}  // namespace

Status module_svd(const LoraModule& m, TruncateWorkspace& ws) {
  if (!std::isfinite(m.scale)) return numerical_error("module '{}': scale is {}", m.name, m.scale);
  if (m.B.data.size() != m.out * m.rank * dtype_size(m.B.dtype) ||
      m.A.data.size() != m.rank * m.in * dtype_size(m.A.dtype) ||
      !is_convertible_float(m.A.dtype) || !is_convertible_float(m.B.dtype)) {
    return invalid_data("module '{}': factors '{}' ({}) and '{}' ({}) do not hold {}x{} and "
                            "{}x{} float elements", m.name, m.B.name, dtype_name(m.B.dtype),
                            m.A.name, dtype_name(m.A.dtype), m.out, m.rank, m.rank, m.in);
  }
  return ws.svd_workspace.compute(b_source(m), a_source(m), kDefaultSpectrumMethod, ws.svd)
      .with_context(fmt::format("module '{}'", m.name));
}

std::vector<double> scaled_sigma(const linalg::LoraSvd& svd, double scale) {
  std::vector<double> s(svd.sigma);
  for (double& v : s) v *= std::fabs(scale);
  return s;
}

Result<TruncatedFactors> truncate_svd(const LoraModule& m, TruncateWorkspace& ws, int k,
                                      bool sigma_in_b, double new_scale) {
  if (!std::isfinite(new_scale) || new_scale == 0.0) {
    return invalid_data("module '{}': the new scale must be finite and nonzero, got {}",
                            m.name, new_scale);
  }
  const linalg::LoraSvd& svd = ws.svd;
  TruncatedFactors t;
  t.singular_values = scaled_sigma(svd, m.scale);
  const bool zero = svd.count == 0 || svd.sigma[0] == 0.0 || m.scale == 0.0;
  if (k < 1 || (!zero && k > svd.count)) {
    return invalid_argument("module '{}': rank {} outside [1, min(r, out, in) = {}]", m.name, k,
                            svd.count);
  }
  if (zero) {
    // PEFT and kohya need r ≥ 1, so the module stays, contributing exactly nothing.
    t.zero = true;
    t.k = 1;
    t.b.assign(m.out, 0.0);
    t.a.assign(m.in, 0.0);
    if (!t.a.empty()) t.a[0] = 1.0;
    return t;
  }
  t.k = sz(k);
  // Energies in the unscaled σ (the ratios do not depend on s); the tail summed directly,
  // not as 1 − head, so a tiny error keeps its relative accuracy.
  double head = 0.0, tail = 0.0;
  for (int i = 0; i < svd.count; ++i) (i < k ? head : tail) += svd.sigma[sz(i)] * svd.sigma[sz(i)];
  t.retained_energy = head / (head + tail);
  t.relative_error = std::sqrt(tail / (head + tail));
  const double sk = svd.sigma[sz(k - 1)];
  t.condition = sk > 0.0 ? svd.sigma[0] / sk : std::numeric_limits<double>::infinity();

  // new_scale·B'·A' = s·(rank-k truncation of B·A) ⇔ B'·A' = ratio·U_k·Σ_k·V_kᵀ.
  const double ratio = m.scale / new_scale;
  std::vector<double> cb, ca;
  const int r = svd.r;
  linalg::FactorSource left, right;
  ws.tb.resize(sz(r) * sz(k));
  ws.ta.resize(sz(r) * sz(k));
  std::size_t ldb = sz(r), lda = sz(r);
  if (sk >= kFastFloor * frobenius(svd.rb) * frobenius(svd.ra)) {
    // T_B = R_Aᵀ·V_k·diag(cb/σ), T_A = R_Bᵀ·U_k·diag(ca/σ), both r×k.
    column_weights(svd, k, ratio, sigma_in_b, cb, ca);
    linalg::gemm(true, true, r, k, svd.ka, svd.ra.data(), svd.ka, svd.vt.data(), svd.count,
                 ws.tb.data(), r);
    linalg::gemm(true, false, r, k, svd.kb, svd.rb.data(), svd.kb, svd.u.data(), svd.kb,
                 ws.ta.data(), r);
    for (int i = 0; i < k; ++i) {
      const double inv = 1.0 / svd.sigma[sz(i)];
      for (int l = 0; l < r; ++l) {
        ws.tb[sz(i) * sz(r) + sz(l)] *= cb[sz(i)] * inv;
        ws.ta[sz(i) * sz(r) + sz(l)] *= ca[sz(i)] * inv;
      }
    }
    left = b_source(m);
    right = a_source(m);
  } else {
    // Directions at rounding level were asked for: explicit orthonormal Q_B, Q_A.
    // Finite: module_svd has read every element.
    LORANK_RETURN_IF_ERROR(widen_factor(m, Factor::kB, ws.b));
    LORANK_RETURN_IF_ERROR(widen_factor(m, Factor::kA, ws.a));
    linalg::LoraSvd& q = ws.explicit_q;
    LORANK_RETURN_IF_ERROR(ws.svd_workspace.compute(ws.b, ws.a, LoraShape{m.out, m.rank, m.in},
                                                    true, true, q)
                               .with_context(fmt::format("module '{}'", m.name)));
    // T_B = U_k·diag(cb) (kb×k), T_A = V_k·diag(ca) (ka×k), on Householder's own σ.
    column_weights(q, k, ratio, sigma_in_b, cb, ca);
    ldb = sz(q.kb);
    lda = sz(q.ka);
    for (int i = 0; i < k; ++i) {
      for (int l = 0; l < q.kb; ++l) ws.tb[sz(i) * ldb + sz(l)] = q.u[sz(i) * ldb + sz(l)] * cb[sz(i)];
      for (int l = 0; l < q.ka; ++l) {
        ws.ta[sz(i) * lda + sz(l)] = q.vt[sz(l) * sz(q.count) + sz(i)] * ca[sz(i)];
      }
    }
    left = {reinterpret_cast<const std::byte*>(q.qb.data()), DType::kF64, m.out, ldb,
            linalg::Layout::kColMajor, "Q_B"};
    right = {reinterpret_cast<const std::byte*>(q.qa.data()), DType::kF64, m.in, lda,
             linalg::Layout::kColMajor, "Q_A"};
  }
  t.b.resize(m.out * t.k);
  t.a.resize(t.k * m.in);
  LORANK_RETURN_IF_ERROR(linalg::factor_times(left, ws.tb.data(), ldb, t.k, t.b.data(), false, ws.product));
  LORANK_RETURN_IF_ERROR(linalg::factor_times(right, ws.ta.data(), lda, t.k, t.a.data(), true, ws.product));
  return t;
}

}  // namespace lorank::resize_internal

namespace lorank {

Result<TruncatedFactors> truncate_module(const LoraModule& module, int k, bool sigma_in_b,
                                         double new_scale) {
  resize_internal::TruncateWorkspace ws;
  LORANK_RETURN_IF_ERROR(resize_internal::module_svd(module, ws));
  return resize_internal::truncate_svd(module, ws, k, sigma_in_b, new_scale);
}

}  // namespace lorank
