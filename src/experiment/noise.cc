// The noise experiment: trace what the directions beyond the true rank learn.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "lorank/demo.h"
#include "lorank/dense_svd.h"
#include "lorank/experiment.h"
#include "lorank/parallel.h"
#include "lorank/spectrum.h"

namespace lorank {
namespace {

double rel_distance(const Matrix& ref, const Matrix& x) {
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double d = ref.data[i] - x.data[i];
    num += d * d;
    den += ref.data[i] * ref.data[i];
  }
  return den > 0.0 ? std::sqrt(num / den) : std::sqrt(num);
}

Result<NoisePoint> measure(int step, const DemoTarget& t, int k, const Matrix& B, const Matrix& A) {
  NoisePoint p;
  p.step = step;
  const Matrix BA = matmul(B, A);
  p.train_err = rel_distance(t.target, BA);
  p.held_out_err = rel_distance(t.held_out, BA);
  p.signal_err = rel_distance(t.signal, BA);
  if (!std::isfinite(p.train_err)) return p;  // diverged: no spectrum to speak of
  LORANK_ASSIGN_OR_RETURN(std::vector<double> sv,
                          lora_singular_values(B.data.data(), B.rows, B.cols, A.data.data(), A.cols));
  if (sv.size() > static_cast<std::size_t>(k)) p.trailing.assign(sv.begin() + k, sv.end());
  return p;
}

}  // namespace

Status validate(const NoiseParams& p) {
  DemoParams d;
  d.dim = p.dim;
  d.true_rank = p.true_rank;
  d.ranks = p.ranks;
  d.steps = p.steps;
  d.lr = p.lr;
  d.noise = p.noise;
  LORANK_RETURN_IF_ERROR(validate(d));
  if (p.record_every <= 0) {
    return invalid_argument("--record-every must be a positive integer, got {}", p.record_every);
  }
  return Status();
}

Result<NoiseResult> run_noise(const NoiseParams& params) {
  LORANK_RETURN_IF_ERROR(validate(params));
  const auto t0 = std::chrono::steady_clock::now();
  const DemoTarget t = make_demo_target(params.dim, params.dim, params.true_rank, params.noise,
                                        params.seed, /*held_out=*/true);
  NoiseResult result;
  result.params = params;
  LORANK_ASSIGN_OR_RETURN(result.noise_floor, dense_singular_values(t.scaled_noise));
  result.runs.resize(params.ranks.size());
  std::vector<Status> failures(params.ranks.size());
  std::vector<std::size_t> order(params.ranks.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return params.ranks[a] > params.ranks[b]; });
  parallel_for(order.size(), params.threads, [&](std::size_t i) {
    const std::size_t slot = order[i];
    const int r = params.ranks[slot];
    NoiseRun& run = result.runs[slot];
    run.rank = r;
    FitOptions options;
    options.steps = params.steps;
    options.lr = params.lr;
    options.observe_every = params.record_every;
    Status failure;
    options.observer = [&](int step, const Matrix& B, const Matrix& A) {
      Result<NoisePoint> p = measure(step, t, params.true_rank, B, A);
      if (!p) {
        failure = p.error();
        return false;
      }
      const bool finite = std::isfinite(p->train_err);
      run.trace.push_back(std::move(*p));
      return finite;  // stop tracing a diverged fit
    };
    const std::size_t ru = static_cast<std::size_t>(r);
    Result<LoraFit> fit = fit_lora(t.target, Matrix(t.target.rows, ru),
                                   lora_init_A(ru, t.target.cols, params.init_seed), options);
    if (!fit) failure = fit.error();
    if (failure.ok() && (run.trace.empty() || run.trace.back().step != fit->steps_run)) {
      Result<NoisePoint> p = measure(fit->steps_run, t, params.true_rank, fit->B, fit->A);
      if (p) run.trace.push_back(std::move(*p));
      else failure = p.error();
    }
    failures[slot] = std::move(failure);
  });
  for (Status& s : failures) LORANK_RETURN_IF_ERROR(std::move(s));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace lorank
