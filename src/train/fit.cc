// The fit loop. Operands are zero-padded to whole vectors once, so that the kernels in
// linalg/product_kernel.cc never handle remainders; padding stays exactly zero under the updates
// (padded rows of T and B give zero residual rows and zero gradients).
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "lorank/fit.h"
#include "lorank/random.h"
#include "linalg/product_kernel.h"
#include "train/adam.h"
#include "train/update_kernels.h"

namespace lorank {
namespace {

using detail::round_up_lanes;

// Copies a rows×cols row-major matrix into a zero-padded rows×ld buffer (or its transpose).
std::vector<double> padded(const Matrix& m, std::size_t rows_p, std::size_t cols_p,
                           bool transposed) {
  std::vector<double> out(rows_p * cols_p, 0.0);
  for (std::size_t i = 0; i < m.rows; ++i) {
    for (std::size_t j = 0; j < m.cols; ++j) {
      if (transposed) {
        out[j * cols_p + i] = m(i, j);
      } else {
        out[i * cols_p + j] = m(i, j);
      }
    }
  }
  return out;
}

Matrix unpadded(const std::vector<double>& buf, std::size_t ld, std::size_t rows, std::size_t cols,
                bool transposed) {
  Matrix m(rows, cols);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) m(i, j) = transposed ? buf[j * ld + i] : buf[i * ld + j];
  }
  return m;
}

}  // namespace

Result<LoraFit> fit_lora(const Matrix& target, const Matrix& B0, const Matrix& A0,
                         const FitOptions& options) {
  const std::size_t m = target.rows, n = target.cols, r = A0.rows;
  if (B0.rows != m || B0.cols != r || A0.cols != n) {
    return invalid_argument("fit: shapes disagree: target {}x{}, B {}x{}, A {}x{}", m, n, B0.rows,
                            B0.cols, A0.rows, A0.cols);
  }
  if (options.steps < 0) return invalid_argument("fit: steps must be >= 0, got {}", options.steps);

  const std::size_t mp = round_up_lanes(m), np = round_up_lanes(n);
  // Two layouts of B. For r >= kLanes, B is kept row-major (mp×rp) and gB = E·Aᵀ comes from
  // a transposed copy of A (r·n moves per step). For small r that would waste most of each
  // vector on padding, so Bᵀ (r×mp) is kept instead and gBᵀ comes from r dot products
  // per row of E.
  const bool tall = r >= detail::kLanes;
  const std::size_t rp = tall ? round_up_lanes(r) : r;
  const std::vector<double> T = padded(target, mp, np, false);
  std::vector<double> Bs = tall ? padded(B0, mp, rp, false) : padded(B0, r, mp, true);
  std::vector<double> A = padded(A0, r, np, false);
  std::vector<double> E(mp * np), At(tall ? np * rp : 0, 0.0);
  std::vector<double> gA(r * np), gB(Bs.size());
  std::vector<double> scratch(detail::scratch_size(std::max({mp, np, r})));
  // B(i, k) as a strided scalar operand, in either layout, and its transpose.
  const detail::Strided b_ik = tall ? detail::Strided{Bs.data(), rp, 1} : detail::Strided{Bs.data(), 1, mp};
  const detail::Strided b_ki = tall ? detail::Strided{Bs.data(), 1, rp} : detail::Strided{Bs.data(), mp, 1};
  std::optional<train::Adam> adam_a, adam_b;
  if (options.optimizer == Optimizer::kAdam) adam_a.emplace(A.size()), adam_b.emplace(Bs.size());
  const train::AdamParams adam{options.lr, options.adam_beta1, options.adam_beta2, options.adam_eps};

  const double s = options.scale, step_b = options.lr * s;
  LoraFit fit;
  int step = 0;
  for (; step < options.steps; ++step) {
    detail::broadcast_product(E.data(), b_ik, A.data(), T.data(), mp, np, r, s, scratch.data());  // s·B·A − T
    detail::broadcast_product(gA.data(), b_ki, E.data(), nullptr, r, np, mp, 1.0, scratch.data());  // Bᵀ·E
    if (tall) {
      detail::transpose(A.data(), np, At.data(), rp, r, np);
      detail::broadcast_product(gB.data(), {E.data(), np, 1}, At.data(), nullptr, mp, rp, np, 1.0,
                                scratch.data());
    } else {
      detail::row_dots(gB.data(), mp, E.data(), A.data(), mp, np, r);  // (E·Aᵀ)ᵀ
    }
    if (adam_a) {
      if (s != 1.0) {
        for (double& g : gA) g *= s;
        for (double& g : gB) g *= s;
      }
      adam_b->step(Bs.data(), gB.data(), step + 1, adam);
      adam_a->step(A.data(), gA.data(), step + 1, adam);
    } else {
      // lr·s·g: with s = 1 this is exactly NumPy's `B -= lr * gB`.
      const train::UpdateKernels& update = train::kUpdateKernels_active();
      update.subtract_scaled(Bs.data(), gB.data(), step_b, Bs.size());
      update.subtract_scaled(A.data(), gA.data(), step_b, A.size());
    }
    if (options.observer && options.observe_every > 0 && (step + 1) % options.observe_every == 0) {
      const Matrix B = tall ? unpadded(Bs, rp, m, r, false) : unpadded(Bs, mp, m, r, true);
      if (!options.observer(step + 1, B, unpadded(A, np, r, n, false))) {
        ++step;
        break;
      }
    }
  }
  fit.steps_run = step;
  fit.B = tall ? unpadded(Bs, rp, m, r, false) : unpadded(Bs, mp, m, r, true);
  fit.A = unpadded(A, np, r, n, false);
  detail::broadcast_product(E.data(), b_ik, A.data(), T.data(), mp, np, r, s, scratch.data());
  double err2 = 0.0, t2 = 0.0;
  for (std::size_t i = 0; i < E.size(); ++i) err2 += E[i] * E[i];
  for (double t : target.data) t2 += t * t;
  fit.rel_err = std::sqrt(err2) / std::sqrt(t2);
  return fit;
}

Matrix lora_init_A(std::size_t r, std::size_t cols, std::uint64_t init_seed) {
  Matrix A(r, cols);
  DefaultRngNormal rng(init_seed);
  rng.fill(A.data);
  for (double& v : A.data) v *= 0.01;
  return A;
}

}  // namespace lorank
