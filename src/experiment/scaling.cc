// The scaling experiment: LoRA's α/r rule against α = r and rsLoRA's α/√r, on a linear
// layer trained from data. The loss and its gradient only need the data's second moments
// (Σxx = XXᵀ/n, Σyx = YXᵀ/n, tr Σyy), so each step costs O(dim²·r) whatever n is.
// GCC 12 warns falsely inside Eigen's AVX-512 kernels (an intrinsic's unused lane).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Dense>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "lorank/experiment.h"
#include "lorank/parallel.h"
#include "lorank/random.h"
#include "train/adam.h"

namespace lorank {
namespace {

using Mat = Eigen::MatrixXd;

struct Moments {
  Mat xx;           // in×in
  Mat yx;           // out×in
  double yy = 0.0;  // tr Σyy
};

// n samples of x ~ N(0, I) and y = ΔW*·x + ε, reduced to their second moments.
Moments draw_moments(const Mat& delta, int n, double noise, DefaultRngNormal& rng) {
  const Eigen::Index d_in = delta.cols(), d_out = delta.rows();
  Mat X(d_in, n), E(d_out, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < d_in; ++i) X(i, j) = rng.next();
  }
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < d_out; ++i) E(i, j) = noise * rng.next();
  }
  const Mat Y = delta * X + E;
  Moments m;
  m.xx = X * X.transpose() / n;
  m.yx = Y * X.transpose() / n;
  m.yy = Y.squaredNorm() / n;
  return m;
}

// MSE per output element of the effective update M (out×in): tr(MΣxxMᵀ − 2MΣxy + Σyy)/out.
double mse(const Mat& M, const Moments& m) {
  const double quad = (M * m.xx).cwiseProduct(M).sum();
  const double cross = M.cwiseProduct(m.yx).sum();
  return (quad - 2.0 * cross + m.yy) / static_cast<double>(M.rows());
}

double rule_scale(ScaleRule rule, double alpha, int r) {
  switch (rule) {
    case ScaleRule::kStandard: return alpha / r;
    case ScaleRule::kUnit: return 1.0;
    case ScaleRule::kRslora: return alpha / std::sqrt(static_cast<double>(r));
  }
  return 1.0;
}

ScalingRun train_run(ScalingRun run, const ScalingParams& p, const Moments& train_m,
                 const Moments& test_m, double initial, double floor) {
  const int d = p.dim, r = run.rank;
  Mat B = Mat::Zero(d, r), A(r, d);
  Pcg64 init(p.seed + 1000003u * static_cast<std::uint64_t>(r));  // same A for every rule/lr
  const double bound = 1.0 / std::sqrt(static_cast<double>(d));    // kaiming_uniform(a=√5)
  for (Eigen::Index i = 0; i < A.size(); ++i) A.data()[i] = bound * (2.0 * init.next_double() - 1.0);
  run.scale = rule_scale(run.rule, p.alpha, r);
  const double s = run.scale;
  train::Adam adam_a(static_cast<std::size_t>(A.size())), adam_b(static_cast<std::size_t>(B.size()));
  const train::AdamParams adam{run.lr};
  const int every = std::max(1, p.steps / std::max(1, p.curve_points));
  for (int step = 1; step <= p.steps; ++step) {
    // G = ∂MSE/∂M at M = s·B·A; then gB = s·G·Aᵀ, gA = s·Bᵀ·G.
    const Mat AX = A * train_m.xx;
    const Mat G = (2.0 / d) * (s * B * AX - train_m.yx);
    const Mat gB = s * G * A.transpose();
    const Mat gA = s * B.transpose() * G;
    if (run.optimizer == Optimizer::kAdam) {
      adam_b.step(B.data(), gB.data(), step, adam);  // Eigen: contiguous, elementwise
      adam_a.step(A.data(), gA.data(), step, adam);
    } else {
      B -= run.lr * gB;
      A -= run.lr * gA;
    }
    if (step % every == 0 || step == p.steps) {
      const double loss = mse(s * B * A, train_m);
      run.curve.emplace_back(step, loss);
      if (run.steps_to_fit < 0 && loss <= 1.5 * floor) run.steps_to_fit = step;
      if (!std::isfinite(loss) || loss > 1e6 * initial) {
        run.diverged = true;
        break;
      }
    }
  }
  const Mat M = s * B * A;
  run.final_loss = run.diverged ? run.curve.back().second : mse(M, train_m);
  run.test_loss = run.diverged ? std::nan("") : mse(M, test_m);
  return run;
}

}  // namespace

std::string_view scale_rule_name(ScaleRule rule) {
  switch (rule) {
    case ScaleRule::kStandard: return "standard";
    case ScaleRule::kUnit: return "unit";
    case ScaleRule::kRslora: return "rslora";
  }
  return "?";
}

Status validate(const ScalingParams& p) {
  if (p.dim <= 0) return invalid_argument("--dim must be a positive integer, got {}", p.dim);
  if (p.true_rank <= 0 || p.true_rank > p.dim) {
    return invalid_argument("--true-rank must be in 1..{} (the --dim), got {}", p.dim, p.true_rank);
  }
  if (p.samples <= 0) return invalid_argument("--samples must be positive, got {}", p.samples);
  if (p.ranks.empty()) return invalid_argument("--ranks must list at least one rank");
  for (int r : p.ranks) {
    if (r <= 0 || r > 4096) return invalid_argument("--ranks: each rank must be in 1..4096, got {}", r);
  }
  for (const auto* lrs : {&p.adam_lrs, &p.sgd_lrs}) {
    for (double lr : *lrs) {
      if (!(lr > 0.0) || !std::isfinite(lr)) {
        return invalid_argument("learning rates must be positive finite numbers, got {}", lr);
      }
    }
  }
  if (p.adam_lrs.empty() && p.sgd_lrs.empty()) return invalid_argument("no learning rate to try");
  if (p.rules.empty()) return invalid_argument("--rules must list at least one rule");
  if (p.steps <= 0) return invalid_argument("--steps must be a positive integer, got {}", p.steps);
  if (!(p.noise >= 0.0) || !std::isfinite(p.noise)) {
    return invalid_argument("--noise must be a finite number >= 0, got {}", p.noise);
  }
  if (!(p.alpha > 0.0) || !std::isfinite(p.alpha)) {
    return invalid_argument("--alpha must be a positive finite number, got {}", p.alpha);
  }
  return Status();
}

Result<ScalingResult> run_scaling(const ScalingParams& p) {
  LORANK_RETURN_IF_ERROR(validate(p));
  const auto t0 = std::chrono::steady_clock::now();
  DefaultRngNormal rng(p.seed);
  // ΔW* = U·V/√k with Gaussian U (dim×k), V (k×dim): entries of order 1.
  Mat U(p.dim, p.true_rank), V(p.true_rank, p.dim);
  for (Eigen::Index i = 0; i < U.size(); ++i) U.data()[i] = rng.next();
  for (Eigen::Index i = 0; i < V.size(); ++i) V.data()[i] = rng.next();
  const Mat delta = U * V / std::sqrt(static_cast<double>(p.true_rank)) / std::sqrt(static_cast<double>(p.dim));
  const Moments train_m = draw_moments(delta, p.samples, p.noise, rng);
  const Moments test_m = draw_moments(delta, 4 * p.samples, p.noise, rng);
  ScalingResult result;
  result.params = p;
  result.initial_loss = mse(Mat::Zero(p.dim, p.dim), train_m);
  result.noise_loss = mse(delta, train_m);
  for (ScaleRule rule : p.rules) {
    for (Optimizer opt : {Optimizer::kAdam, Optimizer::kGradientDescent}) {
      for (double lr : opt == Optimizer::kAdam ? p.adam_lrs : p.sgd_lrs) {
        for (int r : p.ranks) {
          ScalingRun run;
          run.rule = rule;
          run.optimizer = opt;
          run.lr = lr;
          run.rank = r;
          result.runs.push_back(run);
        }
      }
    }
  }
  // Biggest ranks first (cost ∝ r) so the two cores finish together.
  std::vector<std::size_t> order(result.runs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return result.runs[a].rank > result.runs[b].rank;
  });
  parallel_for(order.size(), p.threads, [&](std::size_t i) {
    ScalingRun& run = result.runs[order[i]];
    run = train_run(run, p, train_m, test_m, result.initial_loss, result.noise_loss);
  });
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace lorank
