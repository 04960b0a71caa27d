// `lorank combine A1 A2 ... -o OUT`: several adapters of one base as one, exactly (--cat)
// or as the best rank-k approximation of their weighted sum.
#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/rank_flags.h"
#include "lorank/adapter.h"
#include "lorank/combine.h"
#include "lorank/terminal_text.h"
#include "lorank/text_chart.h"

namespace lorank::cli {
namespace {

struct CombineFlags {
  std::vector<std::string> adapters;
  std::string out, dtype, snap = "none";
  std::optional<std::string> weights;  // given but empty is an error, not "all 1"
  RankFlags rank;
  std::optional<double> alpha;
  bool cat = false, sigma_in_b = false, overwrite = false, no_verify = false, json = false;
  unsigned threads = 0;
};

int run(const CombineFlags& f) {
  CombineOptions options;
  // No rule given: the audit's default (threshold:0.01), printed with the report.
  Result<RankRule> rule = chosen_rule(f.rank, RankRule());
  if (f.cat && chosen_rule(f.rank).has_value()) {
    return usage_error("--cat keeps every direction: give no rank rule with it");
  }
  if (!rule) return usage_error(rule.error().message());
  options.cat = f.cat;
  options.resize.rule = *rule;
  Result<Snap> snap = parse_snap(f.snap);
  if (!snap) return usage_error(snap.error().message());
  options.resize.snap = *snap;
  options.resize.sigma_in_b = f.sigma_in_b;
  options.resize.threads = f.threads;
  if (!f.dtype.empty()) {
    options.resize.dtype = parse_dtype(f.dtype);
    if (!options.resize.dtype || !is_convertible_float(*options.resize.dtype)) {
      return usage_error(fmt::format("--dtype must be F64, F32, F16 or BF16, got '{}'", f.dtype));
    }
  }
  if (f.weights) {
    Result<std::vector<double>> w = parse_decimal_list(*f.weights, "--weights");
    if (!w) return usage_error(w.error().message());
    options.weights = std::move(*w);
  }
  AdapterOptions adapter_options;
  adapter_options.alpha = f.alpha;
  std::vector<Adapter> adapters;
  for (const std::string& path : f.adapters) {
    Result<Adapter> a = open_adapter(path, adapter_options);
    if (!a) return report_failure(a.error());
    adapters.push_back(std::move(*a));
  }
  for (const Adapter& a : adapters) {  // the output must not destroy any input
    if (Status s = check_not_input(a, f.out); !s.ok()) return report_failure(s);
  }
  Result<CombineResult> result = combine_adapters(adapters, options);
  if (!result) return report_failure(result.error());
  for (const Adapter& a : adapters) print_messages(a.warnings, "warning");
  print_messages(result->warnings, "warning");
  print_messages(result->resized.warnings, "warning");
  print_messages(result->resized.notes, "note");
  const int written = write_verified_adapter(result->resized.adapter, f.out, f.overwrite, !f.no_verify,
                                              [&](const std::filesystem::path& temp) {
                                                return verify_resized(temp, result->resized, adapter_options);
                                              });
  if (written != kExitOk) return written;
  fmt::print("{}", f.json ? resize_json(result->resized) : resize_table(result->resized));
  return kExitOk;
}

}  // namespace

void register_combine(CLI::App& app, CommandRegistry& registry) {
  auto f = std::make_shared<CombineFlags>();
  CLI::App* sub = app.add_subcommand(
      "combine", "Combine adapters of one base into one: the weighted sum of their updates, "
                 "exactly (--cat) or its best rank-k approximation, from the stacked factors "
                 "(never a dense matrix), written in the first adapter's format. Without a rank flag "
                 "or --cat, the audit's rule threshold:0.01 chooses each rank.");
  sub->add_option("adapters", f->adapters, "Two or more adapter folders or weights files")
      ->required()->expected(2, -1);
  sub->add_option("-o,--out", f->out, "Output (PEFT/mlx: a folder; kohya/GGUF: a file). Never an input")
      ->required();
  sub->add_option("--weights", f->weights, "w1,w2,...: one weight per adapter (default all 1)");
  sub->add_flag("--cat", f->cat, "Keep every direction: rank = sum of the ranks, the sum exactly");
  add_rank_flags(sub, f->rank);
  sub->add_option("--snap", f->snap, "Round each new rank up to one servers accept: none, vllm, pow2")
      ->capture_default_str();
  sub->add_flag("--sigma-in-b", f->sigma_in_b, "Put the singular values in B instead of balancing them");
  sub->add_option("--dtype", f->dtype, "Dtype of the new factors (default: the first adapter's)");
  sub->add_option("--alpha", f->alpha, "Alpha for adapters that carry none (as in audit)");
  sub->add_flag("--overwrite", f->overwrite, "Replace an existing output lorank wrote (never an input)");
  sub->add_flag("--no-verify", f->no_verify, "Skip re-reading the output and checking its spectra");
  sub->add_option("--threads", f->threads, "Worker threads (0 = one per core)")->capture_default_str();
  sub->add_flag("--json", f->json, "Print the report as JSON");
  registry.add(sub, [f] { return run(*f); });
}

}  // namespace lorank::cli
