#include "cli/rank_flags.h"

#include <fmt/core.h>

namespace lorank::cli {

void add_rank_flags(CLI::App* sub, RankFlags& f) {
  sub->add_option("--rank", f.rank, "Keep k directions per module (capped at the old rank, with a warning)");
  sub->add_option("--energy", f.energy, "Smallest k keeping this fraction of sum sigma^2 (PEFT's rule)");
  sub->add_option("--threshold", f.threshold, "Keep sigma_i >= T*sigma_1");
  sub->add_flag("--recommended", f.recommended, "The audit's default rule (threshold:0.01)");
  sub->add_option("--sv-ratio", f.sv_ratio, "kohya's sv_ratio: keep sigma_i > sigma_1/P, plus kohya's +1");
  sub->add_option("--sv-fro", f.sv_fro, "kohya's sv_fro: keep Frobenius fraction P, plus kohya's +1");
  sub->add_option("--sv-cumulative", f.sv_cumulative, "kohya's sv_cumulative: keep L1 fraction P, plus kohya's +1");
  sub->add_option("--rule", f.rule, "Any audit rank rule, e.g. kohya-fro:0.9 (docs/metrics.md)");
}

Result<RankRule> chosen_rule(const RankFlags& f, std::optional<RankRule> fallback) {
  int given = 0;
  std::string spec;
  if (f.rank) ++given, spec = fmt::format("fixed:{}", *f.rank);
  if (f.energy) ++given, spec = fmt::format("energy:{}", *f.energy);
  if (f.threshold) ++given, spec = fmt::format("threshold:{}", *f.threshold);
  if (f.recommended) ++given, spec = RankRule().to_string();
  if (f.sv_ratio) ++given, spec = fmt::format("kohya-ratio:{}", *f.sv_ratio);
  if (f.sv_fro) ++given, spec = fmt::format("kohya-fro:{}", *f.sv_fro);
  if (f.sv_cumulative) ++given, spec = fmt::format("kohya-cumulative:{}", *f.sv_cumulative);
  if (!f.rule.empty()) ++given, spec = f.rule;
  if (given == 0 && fallback) return *fallback;
  if (given != 1) {
    return invalid_argument("give exactly one of --rank, --energy, --threshold, --recommended, "
                            "--sv-ratio, --sv-fro, --sv-cumulative, --rule (got {})", given);
  }
  return RankRule::parse(spec);
}

}  // namespace lorank::cli
