// `lorank extract BASE FINETUNED -o OUT`: a full fine-tune turned into a LoRA adapter, each
// ΔW's rank by rule, its singular values certified (docs/extract.md).
#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/rank_flags.h"
#include "lorank/checkpoint.h"
#include "lorank/extract.h"
#include "lorank/files.h"
#include "lorank/text_chart.h"

namespace lorank::cli {
namespace {

struct ExtractFlags {
  std::string base, finetuned, out, dtype = "F32", include, exclude, format = "peft", html;
  RankFlags rank;
  std::optional<std::size_t> max_rank;
  double tolerance = 1e-3;
  std::uint64_t seed = 0;
  bool embeddings = false, keep_full = false, overwrite = false, no_verify = false, json = false;
};

int run(const ExtractFlags& f) {
  ExtractOptions options;
  Result<RankRule> rule = chosen_rule(f.rank);
  if (!rule) return usage_error(rule.error().message());
  options.rule = *rule;
  options.max_rank = f.max_rank;
  options.tolerance = f.tolerance;
  options.include = f.include;
  options.exclude = f.exclude;
  options.embeddings = f.embeddings;
  options.keep_full = f.keep_full;
  options.seed = f.seed;
  const std::optional<DType> dtype = parse_dtype(f.dtype);
  if (!dtype || !is_convertible_float(*dtype)) {
    return usage_error(fmt::format("--dtype must be F64, F32, F16 or BF16, got '{}'", f.dtype));
  }
  options.dtype = *dtype;
  if (f.format != "peft" && f.format != "gguf" && f.format != "mlx") {
    return usage_error(fmt::format("--format must be peft, gguf or mlx, got '{}'", f.format));
  }
  options.format = f.format == "gguf"  ? AdapterFormat::kGguf
                   : f.format == "mlx" ? AdapterFormat::kMlx
                                       : AdapterFormat::kPeft;
  if (f.out.empty()) return usage_error("-o: the output path is empty");
  Result<Checkpoint> base = Checkpoint::open(f.base);
  if (!base) return report_failure(base.error());
  Result<Checkpoint> tuned = Checkpoint::open(f.finetuned);
  if (!tuned) return report_failure(tuned.error());
  if (Status s = check_not_extract_input(*base, *tuned, f.out); !s.ok()) return report_failure(s);
  if (!f.html.empty()) {
    if (Status s = check_not_extract_input(*base, *tuned, f.html); !s.ok()) return report_failure(s);
  }
  ProgressBar bar(stderr, "extract", base->tensors().size());
  options.progress = [&bar](std::size_t done, std::size_t) { bar.update(done); };
  Result<ExtractResult> result = extract_adapter(*base, *tuned, options);
  bar.finish();
  if (!result) return report_failure(result.error());
  print_messages(result->warnings, "warning");
  print_messages(result->adapter.warnings, "warning");
  print_messages(result->adapter.notes, "note");
  // The HTML page is written from the adapter's pre-publish hook: a refused or failed page
  // leaves no adapter behind, and a refused adapter no page.
  const int written = write_verified_adapter(
      result->adapter.adapter, f.out, f.overwrite, !f.no_verify || !f.html.empty(),
      [&](const std::filesystem::path& temp) {
        if (!f.no_verify) LORANK_RETURN_IF_ERROR(verify_extracted(temp, *result));
        if (f.html.empty()) return Status();
        // As audit --html: replaced only with --overwrite, and only an HTML page.
        return write_text_file(f.html, extract_html(*result), f.overwrite, looks_like_html,
                               "an HTML report");
      });
  if (written != kExitOk) return written;
  fmt::print("{}", f.json ? extract_json(*result) : extract_table(*result));
  return kExitOk;
}

}  // namespace

void register_extract(CLI::App& app, CommandRegistry& registry) {
  auto f = std::make_shared<ExtractFlags>();
  CLI::App* sub = app.add_subcommand(
      "extract", "Turn a full fine-tune into a LoRA adapter: each 2-D weight's dW = "
                 "W_finetuned - W_base streamed (never dense in memory), its top singular "
                 "directions by block Lanczos certified to --tolerance, the rank per matrix by "
                 "--rank, --energy or --threshold (capped by --max-rank), written as PEFT, GGUF or mlx_lm.");
  sub->add_option("base", f->base, "Base checkpoint (safetensors, sharded folder, GGUF, .bin)")->required();
  sub->add_option("finetuned", f->finetuned, "Fine-tuned checkpoint of the same architecture")->required();
  sub->add_option("-o,--out", f->out, "Output: a PEFT or mlx folder, or a .gguf file with --format gguf. Never an input")->required();
  add_rank_flags(sub, f->rank);
  sub->add_option("--max-rank", f->max_rank, "Cap every matrix's rank");
  sub->add_option("--tolerance", f->tolerance, "Relative error allowed on each retained sigma")
      ->capture_default_str();
  sub->add_option("--include", f->include, "Only tensors whose name matches this regex (search)");
  sub->add_option("--exclude", f->exclude, "Skip tensors whose name matches this regex (search)");
  sub->add_flag("--embeddings", f->embeddings, "Also extract embeddings and the LM head");
  sub->add_flag("--keep-full", f->keep_full,
                "Store the differing tensors that are not extracted (norms, biases) whole");
  sub->add_option("--dtype", f->dtype, "Dtype of the factors: F32, F16, BF16 or F64")->capture_default_str();
  sub->add_option("--format", f->format, "Output format: peft, gguf (llama.cpp; needs a GGUF checkpoint) or mlx (mlx_lm)")
      ->capture_default_str();
  sub->add_option("--seed", f->seed, "Seed of the Krylov start block")->capture_default_str();
  sub->add_flag("--overwrite", f->overwrite, "Replace an existing output lorank wrote (never an input)");
  sub->add_flag("--no-verify", f->no_verify, "Skip re-reading the output and checking its spectra");
  sub->add_flag("--json", f->json, "Print the report as JSON");
  sub->add_option("--html", f->html, "Also write the report as a self-contained HTML page");
  registry.add(sub, [f] { return run(*f); });
}

}  // namespace lorank::cli
