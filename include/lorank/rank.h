// Rank metrics of a spectrum and the rules that turn a spectrum into a recommended rank.
// Definitions and references: docs/metrics.md.
#ifndef LORANK_RANK_H_
#define LORANK_RANK_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lorank/status.h"

namespace lorank {

// Metrics of one module's singular values σ₁ ≥ σ₂ ≥ … ≥ σ_n ≥ 0 (n = min(r, out, in)).
// An all-zero (or empty) spectrum is `untrained`: every rank is 0, every ratio 0, no NaN.
struct SpectrumMetrics {
  std::size_t n = 0;              // number of singular values
  double sigma1 = 0.0;            // σ₁ = ‖ΔW‖₂
  double frobenius = 0.0;         // ‖ΔW‖_F = sqrt(Σσᵢ²)
  double threshold_tau = 1e-2;    // τ used for threshold_rank
  int threshold_rank = 0;         // #{σᵢ ≥ τ·σ₁}
  int energy_rank_90 = 0;         // smallest k with Σ_{i≤k}σᵢ² ≥ p·Σσᵢ², p = 0.90
  int energy_rank_95 = 0;         //   p = 0.95
  int energy_rank_99 = 0;         //   p = 0.99
  double entropy_rank = 0.0;      // exp(H(σ/Σσ)), Roy & Vetterli 2007
  double stable_rank = 0.0;       // ‖ΔW‖²_F / σ₁²
  int gap_index = 0;              // k maximising σ_k/σ_{k+1} (1-based; 0 if n < 2)
  double gap_ratio = 0.0;         // that ratio (0 if n < 2; +inf-free: σ_{k+1} = 0 → see docs)
  bool untrained = false;         // σ₁ == 0
};

// REQUIRES: `sv` sorted descending, finite, >= 0 (as module_spectra returns them).
SpectrumMetrics spectrum_metrics(std::span<const double> sv, double tau = 1e-2);

}  // namespace lorank

#endif  // LORANK_RANK_H_
