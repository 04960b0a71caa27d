#include "lorank/experiment_report.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace lorank {
namespace {

nlohmann::ordered_json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

std::string grid(const SweepResult& r, const char* title, double SweepCell::*field) {
  const std::size_t n_r = r.params.ranks.size();
  std::string out = fmt::format("{}\n{:>12}", title, "k \\ r");
  for (int rank : r.params.ranks) out += fmt::format("  {:>7}", rank);
  out += "\n";
  for (std::size_t a = 0; a < r.params.true_ranks.size(); ++a) {
    out += fmt::format("{:>12}", r.params.true_ranks[a]);
    for (std::size_t b = 0; b < n_r; ++b) {
      const double v = r.cells[a * n_r + b].*field;
      out += std::isfinite(v) ? fmt::format("  {:7.4f}", v) : fmt::format("  {:>7}", "nan");
    }
    out += "\n";
  }
  return out;
}

}  // namespace

std::string sweep_table(const SweepResult& r) {
  std::string out = grid(r, "final rel. error ‖T − B·A‖_F / ‖T‖_F", &SweepCell::rel_err);
  out += '\n';
  out += grid(r, "Eckart–Young optimum (best any rank-r matrix can do)", &SweepCell::optimal_rel_err);
  // The reading: where does the error stop improving? Compare each cell with the optimum.
  int under = 0, at_optimum = 0, total = 0;
  double worst_gap = 0.0;
  for (const SweepCell& c : r.cells) {
    if (!std::isfinite(c.rel_err)) continue;
    ++total;
    if (c.rank < c.true_rank) ++under;
    const double gap = c.rel_err - c.optimal_rel_err;
    worst_gap = std::max(worst_gap, std::abs(gap));
    if (gap <= 0.01 * std::max(c.optimal_rel_err, 1e-3) + 1e-4) ++at_optimum;
  }
  out += fmt::format(
      "\nReading: {} of {} cells have r < k and cannot fit the signal (their optimum is already "
      "large); {} of {} cells reach their Eckart–Young optimum to 1%; the error falls sharply at "
      "r = k and barely moves above it (largest gap to the optimum {:.4f}).\n",
      under, total, at_optimum, total, worst_gap);
  out += fmt::format("dim {}, steps {}, lr {}, noise {}, seed {}, init-seed {}; {:.2f} s\n",
                     r.params.dim, r.params.steps, r.params.lr, r.params.noise, r.params.seed,
                     r.params.init_seed, r.seconds);
  return out;
}

std::string sweep_json(const SweepResult& r) {
  const SweepParams& p = r.params;
  nlohmann::ordered_json j;
  j["params"] = {{"dim", p.dim},     {"true_ranks", p.true_ranks}, {"ranks", p.ranks},
                 {"steps", p.steps}, {"lr", p.lr},                 {"noise", p.noise},
                 {"seed", p.seed},   {"init_seed", p.init_seed}};
  j["cells"] = nlohmann::ordered_json::array();
  for (const SweepCell& c : r.cells) {
    nlohmann::ordered_json sv = nlohmann::ordered_json::array();
    for (double v : c.singular_values) sv.push_back(number_or_null(v));
    j["cells"].push_back({{"true_rank", c.true_rank},
                          {"rank", c.rank},
                          {"rel_err", number_or_null(c.rel_err)},
                          {"optimal_rel_err", number_or_null(c.optimal_rel_err)},
                          {"directions_above_noise", c.directions_above_noise},
                          {"singular_values", sv}});
  }
  j["seconds"] = r.seconds;
  return j.dump(2) + "\n";
}

namespace {

std::string range_text(const std::vector<double>& v) {
  if (v.empty()) return "-";
  return fmt::format("{:.3f}..{:.3f}", v.front(), v.back());
}

nlohmann::ordered_json numbers(const std::vector<double>& v) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (double x : v) a.push_back(number_or_null(x));
  return a;
}

}  // namespace

std::string noise_table(const NoiseResult& r) {
  const NoiseParams& p = r.params;
  std::string out = fmt::format(
      "{:>6}  {:>10}  {:>10}  {:>10}  {:>26}  {:>26}\n", "rank", "train err", "held-out", "signal err",
      fmt::format("sigma_{{k+1..r}} @ {}", r.runs.empty() || r.runs[0].trace.empty() ? 0 : r.runs[0].trace.front().step),
      "sigma_{k+1..r} at the end");
  for (const NoiseRun& run : r.runs) {
    if (run.trace.empty()) continue;
    const NoisePoint& first = run.trace.front();
    const NoisePoint& last = run.trace.back();
    out += fmt::format("{:>6}  {:>10.5f}  {:>10.5f}  {:>10.5f}  {:>26}  {:>26}\n", run.rank,
                       last.train_err, last.held_out_err, last.signal_err, range_text(first.trailing),
                       range_text(last.trailing));
  }
  out += fmt::format("noise floor (singular values of the training noise): {}\n",
                     range_text(std::vector<double>(r.noise_floor.begin(),
                                                    r.noise_floor.begin() + std::min<std::size_t>(8, r.noise_floor.size()))));
  // Reading: compare the lowest and highest allocated ranks.
  const NoiseRun* lo = nullptr;
  const NoiseRun* hi = nullptr;
  for (const NoiseRun& run : r.runs) {
    if (run.trace.empty()) continue;
    if (!lo || run.rank < lo->rank) lo = &run;
    if (!hi || run.rank > hi->rank) hi = &run;
  }
  if (lo && hi && lo != hi) {
    const NoisePoint& a = lo->trace.back();
    const NoisePoint& b = hi->trace.back();
    out += fmt::format(
        "\nReading: from r = {} to r = {} the training error falls {:.5f} -> {:.5f} but the "
        "held-out error goes {:.5f} -> {:.5f} and the distance to the true signal {:.5f} -> "
        "{:.5f}: the extra directions fit this draw of the noise, not the task.\n",
        lo->rank, hi->rank, a.train_err, b.train_err, a.held_out_err, b.held_out_err,
        a.signal_err, b.signal_err);
    if (!hi->trace.front().trailing.empty() && !hi->trace.back().trailing.empty() && !r.noise_floor.empty()) {
      out += fmt::format(
          "At r = {} the directions beyond k = {} grow from {:.3f} (step {}) to {:.3f} (step {}), "
          "toward the noise matrix's own top singular values ({:.3f}, ...): they are not driven "
          "to zero, they slowly learn the noise.\n",
          hi->rank, p.true_rank, hi->trace.front().trailing.front(), hi->trace.front().step,
          hi->trace.back().trailing.front(), hi->trace.back().step, r.noise_floor.front());
    }
  }
  out += fmt::format("dim {}, true rank {}, steps {}, lr {}, noise {}, seed {}; {:.2f} s\n", p.dim,
                     p.true_rank, p.steps, p.lr, p.noise, p.seed, r.seconds);
  return out;
}

std::string noise_json(const NoiseResult& r) {
  const NoiseParams& p = r.params;
  nlohmann::ordered_json j;
  j["params"] = {{"dim", p.dim},     {"true_rank", p.true_rank},       {"ranks", p.ranks},
                 {"steps", p.steps}, {"record_every", p.record_every}, {"lr", p.lr},
                 {"noise", p.noise}, {"seed", p.seed},                 {"init_seed", p.init_seed}};
  j["noise_floor"] = numbers(r.noise_floor);
  j["runs"] = nlohmann::ordered_json::array();
  for (const NoiseRun& run : r.runs) {
    nlohmann::ordered_json trace = nlohmann::ordered_json::array();
    for (const NoisePoint& pt : run.trace) {
      trace.push_back({{"step", pt.step},
                       {"train_err", number_or_null(pt.train_err)},
                       {"held_out_err", number_or_null(pt.held_out_err)},
                       {"signal_err", number_or_null(pt.signal_err)},
                       {"trailing", numbers(pt.trailing)}});
    }
    j["runs"].push_back({{"rank", run.rank}, {"trace", trace}});
  }
  j["seconds"] = r.seconds;
  return j.dump(2) + "\n";
}

}  // namespace lorank
