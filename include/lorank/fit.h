// The LoRA fit engine: trains factors B (out×r) and A (r×in) so that s·B·A approximates a
// target matrix T, minimising ½‖s·B·A − T‖²_F with full-batch gradients.
//
// With s = 1 and plain gradient descent this is exactly the explainer's experiment:
//   E = s·B·A − T;  gB = s·E·Aᵀ;  gA = s·Bᵀ·E;  B −= lr·gB;  A −= lr·gA
// (both gradients from the same E). Results agree with ../shared/bench/demo_numpy.py to
// rounding (the products are summed in a different order than BLAS does).
#ifndef LORANK_FIT_H_
#define LORANK_FIT_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "lorank/matrix.h"
#include "lorank/status.h"

namespace lorank {

enum class Optimizer {
  kGradientDescent,  // B −= lr·gB (the explainer's optimiser)
  kAdam,             // Kingma & Ba 2015, bias-corrected moments
};

struct FitOptions {
  int steps = 5000;
  double lr = 0.01;
  double scale = 1.0;  // s in the update s·B·A (α/r, α/√r, ...)
  Optimizer optimizer = Optimizer::kGradientDescent;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  // If set, called after every `observe_every` steps (and never when observe_every <= 0)
  // with the step count and the current factors. Return false to stop early.
  int observe_every = 0;
  std::function<bool(int step, const Matrix& B, const Matrix& A)> observer;
};

struct LoraFit {
  Matrix B;                // out×r
  Matrix A;                // r×in
  double rel_err = 0.0;    // ‖T − s·B·A‖_F / ‖T‖_F (NaN if the fit diverged)
  int steps_run = 0;
};

// Fits s·B·A to `target` starting from B0 and A0.
// Returns kInvalidArgument when shapes disagree (B0 must be target.rows×r and A0
// r×target.cols) or steps < 0. A diverging fit is not an error: rel_err becomes Inf or NaN,
// as NumPy's would. Thread-compatible: independent calls may run in parallel.
Result<LoraFit> fit_lora(const Matrix& target, const Matrix& B0, const Matrix& A0,
                         const FitOptions& options);

// The explainer's initialisation of A for one rank: 0.01·N(0,1) of shape r×cols from a fresh
// `np.random.default_rng(init_seed)`, row-major, bit-exact.
Matrix lora_init_A(std::size_t r, std::size_t cols, std::uint64_t init_seed);

}  // namespace lorank

#endif  // LORANK_FIT_H_
