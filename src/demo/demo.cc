// run_demo: the explainer's experiment, ranks fitted in parallel.
#include "lorank/demo.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "lorank/dense_svd.h"
#include "lorank/fit.h"
#include "lorank/parallel.h"
#include "lorank/spectrum.h"

namespace lorank {
// The best rank-r approximation leaves exactly the trailing singular values.
double eckart_young_rel_err(const std::vector<double>& sv, int r) {
  double tail = 0.0, total = 0.0;
  for (std::size_t i = 0; i < sv.size(); ++i) {
    total += sv[i] * sv[i];
    if (i >= static_cast<std::size_t>(r)) tail += sv[i] * sv[i];
  }
  return total > 0.0 ? std::sqrt(tail / total) : 0.0;
}

Result<DemoRow> fit_one_rank(const Matrix& target, int r, std::uint64_t init_seed,
                             const FitOptions& options) {
  const std::size_t ru = static_cast<std::size_t>(r);
  const Matrix B0(target.rows, ru);
  const Matrix A0 = lora_init_A(ru, target.cols, init_seed);
  LORANK_ASSIGN_OR_RETURN(LoraFit fit, fit_lora(target, B0, A0, options));
  DemoRow row;
  row.rank = r;
  row.rel_err = fit.rel_err;
  if (!std::isfinite(fit.rel_err)) {
    // A diverged fit has no spectrum; NumPy would print nan too.
    row.singular_values.assign(std::min({ru, target.rows, target.cols}), std::nan(""));
    return row;
  }
  LORANK_ASSIGN_OR_RETURN(row.singular_values,
                          lora_singular_values(fit.B.data.data(), fit.B.rows, ru, fit.A.data.data(),
                                               fit.A.cols));
  return row;
}

Status validate(const DemoParams& p) {
  if (p.dim <= 0) return invalid_argument("--dim must be a positive integer, got {}", p.dim);
  if (p.true_rank <= 0 || p.true_rank > p.dim) {
    return invalid_argument("--true-rank must be in 1..{} (the --dim), got {}", p.dim, p.true_rank);
  }
  if (p.ranks.empty()) return invalid_argument("--ranks must list at least one rank");
  for (int r : p.ranks) {
    if (r <= 0 || r > p.dim) {
      return invalid_argument("--ranks: each rank must be in 1..{} (the --dim), got {}", p.dim, r);
    }
  }
  if (p.steps <= 0) return invalid_argument("--steps must be a positive integer, got {}", p.steps);
  if (!(p.lr > 0.0) || !std::isfinite(p.lr)) {
    return invalid_argument("--lr must be a positive finite number, got {}", p.lr);
  }
  if (!(p.noise >= 0.0) || !std::isfinite(p.noise)) {
    return invalid_argument("--noise must be a finite number >= 0, got {}", p.noise);
  }
  if (p.threads < 0) return invalid_argument("--threads must be >= 0, got {}", p.threads);
  return Status();
}

Result<DemoResult> run_demo(const DemoParams& params) {
  LORANK_RETURN_IF_ERROR(validate(params));
  const auto t0 = std::chrono::steady_clock::now();
  const DemoTarget t = make_demo_target(params.dim, params.dim, params.true_rank, params.noise,
                                        params.seed);
  DemoResult result;
  result.params = params;
  result.rows.resize(params.ranks.size());
  std::vector<Status> failures(params.ranks.size());

  // Largest ranks first: the fit's cost grows with r, so this balances the threads.
  std::vector<std::size_t> order(params.ranks.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return params.ranks[a] > params.ranks[b]; });
  FitOptions options;
  options.steps = params.steps;
  options.lr = params.lr;
  parallel_for(order.size(), static_cast<unsigned>(params.threads), [&](std::size_t i) {
    const std::size_t slot = order[i];
    Result<DemoRow> row = fit_one_rank(t.target, params.ranks[slot], params.init_seed, options);
    if (row) {
      result.rows[slot] = std::move(*row);
    } else {
      failures[slot] = row.error();
    }
  });
  for (const Status& s : failures) LORANK_RETURN_IF_ERROR(s);

  LORANK_ASSIGN_OR_RETURN(result.target_spectrum, dense_singular_values(t.target));
  LORANK_ASSIGN_OR_RETURN(result.noise_floor, dense_singular_values(t.scaled_noise));
  for (DemoRow& row : result.rows) row.optimal_rel_err = eckart_young_rel_err(result.target_spectrum, row.rank);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace lorank
