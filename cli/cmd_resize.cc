// `lorank resize IN -o OUT`: right-size an adapter by truncated SVD, in its own format.
#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/rank_flags.h"
#include "lorank/terminal_text.h"
#include "lorank/adapter.h"
#include "lorank/resize.h"
#include "lorank/text_chart.h"

namespace lorank::cli {
namespace {

struct ResizeFlags {
  std::string in, out, dtype, snap = "none";
  RankFlags rank;
  std::optional<double> alpha;
  bool sigma_in_b = false, dry_run = false, overwrite = false;
  bool no_verify = false, json = false;
  unsigned threads = 0;
};

// Verifies the hidden temp output against the resize. LORANK_TEST_BREAK_VERIFY=1 (for
// tests only, documented in docs/cli.md) doubles every expected sigma first, so that a CLI
// test can watch a failed verification leave nothing at OUT, without damaging any file.
Status verify_temp(const std::filesystem::path& temp, const ResizeResult& result,
                   const AdapterOptions& options) {
  const char* hook = std::getenv("LORANK_TEST_BREAK_VERIFY");
  if (hook == nullptr || std::string_view(hook) != "1") return verify_resized(temp, result, options);
  ResizeResult expected = result;
  for (ResizeModule& m : expected.modules) {
    for (double& s : m.singular_values) s *= 2;
  }
  return verify_resized(temp, expected, options);
}

int run(const ResizeFlags& f) {
  Result<RankRule> rule = chosen_rule(f.rank);
  if (!rule) return usage_error(rule.error().message());
  ResizeOptions options;
  options.rule = *rule;
  Result<Snap> snap = parse_snap(f.snap);
  if (!snap) return usage_error(snap.error().message());
  options.snap = *snap;
  options.sigma_in_b = f.sigma_in_b;
  options.threads = f.threads;
  if (!f.dtype.empty()) {
    options.dtype = parse_dtype(f.dtype);
    if (!options.dtype || !is_convertible_float(*options.dtype)) {
      return usage_error(fmt::format("--dtype must be F64, F32, F16 or BF16, got '{}'", f.dtype));
    }
  }
  if (f.out.empty() && !f.dry_run) return usage_error("-o/--out is required (or --dry-run)");
  AdapterOptions adapter_options;
  adapter_options.alpha = f.alpha;
  Result<Adapter> adapter = open_adapter(f.in, adapter_options);
  if (!adapter) return report_failure(adapter.error());
  // Calls are serialised by resize_adapter, so the bar sees one update at a time.
  ProgressBar bar(stderr, "resize", adapter->modules.size());
  options.progress = [&bar](std::size_t done, std::size_t) { bar.update(done); };
  Result<ResizeResult> result = resize_adapter(*adapter, options);
  bar.finish();
  if (!result) return report_failure(result.error());
  // Keeping every rank is still useful when it converts the factors' dtype.
  bool converts = false;
  for (const LoraModule& m : adapter->modules) {
    converts = converts || (options.dtype && (m.A.dtype != *options.dtype || m.B.dtype != *options.dtype));
  }
  if (result->keeps_every_rank() && !converts) {
    return usage_error(fmt::format(
        "nothing to resize: under {}{} every module of '{}' keeps its rank, so the output would "
        "be a full-rank copy; choose a smaller rank (or a --dtype to convert to)", options.rule.to_string(),
        options.snap == Snap::kNone ? "" : fmt::format(" with --snap {}", snap_name(options.snap)),
        f.in));
  }
  print_messages(adapter->warnings, "warning");
  print_messages(result->warnings, "warning");
  print_messages(result->notes, "note");
  if (!f.dry_run) {
    AdapterWriteOptions write_options;
    write_options.overwrite = f.overwrite;
    if (!f.no_verify) {
      // Verified in the hidden temp, before the rename: a failed check leaves nothing at OUT.
      write_options.before_publish = [&](const std::filesystem::path& temp) {
        return verify_temp(temp, *result, adapter_options);
      };
    }
    if (Status s = write_adapter(result->adapter, f.out, write_options); !s.ok()) {
      return report_failure(s);
    }
  }
  fmt::print("{}", f.json ? resize_json(*result) : resize_table(*result));
  if (f.dry_run) fmt::print(stderr, "lorank: dry run: nothing written\n");
  return kExitOk;
}

}  // namespace

void register_resize(CLI::App& app, CommandRegistry& registry) {
  auto f = std::make_shared<ResizeFlags>();
  CLI::App* sub = app.add_subcommand(
      "resize", "Right-size an adapter without retraining: the best rank-k approximation of "
                "every module (truncated SVD from the factors), written in the input's format.");
  sub->add_option("in", f->in, "Adapter folder or weights file")->required();
  sub->add_option("-o,--out", f->out, "Output (PEFT: a folder; kohya/GGUF: a file). Never the input");
  add_rank_flags(sub, f->rank);
  sub->add_option("--snap", f->snap, "Round each new rank up to one servers accept: none, vllm, pow2")
      ->capture_default_str();
  sub->add_flag("--sigma-in-b", f->sigma_in_b, "Put the singular values in B (PEFT/kohya convention) "
                                               "instead of balancing them");
  sub->add_option("--dtype", f->dtype, "Dtype of the new factors (default: the input's)");
  sub->add_option("--alpha", f->alpha, "Alpha for adapters that carry none (as in audit; a warning when the file overrides it)");
  sub->add_flag("--dry-run", f->dry_run, "Print the plan, write nothing");
  sub->add_flag("--overwrite", f->overwrite, "Replace an existing output lorank wrote: same-format file, or a folder of adapter files only (never the input)");
  sub->add_flag("--no-verify", f->no_verify, "Skip re-reading the output and checking its spectra");
  sub->add_option("--threads", f->threads, "Worker threads (0 = one per core)")->capture_default_str();
  sub->add_flag("--json", f->json, "Print the report as JSON");
  registry.add(sub, [f] { return run(*f); });
}

}  // namespace lorank::cli
