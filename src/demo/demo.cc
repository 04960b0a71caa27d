// run_demo: the explainer's experiment, ranks fitted in parallel.
#include "lorank/demo.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <numeric>
#include <thread>

#include "lorank/dense_svd.h"
#include "lorank/fit.h"
#include "lorank/spectrum.h"

namespace lorank {
namespace {

// Eckart–Young: the best rank-r approximation leaves exactly the trailing singular values.
double optimal_rel_err(const std::vector<double>& sv, int r) {
  double tail = 0.0, total = 0.0;
  for (std::size_t i = 0; i < sv.size(); ++i) {
    total += sv[i] * sv[i];
    if (i >= static_cast<std::size_t>(r)) tail += sv[i] * sv[i];
  }
  return total > 0.0 ? std::sqrt(tail / total) : 0.0;
}

}  // namespace

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
  std::atomic<std::size_t> next{0};
  FitOptions options;
  options.steps = params.steps;
  options.lr = params.lr;
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < order.size();) {
      const std::size_t slot = order[i];
      const int r = params.ranks[slot];
      const std::size_t ru = static_cast<std::size_t>(r);
      const Matrix B0(t.target.rows, ru);
      const Matrix A0 = lora_init_A(ru, t.target.cols, params.init_seed);
      Result<LoraFit> fit = fit_lora(t.target, B0, A0, options);
      if (!fit) {
        failures[slot] = fit.error();
        continue;
      }
      DemoRow& row = result.rows[slot];
      row.rank = r;
      row.rel_err = fit->rel_err;
      Result<std::vector<double>> sv =
          lora_singular_values(fit->B.data.data(), fit->B.rows, ru, fit->A.data.data(), fit->A.cols);
      if (sv) {
        row.singular_values = std::move(*sv);
      } else if (std::isfinite(fit->rel_err)) {
        failures[slot] = sv.error();
      } else {
        // A diverged fit has no spectrum; NumPy would print nan too.
        row.singular_values.assign(std::min(ru, t.target.cols), std::nan(""));
      }
    }
  };
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t n_threads = std::min<std::size_t>(
      params.threads > 0 ? static_cast<std::size_t>(params.threads) : hw, order.size());
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < n_threads; ++i) pool.emplace_back(worker);
  worker();
  for (std::thread& th : pool) th.join();
  for (const Status& s : failures) LORANK_RETURN_IF_ERROR(s);

  LORANK_ASSIGN_OR_RETURN(result.target_spectrum, dense_singular_values(t.target));
  LORANK_ASSIGN_OR_RETURN(result.noise_floor, dense_singular_values(t.scaled_noise));
  for (DemoRow& row : result.rows) row.optimal_rel_err = optimal_rel_err(result.target_spectrum, row.rank);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace lorank
