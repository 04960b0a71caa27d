// truncate_module: the rank-k factors of s·B·A from its QR-core SVD.
#include "resize/truncate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "linalg/singular_vectors.h"

namespace lorank::resize_internal {
namespace {

std::size_t sz(int v) { return static_cast<std::size_t>(v); }

Status widen(const TensorView& t, std::string_view file, std::vector<double>& out) {
  const std::string where = file.empty() ? fmt::format("tensor '{}'", t.name)
                                         : fmt::format("adapter file '{}': tensor '{}'", file, t.name);
  out.resize(static_cast<std::size_t>(t.numel()));
  LORANK_RETURN_IF_ERROR(to_double(t, out).with_context(where));
  const auto bad = std::find_if(out.begin(), out.end(), [](double v) { return !std::isfinite(v); });
  if (bad != out.end()) {
    return numerical_error("{} holds {} at element {}; refusing to resize non-finite weights",
                           where, *bad, bad - out.begin());
  }
  return Status();
}

}  // namespace

Status module_svd(const LoraModule& m, std::string_view file, linalg::LoraSvdWorkspace& ws,
                  linalg::LoraSvd& svd) {
  if (!std::isfinite(m.scale)) return numerical_error("module '{}': scale is {}", m.name, m.scale);
  std::vector<double> b, a;
  LORANK_RETURN_IF_ERROR(widen(m.B, file, b));
  LORANK_RETURN_IF_ERROR(widen(m.A, file, a));
  return ws.compute(b, a, LoraShape{m.out, m.rank, m.in}, true, true, svd)
      .with_context(fmt::format("module '{}'", m.name));
}

std::vector<double> scaled_sigma(const linalg::LoraSvd& svd, double scale) {
  std::vector<double> s(svd.sigma);
  for (double& v : s) v *= std::fabs(scale);
  return s;
}

Result<TruncatedFactors> truncate_svd(const LoraModule& m, const linalg::LoraSvd& svd, int k,
                                      bool sigma_in_b, double new_scale) {
  if (!std::isfinite(new_scale) || new_scale == 0.0) {
    return invalid_argument("module '{}': the new scale must be finite and nonzero, got {}",
                            m.name, new_scale);
  }
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

  // L = Q_B·U_k (out×k), R = Q_A·V_k (in×k), column-major: s·B·A ≈ s·L·Σ_k·Rᵀ.
  const int out = svd.out, in = svd.in;
  std::vector<double> l(sz(out) * sz(k)), r(sz(in) * sz(k));
  linalg::gemm(false, false, out, k, svd.kb, svd.qb.data(), out, svd.u.data(), svd.kb, l.data(), out);
  linalg::gemm(false, true, in, k, svd.ka, svd.qa.data(), in, svd.vt.data(), svd.count, r.data(), in);
  // new_scale·B'·A' = s·L·Σ_k·Rᵀ ⇔ B'·A' = t·L·Σ_k·Rᵀ with t = s/new_scale.
  const double ratio = m.scale / new_scale;
  const double sign = ratio < 0.0 ? -1.0 : 1.0;
  t.b.resize(m.out * t.k);
  t.a.resize(t.k * m.in);
  for (int i = 0; i < k; ++i) {
    const double s = std::fabs(ratio) * svd.sigma[sz(i)];
    const double cb = sigma_in_b ? sign * s : sign * std::sqrt(s);
    const double ca = sigma_in_b ? 1.0 : std::sqrt(s);
    for (int o = 0; o < out; ++o) t.b[sz(o) * t.k + sz(i)] = cb * l[sz(i) * sz(out) + sz(o)];
    for (int j = 0; j < in; ++j) t.a[sz(i) * sz(in) + sz(j)] = ca * r[sz(i) * sz(in) + sz(j)];
  }
  return t;
}

}  // namespace lorank::resize_internal

namespace lorank {

Result<TruncatedFactors> truncate_module(const LoraModule& module, int k, bool sigma_in_b,
                                         double new_scale) {
  linalg::LoraSvdWorkspace ws;
  linalg::LoraSvd svd;
  LORANK_RETURN_IF_ERROR(resize_internal::module_svd(module, "", ws, svd));
  return resize_internal::truncate_svd(module, svd, k, sigma_in_b, new_scale);
}

}  // namespace lorank
