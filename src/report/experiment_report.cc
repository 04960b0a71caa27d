#include "lorank/experiment_report.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include "io/json_text.h"

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

// The sweep's reading, each clause said only when the cells support it: cells with r < k
// cannot fit; cells with r >= k either stay within kSettledGap of their optimum ("the error
// falls sharply at r = k and barely moves above it") or do not, and then the reading says so.
constexpr double kSettledGap = 0.01;

std::string sweep_reading(const SweepResult& r) {
  int under = 0, fitting = 0, fitting_settled = 0, at_optimum = 0, total = 0, diverged = 0;
  double worst_gap = 0.0;
  for (const SweepCell& c : r.cells) {
    if (!std::isfinite(c.rel_err)) {
      ++diverged;
      continue;
    }
    ++total;
    const double gap = c.rel_err - c.optimal_rel_err;
    const bool optimal = gap <= 0.01 * std::max(c.optimal_rel_err, 1e-3) + 1e-4;
    at_optimum += optimal ? 1 : 0;
    if (c.rank < c.true_rank) {
      ++under;
    } else {
      ++fitting;
      fitting_settled += std::abs(gap) <= kSettledGap ? 1 : 0;
      worst_gap = std::max(worst_gap, std::abs(gap));
    }
  }
  const std::string diverged_note =
      diverged ? fmt::format(" ({} diverged cells left out: lr too large)", diverged) : "";
  if (total == 0) return "\nReading: every cell diverged (lr too large); nothing to read.\n";
  std::string out = "\nReading: ";
  out += under ? fmt::format("{} of {} cells have r < k and cannot fit the signal (their optimum "
                             "is already large); ", under, total)
               : std::string("no cell has r < k; ");
  out += fmt::format("{} of {} cells reach their Eckart–Young optimum to 1%", at_optimum, total);
  if (fitting == 0) {
    out += "; no cell has r >= k, so none can fit the signal";
  } else {
    // "Barely moves" is absolute: a gap of 1e-2 of ‖T‖_F is far below what r < k loses.
    if (worst_gap <= kSettledGap) {
      out += fmt::format("; {} (largest gap to the optimum {:.4f})",
                         under ? "the error falls sharply at r = k and barely moves above it"
                               : "at r >= k the error stays at its optimum",
                         worst_gap);
    } else {
      out += fmt::format("; {} of the {} cells with r >= k stay more than {} above their "
                         "optimum (largest gap {:.4f}): the error has not settled at r = k",
                         fitting - fitting_settled, fitting, kSettledGap, worst_gap);
    }
  }
  return out + diverged_note + ".\n";
}

}  // namespace

std::string sweep_table(const SweepResult& r) {
  std::string out = grid(r, "final rel. error ‖T − B·A‖_F / ‖T‖_F", &SweepCell::rel_err);
  out += '\n';
  out += grid(r, "Eckart–Young optimum (best any rank-r matrix can do)", &SweepCell::optimal_rel_err);
  out += sweep_reading(r);
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
  return io::dump_json(j) + "\n";
}

namespace {

std::string range_text(const std::vector<double>& v) {
  if (v.empty()) return "-";
  return fmt::format("{:.3f}..{:.3f}", v.front(), v.back());
}

nlohmann::ordered_json ordered_numbers(const std::vector<double>& v) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (double x : v) a.push_back(number_or_null(x));
  return a;
}

// How a number moved, in words that match it.
std::string moved(double from, double to) {
  if (!std::isfinite(from) || !std::isfinite(to)) return "is not finite";
  if (to < from) return "falls";
  if (to > from) return "rises";
  return "stays";
}

// The noise experiment's reading. Its conclusion, that the extra directions fit the noise
// and not the task, is drawn only when the numbers show it: there is noise, the highest rank
// exceeds the true rank, the training error falls while the held-out error or the distance
// to the signal rises. The trailing directions "learn the noise" only if they grow.
std::string noise_reading(const NoiseResult& r, const NoiseRun* lo, const NoiseRun* hi) {
  const NoiseParams& p = r.params;
  if (!lo || !hi) return "\nReading: no run recorded a trace; nothing to read.\n";
  if (lo == hi) {
    return fmt::format("\nReading: one rank only (r = {}); give two or more --ranks to compare "
                       "what extra rank learns.\n", lo->rank);
  }
  const NoisePoint& a = lo->trace.back();
  const NoisePoint& b = hi->trace.back();
  std::string out = fmt::format(
      "\nReading: from r = {} to r = {} the training error {} {:.5f} -> {:.5f}, the held-out "
      "error {} {:.5f} -> {:.5f} and the distance to the true signal {} {:.5f} -> {:.5f}",
      lo->rank, hi->rank, moved(a.train_err, b.train_err), a.train_err, b.train_err,
      moved(a.held_out_err, b.held_out_err), a.held_out_err, b.held_out_err,
      moved(a.signal_err, b.signal_err), a.signal_err, b.signal_err);
  const bool noisy = p.noise > 0.0;
  const bool over = hi->rank > p.true_rank;
  const bool overfits = b.train_err < a.train_err &&
                        (b.held_out_err > a.held_out_err || b.signal_err > a.signal_err);
  if (!noisy) {
    out += ": with no noise (--noise 0) there is nothing but the signal to fit.\n";
  } else if (!over) {
    out += fmt::format(": no rank here exceeds the true rank {}, so none has extra directions "
                       "to spend on the noise.\n", p.true_rank);
  } else if (overfits) {
    out += ": the extra directions fit this draw of the noise, not the task.\n";
  } else {
    out += ": the extra rank does not make the fit worse on fresh noise here.\n";
  }
  const std::vector<double>& first = hi->trace.front().trailing;
  const std::vector<double>& last = hi->trace.back().trailing;
  if (over && !first.empty() && !last.empty()) {
    const std::string growth = fmt::format(
        "At r = {} the directions beyond k = {} {} from {:.3f} (step {}) to {:.3f} (step {})",
        hi->rank, p.true_rank, last.front() > first.front()   ? "grow"
        : last.front() < first.front() ? "shrink"
                                       : "stay",
        first.front(), hi->trace.front().step, last.front(), hi->trace.back().step);
    if (noisy && !r.noise_floor.empty() && last.front() > first.front()) {
      out += growth + fmt::format(", toward the noise matrix's own top singular values ({:.3f}, "
                                  "...): they are not driven to zero, they slowly learn the "
                                  "noise.\n", r.noise_floor.front());
    } else {
      out += growth + (noisy ? ": they do not learn the noise in these steps.\n"
                             : ": with no noise there is nothing for them to learn.\n");
    }
  }
  return out;
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
  out += noise_reading(r, lo, hi);
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
  j["noise_floor"] = ordered_numbers(r.noise_floor);
  j["runs"] = nlohmann::ordered_json::array();
  for (const NoiseRun& run : r.runs) {
    nlohmann::ordered_json trace = nlohmann::ordered_json::array();
    for (const NoisePoint& pt : run.trace) {
      trace.push_back({{"step", pt.step},
                       {"train_err", number_or_null(pt.train_err)},
                       {"held_out_err", number_or_null(pt.held_out_err)},
                       {"signal_err", number_or_null(pt.signal_err)},
                       {"trailing", ordered_numbers(pt.trailing)}});
    }
    j["runs"].push_back({{"rank", run.rank}, {"trace", trace}});
  }
  j["seconds"] = r.seconds;
  return io::dump_json(j) + "\n";
}

namespace {

const char* optimizer_name(Optimizer o) { return o == Optimizer::kAdam ? "adam" : "sgd"; }

// Rows rule × lr, columns r, cells from `cell` (which returns the text of one run).
template <typename Cell>
std::string run_grid(const ScalingResult& r, Optimizer opt, const std::string& title, Cell cell) {
  std::string out = fmt::format("{}, {}:\n{:>18}", title, optimizer_name(opt), "rule / lr \\ r");
  for (int rank : r.params.ranks) out += fmt::format("  {:>8}", rank);
  out += '\n';
  std::string row_key;
  for (const ScalingRun& run : r.runs) {
    if (run.optimizer != opt) continue;
    const std::string key = fmt::format("{} {:g}", scale_rule_name(run.rule), run.lr);
    if (key != row_key) {
      if (!row_key.empty()) out += '\n';
      out += fmt::format("{:>18}", key);
      row_key = key;
    }
    out += fmt::format("  {:>8}", cell(run));
  }
  return out + "\n";
}

std::string loss_grid(const ScalingResult& r, Optimizer opt, bool test) {
  return run_grid(r, opt, test ? "test MSE" : "final training MSE", [test](const ScalingRun& run) {
    return run.diverged ? std::string("div")
                        : fmt::format("{:.4f}", test ? run.test_loss : run.final_loss);
  });
}

std::string speed_grid(const ScalingResult& r, Optimizer opt) {
  return run_grid(r, opt, "steps to reach 1.5x the noise floor", [](const ScalingRun& run) {
    return run.diverged ? std::string("div")
           : run.steps_to_fit < 0 ? std::string("-")
                                  : fmt::format("{}", run.steps_to_fit);
  });
}

}  // namespace

std::string scaling_table(const ScalingResult& r) {
  const ScalingParams& p = r.params;
  std::string out;
  for (Optimizer opt : {Optimizer::kAdam, Optimizer::kGradientDescent}) {
    out += speed_grid(r, opt) + '\n';
    out += loss_grid(r, opt, false) + '\n';
  }
  out += loss_grid(r, Optimizer::kAdam, true) + '\n';
  out += fmt::format("untouched layer: {:.4f}; the true ΔW* (noise floor): {:.4f}\n",
                     r.initial_loss, r.noise_loss);
  // Reading: per optimizer and rule, how the speed of learning changes with r at the smallest
  // learning rate where both the first fitting rank and the largest rank fit; then where and
  // why training diverged.
  out += "\nReading:\n";
  for (Optimizer opt : {Optimizer::kAdam, Optimizer::kGradientDescent}) {
    for (ScaleRule rule : p.rules) {
      // With one rank there is no "smallest fitting rank and the largest" to compare.
      std::string verdict =
          p.ranks.size() < 2
              ? fmt::format("one rank only (r = {}): give two or more --ranks to compare speeds",
                            p.ranks.empty() ? 0 : p.ranks.front())
              : "no learning rate fits both the smallest fitting rank and the largest";
      for (double lr : opt == Optimizer::kAdam ? p.adam_lrs : p.sgd_lrs) {
        const ScalingRun* first = nullptr;
        const ScalingRun* last = nullptr;
        for (const ScalingRun& run : r.runs) {
          if (run.optimizer != opt || run.rule != rule || run.lr != lr || run.steps_to_fit < 0) continue;
          if (!first) first = &run;
          last = &run;
        }
        if (first && last != first && last->rank == p.ranks.back()) {
          verdict = fmt::format("lr {:g}: {} steps at r = {} -> {} steps at r = {} ({:.2f}x)", lr,
                                first->steps_to_fit, first->rank, last->steps_to_fit, last->rank,
                                static_cast<double>(last->steps_to_fit) / first->steps_to_fit);
          break;
        }
      }
      out += fmt::format("  {:>4} {:>8}: {}\n", optimizer_name(opt), scale_rule_name(rule), verdict);
    }
  }
  std::string diverged;
  for (const ScalingRun& run : r.runs) {
    if (!run.diverged) continue;
    diverged += fmt::format("\n    {} {} lr {:g} at r = {} (s = {:.3g}, lr*s^2 = {:.3g})",
                            optimizer_name(run.optimizer), scale_rule_name(run.rule), run.lr,
                            run.rank, run.scale, run.lr * run.scale * run.scale);
  }
  out += diverged.empty() ? "  no run diverged\n" : "  diverged:" + diverged + "\n";
  out += fmt::format("dim {}, true rank {}, {} samples, noise {}, alpha {}, seed {}; {:.2f} s\n",
                     p.dim, p.true_rank, p.samples, p.noise, p.alpha, p.seed, r.seconds);
  return out;
}

std::string scaling_json(const ScalingResult& r) {
  const ScalingParams& p = r.params;
  nlohmann::ordered_json j;
  std::vector<std::string> rules;
  for (ScaleRule rule : p.rules) rules.emplace_back(scale_rule_name(rule));
  j["params"] = {{"dim", p.dim},         {"true_rank", p.true_rank}, {"samples", p.samples},
                 {"noise", p.noise},     {"alpha", p.alpha},         {"ranks", p.ranks},
                 {"adam_lrs", p.adam_lrs}, {"sgd_lrs", p.sgd_lrs},   {"rules", rules},
                 {"steps", p.steps},     {"seed", p.seed}};
  j["initial_loss"] = r.initial_loss;
  j["noise_loss"] = r.noise_loss;
  j["runs"] = nlohmann::ordered_json::array();
  for (const ScalingRun& run : r.runs) {
    nlohmann::ordered_json curve = nlohmann::ordered_json::array();
    for (const auto& [step, loss] : run.curve) curve.push_back({step, number_or_null(loss)});
    j["runs"].push_back({{"rule", scale_rule_name(run.rule)},
                         {"optimizer", optimizer_name(run.optimizer)},
                         {"rank", run.rank},
                         {"lr", run.lr},
                         {"scale", run.scale},
                         {"final_loss", number_or_null(run.final_loss)},
                         {"test_loss", number_or_null(run.test_loss)},
                         {"diverged", run.diverged},
                         {"steps_to_fit", run.steps_to_fit < 0 ? nlohmann::ordered_json(nullptr)
                                                                : nlohmann::ordered_json(run.steps_to_fit)},
                         {"curve", curve}});
  }
  j["seconds"] = r.seconds;
  return io::dump_json(j) + "\n";
}

namespace {

// φ(k,k) this close to 1 is "the same subspace" in the reading; below it, the reading says
// the subspaces differ instead of claiming they coincide.
constexpr double kCoincide = 0.9;

std::string similarity_reading(const SimilarityResult& r) {
  const SimilarityParams& p = r.params;
  double worst = 1.0;
  std::size_t finite = 0, diverged = 0;
  for (const SimilarityRow& row : r.rows) {
    const double top = row.diagonal.empty() ? std::nan("") : row.diagonal.back();
    if (!std::isfinite(top)) {
      ++diverged;
      continue;
    }
    ++finite;
    worst = std::min(worst, top);
  }
  const char* side = p.right ? "right (input-side)" : "left (output-side)";
  if (finite == 0) return "\nReading: every fit diverged (lr too large); nothing to read.\n";
  std::string out;
  if (worst >= kCoincide) {
    out = fmt::format(
        "\nReading: the top-k {} singular directions learned at r = k and at r = {}·k coincide "
        "(every φ(k,k) ≥ {:.6f}; unrelated subspaces would give k/dim): extra rank does not "
        "change what is learned, it only adds directions {} (Hu et al. 2022, §7.2)",
        side, p.factor, worst, p.noise > 0.0 ? "at the noise floor" : "near zero (no noise)");
  } else {
    out = fmt::format(
        "\nReading: the top-k {} singular directions learned at r = k and at r = {}·k differ "
        "(the lowest φ(k,k) is {:.6f}, below {}; unrelated subspaces would give k/dim): here the "
        "extra rank changes what is learned",
        side, p.factor, worst, kCoincide);
  }
  if (diverged) out += fmt::format("; {} diverged fit(s) left out", diverged);
  return out + ".\n";
}

}  // namespace

std::string similarity_table(const SimilarityResult& r) {
  const SimilarityParams& p = r.params;
  std::string out = fmt::format("{:>4}  {:>9}  {:>10}  {:>11}  {:>8}  {}\n", "k", "r vs r'",
                                "phi(k,k)", "1-phi(k,k)", "chance", "phi(i,i), i = 1..k");
  for (const SimilarityRow& row : r.rows) {
    std::string diag;
    for (double v : row.diagonal) diag += fmt::format(" {:.6f}", v);
    const double top = row.diagonal.empty() ? 0.0 : row.diagonal.back();
    out += fmt::format("{:>4}  {:>9}  {:>10.6f}  {:>11.2e}  {:>8.4f} {}\n", row.true_rank,
                       fmt::format("{} vs {}", row.rank_small, row.rank_large), top, 1.0 - top,
                       row.chance, diag);
  }
  out += similarity_reading(r);
  out += fmt::format("dim {}, steps {}, lr {}, noise {}, seed {}; {:.2f} s\n", p.dim, p.steps, p.lr,
                     p.noise, p.seed, r.seconds);
  return out;
}

std::string similarity_json(const SimilarityResult& r) {
  const SimilarityParams& p = r.params;
  nlohmann::ordered_json j;
  j["params"] = {{"dim", p.dim},   {"true_ranks", p.true_ranks}, {"factor", p.factor},
                 {"steps", p.steps}, {"lr", p.lr},               {"noise", p.noise},
                 {"seed", p.seed}, {"init_seed", p.init_seed},   {"side", p.right ? "right" : "left"}};
  j["rows"] = nlohmann::ordered_json::array();
  for (const SimilarityRow& row : r.rows) {
    j["rows"].push_back({{"true_rank", row.true_rank},
                         {"rank_small", row.rank_small},
                         {"rank_large", row.rank_large},
                         {"diagonal", ordered_numbers(row.diagonal)},
                         {"principal_cosines", ordered_numbers(row.principal_cosines)},
                         {"chance", row.chance}});
  }
  j["seconds"] = r.seconds;
  return io::dump_json(j) + "\n";
}

}  // namespace lorank
