// The true-rank × allocated-rank sweep: every cell is one demo fit; the targets are the
// demo's (so a cell equals `lorank demo --true-rank k --ranks r` with the same flags).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "lorank/demo.h"
#include "lorank/demo_report.h"
#include "lorank/dense_svd.h"
#include "lorank/experiment.h"
#include "lorank/parallel.h"

namespace lorank {

Status validate(const SweepParams& p) {
  if (p.true_ranks.empty()) return invalid_argument("--true-ranks must list at least one rank");
  // The demo's checks cover everything else, flag names included.
  DemoParams d;
  d.dim = p.dim;
  d.ranks = p.ranks;
  d.steps = p.steps;
  d.lr = p.lr;
  d.noise = p.noise;
  for (int k : p.true_ranks) {
    d.true_rank = k;
    if (Status s = validate(d); !s.ok()) {
      if (s.message().starts_with("--true-rank")) {
        return invalid_argument("--true-ranks: each true rank must be in 1..{} (the --dim), got {}",
                                p.dim, k);
      }
      return s;
    }
  }
  return Status();
}

Result<SweepResult> run_sweep(const SweepParams& params) {
  LORANK_RETURN_IF_ERROR(validate(params));
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n_k = params.true_ranks.size(), n_r = params.ranks.size();
  std::vector<DemoTarget> targets;
  std::vector<std::vector<double>> target_sv(n_k), noise_sv(n_k);
  for (std::size_t a = 0; a < n_k; ++a) {
    targets.push_back(make_demo_target(params.dim, params.dim, params.true_ranks[a], params.noise,
                                       params.seed));
    LORANK_ASSIGN_OR_RETURN(target_sv[a], dense_singular_values(targets[a].target));
    LORANK_ASSIGN_OR_RETURN(noise_sv[a], dense_singular_values(targets[a].scaled_noise));
  }
  SweepResult result;
  result.params = params;
  result.cells.resize(n_k * n_r);
  std::vector<Status> failures(result.cells.size());
  // Costliest (largest r) first, so that the last job to start is a cheap one.
  std::vector<std::size_t> order(result.cells.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return params.ranks[x % n_r] > params.ranks[y % n_r];
  });
  FitOptions options;
  options.steps = params.steps;
  options.lr = params.lr;
  parallel_for(order.size(), params.threads, [&](std::size_t i) {
    const std::size_t cell = order[i], a = cell / n_r, b = cell % n_r;
    Result<DemoRow> row = fit_one_rank(targets[a].target, params.ranks[b], params.init_seed, options);
    if (!row) {
      failures[cell] = row.error();
      return;
    }
    SweepCell& c = result.cells[cell];
    c.true_rank = params.true_ranks[a];
    c.rank = params.ranks[b];
    c.rel_err = row->rel_err;
    c.optimal_rel_err = eckart_young_rel_err(target_sv[a], c.rank);
    c.directions_above_noise = directions_above_noise(row->singular_values, noise_sv[a]);
    c.singular_values = std::move(row->singular_values);
  });
  for (const Status& s : failures) LORANK_RETURN_IF_ERROR(s);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace lorank
