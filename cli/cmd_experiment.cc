// `lorank experiment ...`: the rank laboratory (docs/experiments.md).
#include <fmt/core.h>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "lorank/experiment.h"
#include "lorank/experiment_html.h"
#include "lorank/experiment_report.h"
#include "lorank/files.h"

namespace lorank::cli {
namespace {

// Flags every demo-based experiment shares (the demo's target and training setup).
template <typename Params>
void add_fit_flags(CLI::App* sub, Params& p) {
  sub->add_option("--steps", p.steps, "Gradient steps per fit")->capture_default_str();
  sub->add_option("--lr", p.lr, "Learning rate")->capture_default_str();
  sub->add_option("--noise", p.noise, "Noise-floor scale")->capture_default_str();
  sub->add_option("--seed", p.seed, "Target seed (np.random.seed)")->capture_default_str();
  sub->add_option("--init-seed", p.init_seed, "Seed of A's init (default_rng)")
      ->capture_default_str();
}

// Flags every experiment shares: threads and outputs.
void add_output_flags(CLI::App* sub, unsigned& threads, bool& json, std::string& html) {
  sub->add_option("--threads", threads, "Threads (0 = one per core)")->capture_default_str();
  sub->add_flag("--json", json, "Print one JSON object");
  sub->add_option("--html", html, "Also write a self-contained HTML page with the plots");
}

struct SweepFlags {
  std::string html;
  SweepParams params;
  std::string true_ranks = "1,2,4,8,16";
  std::string ranks = "1,2,4,8,16,32";
  bool json = false;
};

int run_sweep_command(SweepFlags& flags) {
  Result<std::vector<int>> k = parse_int_list(flags.true_ranks, "--true-ranks");
  if (!k) return usage_error(k.error().message());
  Result<std::vector<int>> r = parse_int_list(flags.ranks, "--ranks");
  if (!r) return usage_error(r.error().message());
  flags.params.true_ranks = *k;
  flags.params.ranks = *r;
  if (Status s = validate(flags.params); !s.ok()) return usage_error(s.message());
  Result<SweepResult> result = run_sweep(flags.params);
  if (!result) return report_failure(result.error());
  if (!flags.html.empty()) {
    if (Status s = write_text_file(flags.html, sweep_html(*result), true); !s.ok()) return report_failure(s);
  }
  fmt::print("{}", flags.json ? sweep_json(*result) : sweep_table(*result));
  return kExitOk;
}

void register_sweep(CLI::App& experiment, CommandRegistry& registry) {
  auto flags = std::make_shared<SweepFlags>();
  SweepParams& p = flags->params;
  CLI::App* sub = experiment.add_subcommand(
      "sweep", "True rank k × allocated rank r on the demo's setup: final error of every cell "
               "beside its Eckart–Young optimum, so the phase boundary r = k is visible.");
  sub->add_option("--dim", p.dim, "Target size: dim×dim")->capture_default_str();
  sub->add_option("--true-ranks", flags->true_ranks, "Comma-separated true ranks k")
      ->capture_default_str();
  sub->add_option("--ranks", flags->ranks, "Comma-separated allocated ranks r")
      ->capture_default_str();
  add_fit_flags(sub, p);
  add_output_flags(sub, p.threads, flags->json, flags->html);
  registry.add(sub, [flags] { return run_sweep_command(*flags); });
}

struct NoiseFlags {
  std::string html;
  NoiseParams params;
  std::string ranks = "4,8,16,32";
  bool json = false;
};

int run_noise_command(NoiseFlags& flags) {
  Result<std::vector<int>> r = parse_int_list(flags.ranks, "--ranks");
  if (!r) return usage_error(r.error().message());
  flags.params.ranks = *r;
  if (Status s = validate(flags.params); !s.ok()) return usage_error(s.message());
  Result<NoiseResult> result = run_noise(flags.params);
  if (!result) return report_failure(result.error());
  if (!flags.html.empty()) {
    if (Status s = write_text_file(flags.html, noise_html(*result), true); !s.ok()) return report_failure(s);
  }
  fmt::print("{}", flags.json ? noise_json(*result) : noise_table(*result));
  return kExitOk;
}

void register_noise(CLI::App& experiment, CommandRegistry& registry) {
  auto flags = std::make_shared<NoiseFlags>();
  NoiseParams& p = flags->params;
  CLI::App* sub = experiment.add_subcommand(
      "noise", "What over-allocated directions learn: the trailing singular values of B·A over "
               "training against the noise's own spectrum, and the error on a held-out target "
               "(same signal, fresh noise).");
  sub->add_option("--dim", p.dim, "Target size: dim×dim")->capture_default_str();
  sub->add_option("--true-rank", p.true_rank, "Intrinsic rank k")->capture_default_str();
  sub->add_option("--ranks", flags->ranks, "Comma-separated allocated ranks")->capture_default_str();
  sub->add_option("--record-every", p.record_every, "Trace every N steps")->capture_default_str();
  add_fit_flags(sub, p);
  add_output_flags(sub, p.threads, flags->json, flags->html);
  registry.add(sub, [flags] { return run_noise_command(*flags); });
}

struct ScalingFlags {
  std::string html;
  ScalingParams params;
  std::string ranks = "1,2,4,8,16,32,64";
  bool json = false;
};

int run_scaling_command(ScalingFlags& flags) {
  Result<std::vector<int>> r = parse_int_list(flags.ranks, "--ranks");
  if (!r) return usage_error(r.error().message());
  flags.params.ranks = *r;
  if (Status s = validate(flags.params); !s.ok()) return usage_error(s.message());
  Result<ScalingResult> result = run_scaling(flags.params);
  if (!result) return report_failure(result.error());
  if (!flags.html.empty()) {
    if (Status s = write_text_file(flags.html, scaling_html(*result), true); !s.ok()) return report_failure(s);
  }
  fmt::print("{}", flags.json ? scaling_json(*result) : scaling_table(*result));
  return kExitOk;
}

void register_scaling(CLI::App& experiment, CommandRegistry& registry) {
  auto flags = std::make_shared<ScalingFlags>();
  ScalingParams& p = flags->params;
  CLI::App* sub = experiment.add_subcommand(
      "scaling", "The alpha/r question: LoRA on a linear layer trained from data under s = alpha/r, "
                 "alpha = r and rsLoRA's alpha/sqrt(r), with Adam and SGD at several learning rates.");
  sub->add_option("--dim", p.dim, "Layer size (in = out = dim)")->capture_default_str();
  sub->add_option("--true-rank", p.true_rank, "Rank of the true update")->capture_default_str();
  sub->add_option("--samples", p.samples, "Training samples")->capture_default_str();
  sub->add_option("--noise", p.noise, "Label noise sigma")->capture_default_str();
  sub->add_option("--alpha", p.alpha, "alpha for the standard and rslora rules")->capture_default_str();
  sub->add_option("--ranks", flags->ranks, "Comma-separated ranks")->capture_default_str();
  sub->add_option("--adam-lrs", p.adam_lrs, "Adam learning rates")->delimiter(',')->capture_default_str();
  sub->add_option("--sgd-lrs", p.sgd_lrs, "SGD learning rates")->delimiter(',')->capture_default_str();
  sub->add_option("--steps", p.steps, "Full-batch steps per run")->capture_default_str();
  sub->add_option("--seed", p.seed, "Seed of the data and inits")->capture_default_str();
  add_output_flags(sub, p.threads, flags->json, flags->html);
  registry.add(sub, [flags] { return run_scaling_command(*flags); });
}

struct SimilarityFlags {
  std::string html;
  SimilarityParams params;
  std::string true_ranks = "2,4,8";
  std::string side = "left";
  bool json = false;
};

int run_similarity_command(SimilarityFlags& flags) {
  Result<std::vector<int>> k = parse_int_list(flags.true_ranks, "--true-ranks");
  if (!k) return usage_error(k.error().message());
  flags.params.true_ranks = *k;
  if (flags.side != "left" && flags.side != "right") {
    return usage_error(fmt::format("--side must be left or right, got '{}'", flags.side));
  }
  flags.params.right = flags.side == "right";
  if (Status s = validate(flags.params); !s.ok()) return usage_error(s.message());
  Result<SimilarityResult> result = run_similarity(flags.params);
  if (!result) return report_failure(result.error());
  if (!flags.html.empty()) {
    if (Status s = write_text_file(flags.html, similarity_html(*result), true); !s.ok()) return report_failure(s);
  }
  fmt::print("{}", flags.json ? similarity_json(*result) : similarity_table(*result));
  return kExitOk;
}

void register_similarity(CLI::App& experiment, CommandRegistry& registry) {
  auto flags = std::make_shared<SimilarityFlags>();
  SimilarityParams& p = flags->params;
  CLI::App* sub = experiment.add_subcommand(
      "similarity", "Hu et al. 2022 §7.2 on our fits: normalised subspace similarity of the top "
                    "directions learned at r = k and r = factor·k.");
  sub->add_option("--dim", p.dim, "Target size: dim×dim")->capture_default_str();
  sub->add_option("--true-ranks", flags->true_ranks, "Comma-separated true ranks k")
      ->capture_default_str();
  sub->add_option("--factor", p.factor, "The larger fit's rank is factor·k")->capture_default_str();
  add_fit_flags(sub, p);
  sub->add_option("--side", flags->side, "left (output space, B) or right (input space, A)")
      ->capture_default_str();
  add_output_flags(sub, p.threads, flags->json, flags->html);
  registry.add(sub, [flags] { return run_similarity_command(*flags); });
}

}  // namespace

void register_experiment(CLI::App& app, CommandRegistry& registry) {
  CLI::App* experiment = app.add_subcommand(
      "experiment", "The rank laboratory: the explainer's claims as experiments you can rerun");
  experiment->require_subcommand(1);
  register_sweep(*experiment, registry);
  register_noise(*experiment, registry);
  register_scaling(*experiment, registry);
  register_similarity(*experiment, registry);
}

}  // namespace lorank::cli
