// The rank laboratory: the explainer's claims as experiments (docs/experiments.md).
#ifndef LORANK_EXPERIMENT_H_
#define LORANK_EXPERIMENT_H_

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "lorank/fit.h"
#include "lorank/status.h"

namespace lorank {

// `lorank experiment sweep`: true rank k × allocated rank r on the demo's setup.
struct SweepParams {
  int dim = 64;
  std::vector<int> true_ranks{1, 2, 4, 8, 16};
  std::vector<int> ranks{1, 2, 4, 8, 16, 32};
  int steps = 5000;
  double lr = 0.01;
  double noise = 0.01;
  std::uint32_t seed = 42;      // each true rank's target: np.random.seed(seed), as the demo
  std::uint64_t init_seed = 0;  // A's init: default_rng(init_seed), as the demo
  unsigned threads = 0;         // 0 = one per core
};

struct SweepCell {
  int true_rank = 0;
  int rank = 0;
  double rel_err = 0.0;          // ‖T − B·A‖_F/‖T‖_F after training (NaN if diverged)
  double optimal_rel_err = 0.0;  // Eckart–Young: the best any rank-r matrix can do
  int directions_above_noise = 0;
  std::vector<double> singular_values;  // of the trained B·A
};

struct SweepResult {
  SweepParams params;
  std::vector<SweepCell> cells;  // true-rank major, in the order of params
  double seconds = 0.0;
};

// kInvalidArgument naming the flag for: dim <= 0, an empty list, a rank or true rank
// outside 1..dim, steps <= 0, lr <= 0 or not finite, noise < 0 or not finite.
Status validate(const SweepParams& params);

// Runs every cell, the most expensive first, on params.threads threads.
Result<SweepResult> run_sweep(const SweepParams& params);

// `lorank experiment noise`: what over-allocated directions do. For r > k the trailing
// singular values σ_{k+1..r} of B·A are traced over training against the noise matrix's
// own spectrum, and the fit is scored on a held-out target (same signal, a second noise
// draw): the extra rank fits the training noise, which the held-out error reveals.
struct NoiseParams {
  int dim = 64;
  int true_rank = 4;
  std::vector<int> ranks{4, 8, 16, 32};
  int steps = 20000;
  int record_every = 500;
  double lr = 0.01;
  double noise = 0.01;
  std::uint32_t seed = 42;
  std::uint64_t init_seed = 0;
  unsigned threads = 0;
};

struct NoisePoint {
  int step = 0;
  double train_err = 0.0;     // ‖T − B·A‖_F/‖T‖_F
  double held_out_err = 0.0;  // ‖T' − B·A‖_F/‖T'‖_F, T' = signal + fresh noise
  double signal_err = 0.0;    // ‖S − B·A‖_F/‖S‖_F, S the noiseless signal
  std::vector<double> trailing;  // σ_{k+1..r} of B·A (empty when r <= k)
};

struct NoiseRun {
  int rank = 0;
  std::vector<NoisePoint> trace;  // every record_every steps, and the last step
};

struct NoiseResult {
  NoiseParams params;
  std::vector<NoiseRun> runs;        // in the order of params.ranks
  std::vector<double> noise_floor;   // singular values of the training noise matrix
  double seconds = 0.0;
};

Status validate(const NoiseParams& params);
Result<NoiseResult> run_noise(const NoiseParams& params);

// `lorank experiment scaling`: the α/r question. LoRA as an adapter on a frozen linear
// layer, h = W₀x + s·B·A·x, trained on n samples x ~ N(0, I), y = (W₀ + ΔW*)x + ε with
// ΔW* of rank k (W₀ cancels from the loss, so it is not materialised), full batch, MSE
// loss, PEFT's init (B = 0, A ~ U(±1/√in)). Each run is one (rule, optimizer, lr, r).
enum class ScaleRule {
  kStandard,  // s = α/r, α fixed (PEFT's default rule)
  kUnit,      // α = r, so s = 1
  kRslora,    // s = α/√r (Kalajdzievski 2023)
};
std::string_view scale_rule_name(ScaleRule rule);  // "standard", "unit", "rslora"

struct ScalingParams {
  int dim = 64;                 // in = out = dim
  int true_rank = 4;            // rank k of ΔW*
  int samples = 256;            // training samples n (test: 4n fresh samples)
  double noise = 0.1;           // ε ~ N(0, noise²)
  double alpha = 16.0;          // α for the standard and rslora rules
  std::vector<int> ranks{1, 2, 4, 8, 16, 32, 64};
  std::vector<double> adam_lrs{1e-3, 1e-2, 1e-1};
  std::vector<double> sgd_lrs{1e-2, 1e-1, 1.0};
  std::vector<ScaleRule> rules{ScaleRule::kStandard, ScaleRule::kUnit, ScaleRule::kRslora};
  int steps = 300;
  int curve_points = 60;        // learning-curve samples per run
  std::uint64_t seed = 0;       // data and init: default_rng(seed) streams
  unsigned threads = 0;
};

struct ScalingRun {
  ScaleRule rule = ScaleRule::kStandard;
  Optimizer optimizer = Optimizer::kAdam;
  int rank = 0;
  double lr = 0.0;
  double scale = 1.0;            // s
  double final_loss = 0.0;       // training MSE at the end (NaN/Inf if it diverged)
  double test_loss = 0.0;        // MSE on the test set at the end
  bool diverged = false;         // loss became non-finite or exploded (> 1e6 × the initial)
  int steps_to_fit = -1;         // first sampled step with loss ≤ 1.5 × the noise floor; -1: never
  std::vector<std::pair<int, double>> curve;  // (step, training MSE)
};

struct ScalingResult {
  ScalingParams params;
  double initial_loss = 0.0;     // MSE of the untouched layer (ΔW = 0)
  double noise_loss = 0.0;       // MSE of the true ΔW* (the noise floor, ≈ noise²)
  std::vector<ScalingRun> runs;  // rule-major, then optimizer, lr, rank
  double seconds = 0.0;
};

Status validate(const ScalingParams& params);
Result<ScalingResult> run_scaling(const ScalingParams& params);

// `lorank experiment similarity`: Hu et al. 2022 §7.2 on our own fits. For each true rank k,
// the demo's target is fitted at r = k and at r = factor·k, and the normalised subspace
// similarity φ(i, j) = ‖U_iᵀU'_j‖²_F / min(i, j) of their top directions is measured
// (lorank/compare.h): r = k and r = 4k learn the same top-k directions.
struct SimilarityParams {
  int dim = 64;
  std::vector<int> true_ranks{2, 4, 8};
  int factor = 4;
  int steps = 5000;
  double lr = 0.01;
  double noise = 0.01;
  std::uint32_t seed = 42;
  std::uint64_t init_seed = 0;
  bool right = false;  // compare right singular directions (A's row space) instead of left
  unsigned threads = 0;
};

struct SimilarityRow {
  int true_rank = 0;
  int rank_small = 0, rank_large = 0;
  std::vector<double> diagonal;           // φ(i, i), i = 1..k
  std::vector<double> principal_cosines;  // cos θ of the top-k subspaces
  double chance = 0.0;                    // φ(k, k) of unrelated random subspaces: k/dim
};

struct SimilarityResult {
  SimilarityParams params;
  std::vector<SimilarityRow> rows;
  double seconds = 0.0;
};

Status validate(const SimilarityParams& params);
Result<SimilarityResult> run_similarity(const SimilarityParams& params);

}  // namespace lorank

#endif  // LORANK_EXPERIMENT_H_
