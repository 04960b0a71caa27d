#include "compare/similarity.h"

#include <algorithm>
#include <cmath>

#include "linalg/lapack.h"
#include "linalg/singular_vectors.h"
#include "core/lapack_size.h"

namespace lorank::compare_internal {
namespace {

// Why a side has no direction to compare.
std::string missing_reason(const Directions& d) {
  if (d.count == 0) return "empty (a zero dimension)";
  if (d.sigma.front() == 0.0) return "untrained (B·A = 0)";
  return "rounding noise only (every singular value below the rounding bound)";
}

}  // namespace

std::size_t threshold_rank(const std::vector<double>& sigma, double tau) {
  if (sigma.empty() || !(sigma.front() > 0.0)) return 0;
  const double cut = tau * sigma.front();
  return static_cast<std::size_t>(
      std::count_if(sigma.begin(), sigma.end(), [cut](double s) { return s >= cut; }));
}

Status similarity(const Directions& a, const Directions& b, const CompareOptions& options,
                  SimilarityWorkspace& ws, ModuleComparison& m) {
  m.sigma_a = a.sigma;
  m.sigma_b = b.sigma;
  m.numerical_rank_a = a.numerical_rank;
  m.numerical_rank_b = b.numerical_rank;
  m.threshold_rank_a = threshold_rank(a.sigma, options.threshold_tau);
  m.threshold_rank_b = threshold_rank(b.sigma, options.threshold_tau);
  m.phi.clear();
  m.diagonal.clear();
  m.principal_cosines.clear();
  m.top_k = 0;
  m.top_k_overlap.reset();
  m.top_k_chance = 0.0;
  m.null_reason.clear();
  if (a.dim != b.dim) {
    return internal_error("directions in {}- and {}-dimensional spaces", a.dim, b.dim);
  }
  const int na = static_cast<int>(a.numerical_rank);
  const int nb = static_cast<int>(b.numerical_rank);
  if (na == 0 || nb == 0) {
    if (na == 0 && nb == 0) {
      const std::string ra = missing_reason(a), rb = missing_reason(b);
      m.null_reason = ra == rb ? fmt::format("A and B: {}", ra) : fmt::format("A: {}; B: {}", ra, rb);
    } else {
      m.null_reason = fmt::format("{}: {}", na == 0 ? "A" : "B", missing_reason(na == 0 ? a : b));
    }
    return Status();
  }
  // G = U_aᵀ·U_b over the first na, nb directions, through the small matrices:
  // U = Q·W (W = core vectors), so G = W_a,naᵀ·(Q_aᵀ·Q_b)·W_b,nb. Only Q_aᵀ·Q_b touches
  // the full dimension: kq_a×kq_b dot products of length dim.
  const int ka = a.kq, kb = b.kq, dim = a.dim;
  ws.cross.resize(sz(ka) * sz(kb));
  linalg::gemm(true, false, ka, kb, dim, a.q.data(), dim, b.q.data(), dim, ws.cross.data(), ka);
  ws.half.resize(sz(ka) * sz(nb));
  linalg::gemm(false, false, ka, nb, kb, ws.cross.data(), ka, b.vectors.data(), kb,
               ws.half.data(), ka);
  ws.g.resize(sz(na) * sz(nb));  // column-major, ld na
  linalg::gemm(true, false, na, nb, ka, a.vectors.data(), ka, ws.half.data(), ka, ws.g.data(), na);

  // φ(i, j) = S(i, j)/min(i, j) with S the 2-D prefix sum of G∘G. Rounding can push a
  // value a few ulps past [0, 1]; clamping keeps the documented range exact.
  m.phi.assign(sz(na) * sz(nb), 0.0);
  std::vector<double> column(sz(nb), 0.0);  // Σ_{a<i} G(a, j)² for the current i
  for (int i = 0; i < na; ++i) {
    double row_sum = 0.0;
    for (int j = 0; j < nb; ++j) {
      const double gij = ws.g[sz(j) * sz(na) + sz(i)];
      column[sz(j)] += gij * gij;
      row_sum += column[sz(j)];
      const double phi = row_sum / static_cast<double>(std::min(i, j) + 1);
      m.phi[sz(i) * sz(nb) + sz(j)] = std::clamp(phi, 0.0, 1.0);
    }
  }
  const int diag = std::min(na, nb);
  for (int k = 1; k <= diag; ++k) m.diagonal.push_back(m.phi_at(sz(k), sz(k)));

  std::size_t k = options.k ? *options.k : std::min(m.threshold_rank_a, m.threshold_rank_b);
  k = std::clamp<std::size_t>(k, 1, sz(diag));
  m.top_k = k;
  m.top_k_overlap = m.phi_at(k, k);
  m.top_k_chance = static_cast<double>(k) / static_cast<double>(dim);
  // Principal angles: cos θ = σ(G[:k, :k]) (Björck & Golub 1973).
  const int ki = static_cast<int>(k);
  ws.small.resize(sz(ki) * sz(ki));
  for (int j = 0; j < ki; ++j) {
    for (int i = 0; i < ki; ++i) ws.small[sz(j) * sz(ki) + sz(i)] = ws.g[sz(j) * sz(na) + sz(i)];
  }
  m.principal_cosines.resize(k);
  LORANK_RETURN_IF_ERROR(linalg::gesdd_values(ki, ki, ws.small.data(), ki,
                                              m.principal_cosines.data(), ws.work, ws.iwork));
  for (double& c : m.principal_cosines) c = std::clamp(c, 0.0, 1.0);
  return Status();
}

}  // namespace lorank::compare_internal
