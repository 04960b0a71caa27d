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

// Gap ratios σ_k/σ_{k+1} are computed with σ_{k+1} floored at kGapFloor·σ₁: values below
// that are indistinguishable from zero at the spectra's accuracy (about 1e-12·σ₁, see
// spectrum.h), so a ratio is at most σ_k/(kGapFloor·σ₁) ≤ 1/kGapFloor and never inf/NaN.
inline constexpr double kGapFloor = 1e-12;

// Metrics of one module's singular values σ₁ ≥ σ₂ ≥ … ≥ σ_n ≥ 0 (n = min(r, out, in)).
// An all-zero (or empty) spectrum is `untrained`: every rank is 0, every ratio 0, no NaN.
// Every field is finite for finite input.
struct SpectrumMetrics {
  std::size_t n = 0;            // number of singular values
  double sigma1 = 0.0;          // σ₁ = ‖ΔW‖₂
  double frobenius = 0.0;       // ‖ΔW‖_F = sqrt(Σσᵢ²)
  double threshold_tau = 1e-2;  // τ used for threshold_rank
  int threshold_rank = 0;       // #{σᵢ ≥ τ·σ₁}
  int energy_rank_90 = 0;       // smallest k with Σ_{i≤k}σᵢ² ≥ p·Σσᵢ², p = 0.90
  int energy_rank_95 = 0;       //   p = 0.95
  int energy_rank_99 = 0;       //   p = 0.99
  double entropy_rank = 0.0;    // exp(H(σ/Σσ)), Roy & Vetterli 2007
  double stable_rank = 0.0;     // ‖ΔW‖²_F / σ₁²
  int gap_index = 0;            // k maximising σ_k/max(σ_{k+1}, kGapFloor·σ₁), 1-based;
                                // the first such k on ties; 0 if n < 2 or untrained
  double gap_ratio = 0.0;       // that ratio (0 if gap_index == 0)
  bool gap_capped = false;      // σ_{k+1} < kGapFloor·σ₁ (numerically zero): the ratio is
                                // a lower bound of an infinite gap, capped at 1/kGapFloor
  double tail_ratio = 0.0;      // σ_n/σ₁ (0 if untrained): near 1 means a flat spectrum
  bool untrained = false;       // σ₁ == 0 (or n == 0)
};

// REQUIRES: `sv` sorted descending, finite, >= 0 (as module_spectra returns them);
// 0 < tau <= 1.
SpectrumMetrics spectrum_metrics(std::span<const double> sv, double tau = 1e-2);

// Smallest k with Σ_{i≤k}σᵢ² ≥ p·Σσᵢ² (PEFT convert_to_lora's float `rank`), 0 if untrained.
// The total is the last cumulative sum itself, so k ≤ n for every p ≤ 1 whatever the
// rounding. REQUIRES: sv as for spectrum_metrics, 0 < p <= 1.
int energy_rank(std::span<const double> sv, double p);

// A rank-selection rule, written `name` or `name:param`. Every rule returns 0 for an untrained
// module (σ₁ == 0) and never more than the module's current min(r, out, in). Rules, with the
// exact semantics of the tool they come from (docs/metrics.md has the formulas and sources):
//   threshold:τ        #{σᵢ ≥ τ·σ₁}, 0 < τ ≤ 1                     (the default, τ = 0.01)
//   energy:p, peft:p   smallest k with Σ_{i≤k}σᵢ² ≥ p·Σσᵢ², 0 < p ≤ 1 (PEFT convert_to_lora)
//   kohya-ratio:p      kohya sv_ratio:  #{σᵢ > σ₁/p}, p ≥ 1 (max/min singular value ratio)
//   kohya-fro:p        kohya sv_fro:    searchsorted(cumΣσ²/Σσ², p²) + 1, 0 < p ≤ 1
//   kohya-cumulative:p kohya sv_cumulative: searchsorted(cumΣσ/Σσ, p) + 1, 0 < p ≤ 1
//                      (the three kohya rules then clamp the index to [1, n−1] and add 1;
//                      σ₁/|scale| ≤ 1e-6 gives 1, as kohya does on the unscaled spectrum)
//   lycoris-ratio:p    #{σᵢ > p·σ₁}, 0 ≤ p ≤ 1, then at least 1
//   lycoris-quantile:p #{k : Σ_{i≤k}σᵢ < p·Σσᵢ}, 0 ≤ p ≤ 1, then at least 1
//   entropy            round(exp(H(σ/Σσ))), at least 1
//   gap                SpectrumMetrics::gap_index (1 when n == 1)
//   fixed:k            k ≥ 1
class RankRule {
 public:
  enum class Kind {
    kThreshold,
    kEnergy,
    kPeft,
    kKohyaRatio,
    kKohyaFro,
    kKohyaCumulative,
    kLycorisRatio,
    kLycorisQuantile,
    kEntropy,
    kGap,
    kFixed,
  };

  // The default rule: threshold:0.01 (why: docs/metrics.md, "The default rule").
  RankRule() = default;

  // Parses "threshold:0.01", "energy:0.9", "gap", "fixed:8", ... kInvalidArgument, with a
  // message naming the rule syntax, for an unknown name, a missing/extra/out-of-range
  // parameter or a malformed number.
  static Result<RankRule> parse(std::string_view spec);
  // The accepted syntax, one rule per line (for messages and --help).
  static std::string syntax();

  // "threshold:0.01"; parse(to_string()) gives the same rule.
  std::string to_string() const;
  Kind kind() const { return kind_; }
  double param() const { return param_; }

  // The recommended rank of a module with singular values `sv` (descending, finite, ≥ 0)
  // whose current rank is `max_rank` = min(r, out, in). `scale` is the module's s in
  // ΔW = s·B·A, used only by the kohya rules' σ₁ ≤ 1e-6 test (kohya tests the unscaled
  // spectrum). Result in [0, min(max_rank, sv.size())]; 0 iff untrained.
  int apply(std::span<const double> sv, std::size_t max_rank, double scale = 1.0) const;

  friend bool operator==(const RankRule&, const RankRule&) = default;

 private:
  RankRule(Kind kind, double param) : kind_(kind), param_(param) {}
  Kind kind_ = Kind::kThreshold;
  double param_ = 1e-2;
};

// Snapping a recommended rank to the ranks a server accepts.
enum class Snap {
  kNone,
  // vLLM's max_lora_rank values {1, 8, 16, 32, 64, 128, 256, 320, 512}: round up.
  kVllm,
  // Powers of two: round up.
  kPow2,
};
std::string_view snap_name(Snap snap);  // "none", "vllm", "pow2"
// kInvalidArgument (naming the choices) for anything but "none", "vllm", "pow2".
Result<Snap> parse_snap(std::string_view name);

// `rank` rounded up to the next allowed value, then capped at `max_rank` (the module's
// current min(r, out, in)): padding a module above its current rank adds only zero
// directions, and a smaller module is served under the snapped max_lora_rank anyway. Above
// 512, kVllm gives 512 (vLLM serves no larger rank; run_audit warns). 0 stays 0.
int snap_rank(int rank, Snap snap, std::size_t max_rank);

}  // namespace lorank

#endif  // LORANK_RANK_H_
