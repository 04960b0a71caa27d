// `lorank merge BASE ADAPTER... -o OUT`: fold LoRA adapters into their base model.
#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "lorank/adapter.h"
#include "lorank/checkpoint.h"
#include "lorank/merge.h"
#include "lorank/terminal_text.h"
#include "lorank/text_chart.h"

namespace lorank::cli {
namespace {

struct MergeFlags {
  std::string base, out, dtype, compute = "auto";
  std::optional<std::string> scales;  // given but empty is an error, not "all 1"
  std::vector<std::string> adapters;
  std::optional<double> alpha;
  double scale = 1.0;
  bool overwrite = false, json = false;
  unsigned threads = 0;
};

int run(const MergeFlags& f) {
  MergeOptions options;
  options.scale = f.scale;
  if (f.scales) {
    Result<std::vector<double>> scales = parse_decimal_list(*f.scales, "--scales");
    if (!scales) return usage_error(scales.error().message());
    options.adapter_scales = std::move(*scales);
  }
  options.overwrite = f.overwrite;
  options.threads = f.threads;
  options.compute = f.compute == "F32" ? MergeCompute::kF32
                    : f.compute == "F64" ? MergeCompute::kF64 : MergeCompute::kAuto;
  if (!f.dtype.empty()) {
    options.dtype = parse_dtype(f.dtype);
    if (!options.dtype || !(*options.dtype == DType::kF32 || *options.dtype == DType::kF16 ||
                            *options.dtype == DType::kBF16)) {
      return usage_error(fmt::format("--dtype must be F32, F16 or BF16, got '{}'", f.dtype));
    }
  }
  Result<Checkpoint> base = Checkpoint::open(f.base);
  if (!base) return report_failure(base.error());
  std::vector<Adapter> adapters;
  for (const std::string& path : f.adapters) {
    Result<Adapter> a = open_adapter(path, AdapterOptions{f.alpha});
    if (!a) return report_failure(a.error());
    print_messages(a->warnings, "warning");
    adapters.push_back(std::move(a).value());
  }
  ProgressBar bar(stderr, "merge", base->tensors().size());
  options.progress = [&bar](std::size_t done, std::size_t) { bar.update(done); };
  Result<MergeReport> report = merge_adapters(*base, adapters, f.out, options);
  bar.finish();
  if (!report) return report_failure(report.error());
  print_messages(report->warnings, "warning");
  if (f.json) {
    fmt::print("{}", merge_json(*report));
  } else {
    fmt::print("merged {} tensor(s), replaced {}, added {}, copied {} unchanged; {} bytes -> {}\n",
               report->merged, report->replaced, report->added, report->copied,
               report->bytes_written, escape_for_terminal(report->output.string()));
    fmt::print("verified: {}\n", report->verified_all
                                     ? "every tensor re-read and compared with the formula"
                                     : fmt::format("{} sampled rows of the merged tensors, and "
                                                   "sampled bytes of the copied ones",
                                                   report->verified_rows));
  }
  return kExitOk;
}

}  // namespace

void register_merge(CLI::App& app, CommandRegistry& registry) {
  auto f = std::make_shared<MergeFlags>();
  CLI::App* sub = app.add_subcommand(
      "merge", "Fold LoRA adapters into their base model: W' = W + s*B*A for every module, "
               "rounded once, written in the base's own layout and verified before it appears.");
  sub->add_option("base", f->base, "Base model: .safetensors, a sharded folder or its index, .gguf, .bin")
      ->required();
  sub->add_option("adapter", f->adapters, "Adapter(s) to merge, summed in order")->required();
  sub->add_option("-o,--out", f->out, "Output file (or folder, for folder and sharded bases). Never an input")
      ->required();
  sub->add_option("--dtype", f->dtype, "Dtype of merged tensors: F32, F16 or BF16 (default: the base tensor's; F16 for quantised GGUF)");
  sub->add_option("--compute", f->compute, "Arithmetic of W + s*B*A: F32 (as PEFT; 2x faster), F64, or auto "
                  "(F32 for F16/BF16 outputs, F64 for F32 ones); DoRA is always F64")
      ->check(CLI::IsMember({"auto", "F32", "F64"}))
      ->capture_default_str();
  sub->add_option("--scales", f->scales, "s1,s2,...: one factor per adapter, on top of --scale (llama.cpp's --lora-scaled)");
  sub->add_option("--scale", f->scale, "Multiply every adapter's scale s")
      ->capture_default_str();
  sub->add_option("--alpha", f->alpha, "Alpha for adapters that carry none (as in audit)");
  sub->add_flag("--overwrite", f->overwrite, "Replace an earlier merge output (never an input)");
  sub->add_option("--threads", f->threads, "Worker threads (0 = one per core)")->capture_default_str();
  sub->add_flag("--json", f->json, "Print the report as JSON");
  registry.add(sub, [f] { return run(*f); });
}

}  // namespace lorank::cli
