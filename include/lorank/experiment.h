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

}  // namespace lorank

#endif  // LORANK_EXPERIMENT_H_
