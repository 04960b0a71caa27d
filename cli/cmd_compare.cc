// `lorank compare A B`: subspace similarity of two adapters' updates, module by module.
#include <fmt/core.h>

#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "lorank/terminal_text.h"
#include "lorank/adapter.h"
#include "lorank/compare.h"
#include "lorank/compare_report.h"

namespace lorank::cli {
namespace {

struct CompareFlags {
  std::string path_a;
  std::string path_b;
  std::optional<std::size_t> k;
  std::string side = "left";
  unsigned threads = 0;
  bool json = false;
};

int run(const CompareFlags& flags) {
  Result<Adapter> a = open_adapter(flags.path_a);
  if (!a) return report_failure(a.error());
  Result<Adapter> b = open_adapter(flags.path_b);
  if (!b) return report_failure(b.error());
  for (const std::string& w : a->warnings) fmt::print(stderr, "lorank: warning: A: {}\n", escape_for_terminal(w));
  for (const std::string& w : b->warnings) fmt::print(stderr, "lorank: warning: B: {}\n", escape_for_terminal(w));
  CompareOptions options;
  options.side = flags.side == "right" ? CompareSide::kRight : CompareSide::kLeft;
  options.k = flags.k;
  options.threads = flags.threads;
  Result<AdapterComparison> comparison = compare_adapters(*a, *b, options);
  if (!comparison) return report_failure(comparison.error());
  fmt::print("{}", flags.json ? compare_json(*a, *b, *comparison)
                              : compare_table(*a, *b, *comparison));
  return kExitOk;
}

}  // namespace

void register_compare(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<CompareFlags>();
  CLI::App* sub = app.add_subcommand(
      "compare", "Subspace similarity of two adapters on the same base (Hu et al. 2022, "
                 "section 7.2): phi(i, j) between the top-i and top-j singular directions "
                 "of each shared module's update, matched by module name.");
  sub->add_option("a", flags->path_a, "First adapter (folder or weights file)")->required();
  sub->add_option("b", flags->path_b, "Second adapter (folder or weights file)")->required();
  sub->add_option("--k", flags->k,
                  "k of the top-k overlap phi(k,k) (default: the smaller threshold rank "
                  "per module)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 31));
  sub->add_option("--side", flags->side,
                  "left: output-space directions (column space of B); right: input-space "
                  "directions (row space of A)")
      ->check(CLI::IsMember({"left", "right"}))
      ->capture_default_str();
  sub->add_option("--threads", flags->threads, "Worker threads (0 = one per core)")
      ->capture_default_str();
  sub->add_flag("--json", flags->json, "Print one JSON object with the full phi grids "
                                       "(schema in docs/cli.md)");
  registry.add(sub, [flags] { return run(*flags); });
}

}  // namespace lorank::cli
