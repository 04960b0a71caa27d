// The rank laboratory: the explainer's claims as experiments (docs/experiments.md).
#ifndef LORANK_EXPERIMENT_H_
#define LORANK_EXPERIMENT_H_

#include <cstdint>
#include <vector>

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

}  // namespace lorank

#endif  // LORANK_EXPERIMENT_H_
