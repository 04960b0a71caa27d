// The similarity experiment: do r = k and r = factor·k learn the same top directions?
#include <chrono>

#include "lorank/compare.h"
#include "lorank/demo.h"
#include "lorank/experiment.h"
#include "lorank/parallel.h"

namespace lorank {

Status validate(const SimilarityParams& p) {
  if (p.true_ranks.empty()) return invalid_argument("--true-ranks must list at least one rank");
  if (p.factor < 1) return invalid_argument("--factor must be >= 1, got {}", p.factor);
  DemoParams d;
  d.dim = p.dim;
  d.steps = p.steps;
  d.lr = p.lr;
  d.noise = p.noise;
  for (int k : p.true_ranks) {
    d.true_rank = k;
    d.ranks = {k, k * p.factor};
    if (Status s = validate(d); !s.ok()) {
      return invalid_argument("--true-ranks {} with --factor {}: {}", k, p.factor, s.message());
    }
  }
  return Status();
}

Result<SimilarityResult> run_similarity(const SimilarityParams& p) {
  LORANK_RETURN_IF_ERROR(validate(p));
  const auto t0 = std::chrono::steady_clock::now();
  SimilarityResult result;
  result.params = p;
  const std::size_t n = p.true_ranks.size();
  std::vector<DemoTarget> targets;
  for (int k : p.true_ranks) targets.push_back(make_demo_target(p.dim, p.dim, k, p.noise, p.seed));
  // Two fits per true rank; the large ones first.
  std::vector<LoraFit> fits(2 * n);
  std::vector<Status> failures(2 * n);
  FitOptions options;
  options.steps = p.steps;
  options.lr = p.lr;
  parallel_for(2 * n, p.threads, [&](std::size_t job) {
    const std::size_t i = job % n;
    const bool large = job < n;
    const std::size_t r = static_cast<std::size_t>(p.true_ranks[i] * (large ? p.factor : 1));
    Result<LoraFit> fit = fit_lora(targets[i].target, Matrix(targets[i].target.rows, r),
                                   lora_init_A(r, targets[i].target.cols, p.init_seed), options);
    if (fit) {
      fits[large ? n + i : i] = std::move(*fit);
    } else {
      failures[job] = fit.error();
    }
  });
  for (const Status& s : failures) LORANK_RETURN_IF_ERROR(s);
  CompareOptions options_cmp;
  options_cmp.side = p.right ? CompareSide::kRight : CompareSide::kLeft;
  for (std::size_t i = 0; i < n; ++i) {
    const int k = p.true_ranks[i];
    options_cmp.k = static_cast<std::size_t>(k);
    const LoraFit& small = fits[i];
    const LoraFit& large = fits[n + i];
    const std::size_t d = static_cast<std::size_t>(p.dim);
    LoraFactorsView<double> a{small.B.data, small.A.data, {d, small.A.rows, d}, 1.0};
    LoraFactorsView<double> b{large.B.data, large.A.data, {d, large.A.rows, d}, 1.0};
    LORANK_ASSIGN_OR_RETURN(ModuleComparison c, compare_factors(a, b, options_cmp));
    SimilarityRow row;
    row.true_rank = k;
    row.rank_small = k;
    row.rank_large = k * p.factor;
    for (std::size_t j = 0; j < c.diagonal.size() && j < static_cast<std::size_t>(k); ++j) {
      row.diagonal.push_back(c.diagonal[j]);
    }
    row.principal_cosines = c.principal_cosines;
    row.chance = static_cast<double>(k) / p.dim;
    result.rows.push_back(std::move(row));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace lorank
