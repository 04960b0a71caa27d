// Subspace similarity of two LoRA adapters on the same base model (Hu et al., "LoRA:
// Low-Rank Adaptation of Large Language Models", ICLR 2022, §7.2).
//
// For one module, let U (dim×n) and U' (dim×n') hold the singular directions of
// ΔW = s·B·A and ΔW' = s'·B'·A', ordered by decreasing singular value. The normalised
// subspace similarity of the top-i and top-j directions is
//     φ(i, j) = ‖U_iᵀ·U'_j‖²_F / min(i, j) ∈ [0, 1],
// 1 when the smaller subspace lies inside the larger, 0 when they are orthogonal. The
// singular values of U_kᵀ·U'_k are the cosines of the principal angles between the two
// top-k subspaces (Björck & Golub 1973), an alternative view of the same overlap.
//
// Directions come from the factors, never the dense out×in product: B = Q_B·R_B and
// Aᵀ = Q_A·R_A (Householder QR), core M = R_B·R_Aᵀ = U_M·Σ·V_Mᵀ, so U = Q_B·U_M (left,
// output side) and V = Q_A·V_M (right, input side); U_iᵀ·U'_j = U_M,iᵀ·(Q_Bᵀ·Q'_B)·U'_M,j.
// Scales (s, s', their signs, α, rsLoRA) do not change directions and so not φ.
// The maths and accuracy are in docs/numerics.md.
#ifndef LORANK_COMPARE_H_
#define LORANK_COMPARE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/spectrum.h"
#include "lorank/status.h"

namespace lorank {

// Which singular directions to compare. "Left" and "right" refer to the factor product
// s·B·A whatever the layer stores (a Conv1D's or an embedding's weight is its transpose).
enum class CompareSide {
  kLeft,   // U: the column space of B, in output space (dim = out)
  kRight,  // V: the row space of A, in input space (dim = in); Hu et al. look at A's
};
std::string_view compare_side_name(CompareSide side);  // "left", "right"

struct CompareOptions {
  CompareSide side = CompareSide::kLeft;
  // k of each module's headline "top-k overlap" φ(k, k). Unset: min of the two threshold
  // ranks (below). Either way capped at min(numerical rank, numerical rank').
  std::optional<std::size_t> k;
  // Threshold rank #{σ_i ≥ τ·σ₁}, as in lorank/rank.h (the audit's default τ).
  double threshold_tau = 1e-2;
  unsigned threads = 0;  // worker threads over modules; 0 = one per core
};

// The comparison of one module present in both adapters.
struct ModuleComparison {
  std::string name;
  ModuleKind kind = ModuleKind::kLinear;
  std::size_t out = 0, in = 0;
  std::size_t rank_a = 0, rank_b = 0;   // allocated r, r'
  double scale_a = 1.0, scale_b = 1.0;  // reported only: they do not affect φ
  std::vector<double> sigma_a, sigma_b;  // |s|·σ(B·A), min(r, out, in) values, descending
  // Directions with σ_i > tol = max(out, in, r)·ε·‖B‖_F·‖A‖_F: beyond it a direction is
  // rounding noise (σ = 0 leaves it undefined). These bound the grid.
  std::size_t numerical_rank_a = 0, numerical_rank_b = 0;
  std::size_t threshold_rank_a = 0, threshold_rank_b = 0;  // #{σ_i ≥ τ·σ₁}
  // φ(i, j) for i = 1..numerical_rank_a, j = 1..numerical_rank_b, row-major:
  // phi[(i−1)·numerical_rank_b + (j−1)]. Empty when either side has no direction.
  std::vector<double> phi;
  std::vector<double> diagonal;  // φ(k, k), k = 1..min(numerical ranks)
  std::size_t top_k = 0;                // k of the headline overlap; 0 when none
  std::optional<double> top_k_overlap;  // φ(top_k, top_k); nullopt = no similarity
  // What φ(top_k, top_k) would be for unrelated directions: E[φ(i, j)] = max(i, j)/dim for
  // independent uniformly random subspaces of R^dim (dim = out or in by side).
  double top_k_chance = 0.0;
  std::vector<double> principal_cosines;  // cos θ_1 ≥ … ≥ cos θ_top_k, in [0, 1]
  // Why there is no similarity ("untrained in A", ...); empty when top_k_overlap is set.
  std::string null_reason;

  // φ(i, j), 1-based. REQUIRES 1 ≤ i ≤ numerical_rank_a, 1 ≤ j ≤ numerical_rank_b.
  double phi_at(std::size_t i, std::size_t j) const { return phi[(i - 1) * numerical_rank_b + j - 1]; }
};

// Mean of φ(k, k) over the modules where it is defined.
struct DiagonalMean {
  std::size_t k = 0;
  double mean = 0.0;
  std::size_t modules = 0;
};

struct CompareSummary {
  std::size_t modules_a = 0, modules_b = 0;
  std::size_t compared = 0;     // modules present in both (with equal shapes)
  std::size_t null_count = 0;   // of those, modules without a similarity
  std::optional<double> mean_top_k_overlap;  // over modules with one; nullopt if none
  std::optional<double> mean_phi_11;
  std::vector<DiagonalMean> mean_diagonal;   // k = 1..max defined k
};

struct AdapterComparison {
  CompareSide side = CompareSide::kLeft;
  std::optional<std::size_t> k;  // as requested
  double threshold_tau = 1e-2;
  std::vector<ModuleComparison> modules;  // names in both, in natural order (module_names.h)
  std::vector<std::string> only_in_a;     // listed, not compared (natural order)
  std::vector<std::string> only_in_b;     // (natural order)
  CompareSummary summary;
};

// Compares every module the two adapters share by exact name (no translation between
// naming schemes: PEFT vs kohya names never match), modules in parallel.
// Errors: kInvalidData naming the module when a shared module's update has a different
// shape or kind in the two adapters (different base models); kInvalidArgument when
// options.k == 0 or threshold_tau is not in [0, 1]; kNotFound when both adapters have modules but no name
// in common (the message shows a name from each); kNumerical naming the tensor for
// NaN/Inf weights. The first failing module in A's order is reported.
Result<AdapterComparison> compare_adapters(const Adapter& a, const Adapter& b,
                                           const CompareOptions& options = {});

// One module from in-memory factors (row-major, as in lorank/spectrum.h). REQUIRES (else
// kInvalidData) equal out and in, and factor sizes matching the shapes; kNumerical
// for NaN/Inf. Name and kind of the result are left empty/linear for the caller to set.
// options.threads is ignored.
Result<ModuleComparison> compare_factors(const LoraFactorsView<double>& a,
                                         const LoraFactorsView<double>& b,
                                         const CompareOptions& options = {});

}  // namespace lorank

#endif  // LORANK_COMPARE_H_
