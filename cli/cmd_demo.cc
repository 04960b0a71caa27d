// `lorank demo`: the explainer's rank experiment (parse → run_demo → print).
#include <fmt/core.h>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "lorank/demo.h"
#include "lorank/demo_report.h"

namespace lorank::cli {
namespace {

struct DemoFlags {
  DemoParams params;
  std::string ranks = "2,4,16";
  bool json = false;
};

int run(DemoFlags& flags) {
  Result<std::vector<int>> ranks = parse_int_list(flags.ranks, "--ranks");
  if (!ranks) return usage_error(ranks.error().message());
  flags.params.ranks = *ranks;
  if (Status s = validate(flags.params); !s.ok()) return usage_error(s.message());
  Result<DemoResult> result = run_demo(flags.params);
  if (!result) return report_failure(result.error());
  if (flags.json) {
    fmt::print("{}", demo_json(*result));
  } else {
    fmt::print("{}{}", demo_table(*result), demo_reading(*result));
  }
  return kExitOk;
}

}  // namespace

void register_demo(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<DemoFlags>();
  DemoParams& p = flags->params;
  CLI::App* sub = app.add_subcommand(
      "demo",
      "Reproduce the explainer's rank demo: fit LoRA factors B·A at several ranks to a target "
      "of intrinsic rank k plus a noise floor, and print the spectrum of each trained B·A.");
  sub->add_option("--dim", p.dim, "Target size: the target is dim×dim")->capture_default_str();
  sub->add_option("--true-rank", p.true_rank, "Intrinsic rank k of the target's signal")
      ->capture_default_str();
  sub->add_option("--ranks", flags->ranks, "Comma-separated allocated LoRA ranks, each in 1..dim")
      ->capture_default_str();
  sub->add_option("--steps", p.steps, "Full-batch gradient-descent steps per rank")
      ->capture_default_str();
  sub->add_option("--lr", p.lr, "Learning rate")->capture_default_str();
  sub->add_option("--noise", p.noise, "Scale of the Gaussian noise floor added to the target")
      ->capture_default_str();
  sub->add_option("--seed", p.seed, "Seed of the target (np.random.seed; 0..4294967295)")
      ->capture_default_str();
  sub->add_option("--init-seed", p.init_seed,
                  "Seed of A's initialisation (np.random.default_rng; >= 0)")
      ->capture_default_str();
  sub->add_option("--threads", p.threads, "Threads over ranks (0 = one per core)")
      ->capture_default_str();
  sub->add_flag("--json", flags->json, "Print one JSON object instead of the table");
  registry.add(sub, [flags] { return run(*flags); });
}

}  // namespace lorank::cli
