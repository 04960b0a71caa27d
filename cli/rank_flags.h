// The flags that choose a rank per module, shared by `resize` and `combine`: exactly one
// of --rank, --energy, --threshold, --recommended, kohya's --sv-* shorthands, or --rule.
#ifndef LORANK_CLI_RANK_FLAGS_H_
#define LORANK_CLI_RANK_FLAGS_H_

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "lorank/rank.h"
#include "lorank/status.h"

namespace lorank::cli {

struct RankFlags {
  std::string rule;
  std::optional<int> rank;
  std::optional<double> energy, threshold, sv_ratio, sv_fro, sv_cumulative;
  bool recommended = false;
};

void add_rank_flags(CLI::App* sub, RankFlags& flags);

// The one rule given, spelled as a rank rule; with none given, `fallback` if set, else
// kInvalidArgument listing the flags (as also for two or more).
Result<RankRule> chosen_rule(const RankFlags& flags, std::optional<RankRule> fallback = std::nullopt);

}  // namespace lorank::cli

#endif  // LORANK_CLI_RANK_FLAGS_H_
