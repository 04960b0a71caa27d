// The explainer's rank demo as a library call: a target of intrinsic rank k plus a noise
// floor, LoRA fits at several ranks, and the spectrum of each trained B·A.
//
// Streams and arithmetic follow ../shared/bench/demo_numpy.py (the explainer's script):
// U (out×k), V (k×in) and the noise (out×in) from the legacy np.random.seed(seed) stream,
// T = (U·V)/√k + noise·N; A = 0.01·N(0,1) from a fresh default_rng(init_seed) per rank.
#ifndef LORANK_DEMO_H_
#define LORANK_DEMO_H_

#include <cstdint>
#include <vector>

#include "lorank/fit.h"
#include "lorank/matrix.h"
#include "lorank/status.h"

namespace lorank {

struct DemoParams {
  int dim = 64;                      // the target is dim×dim
  int true_rank = 4;                 // k, the intrinsic rank of the signal
  std::vector<int> ranks{2, 4, 16};  // allocated LoRA ranks, fitted independently
  int steps = 5000;
  double lr = 0.01;
  double noise = 0.01;               // scale of the Gaussian noise floor
  std::uint32_t seed = 42;           // np.random.seed (0 .. 2^32-1)
  std::uint64_t init_seed = 0;       // np.random.default_rng
  int threads = 0;                   // 0 = one per core
};

struct DemoTarget {
  Matrix target;        // T = (U·V)/√k + noise·N
  Matrix scaled_noise;  // noise·N alone: its spectrum is the floor extra ranks converge to
  Matrix signal;        // (U·V)/√k alone
  Matrix held_out;      // (U·V)/√k + noise·N₂, N₂ the stream's next out×in draw (if asked)
};

struct DemoRow {
  int rank = 0;
  double rel_err = 0.0;                  // ‖T − B·A‖_F / ‖T‖_F
  double optimal_rel_err = 0.0;          // Eckart–Young: best possible at this rank
  std::vector<double> singular_values;   // of the trained B·A, all min(r, dim), descending
};

struct DemoResult {
  DemoParams params;
  std::vector<DemoRow> rows;               // in the order of params.ranks
  std::vector<double> target_spectrum;     // singular values of T
  std::vector<double> noise_floor;         // singular values of noise·N
  double seconds = 0.0;                    // wall time of target + fits + spectra
};

// Returns kInvalidArgument naming the offending parameter when dim <= 0, true_rank <= 0,
// true_rank > dim, a rank <= 0 or > dim, ranks empty, steps <= 0, lr <= 0 or not finite,
// noise < 0 or not finite.
Status validate(const DemoParams& params);

// Builds the target bit-exactly as NumPy does on the reference BLAS (k-order sums). With
// `held_out`, also a second target with the same signal and a fresh noise draw.
DemoTarget make_demo_target(int out, int in, int true_rank, double noise, std::uint32_t seed,
                            bool held_out = false);

// One allocated rank of the demo: B = 0, A = lora_init_A(r, cols, init_seed), fitted to
// `target` with `options`; the row holds rel_err and the spectrum of the trained B·A
// (NaNs if the fit diverged). optimal_rel_err is left 0 for the caller.
Result<DemoRow> fit_one_rank(const Matrix& target, int r, std::uint64_t init_seed,
                             const FitOptions& options);

// Eckart–Young: the smallest ‖T − X‖_F/‖T‖_F over rank-r matrices X, from T's singular
// values `sv` (descending): sqrt(Σ_{i>r} σᵢ²/Σσᵢ²); 0 for an all-zero T.
double eckart_young_rel_err(const std::vector<double>& sv, int r);

// Runs the whole demo, ranks in parallel over params.threads threads.
Result<DemoResult> run_demo(const DemoParams& params);

}  // namespace lorank

#endif  // LORANK_DEMO_H_
