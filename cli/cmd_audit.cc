// `lorank audit PATH`: exact spectra, rank metrics and rank advice for every module.
#include <fmt/core.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "lorank/terminal_text.h"
#include "lorank/adapter.h"
#include "lorank/audit.h"
#include "lorank/audit_report.h"
#include "lorank/checkpoint.h"
#include "lorank/files.h"
#include "lorank/html_report.h"
#include "lorank/text_chart.h"

namespace lorank::cli {
namespace {

struct AuditFlags {
  std::string path;
  std::optional<double> alpha;
  std::string rule = "threshold:0.01";
  std::string snap = "none";
  double tau = 1e-2;
  unsigned threads = 0;
  bool json = false;
  bool csv = false;
  std::string html;
  bool html_given = false;  // --html was on the command line (perhaps as "")
  bool overwrite = false;
  std::string base;       // --base: the base model (file or folder)
  bool base_given = false;
  std::uint32_t base_seed = 0;
  bool base_seed_given = false;
  std::string w_svd = "auto";
  bool w_svd_given = false;
};

Result<WSvdRoute> parse_w_svd(const std::string& text) {
  for (WSvdRoute r : {WSvdRoute::kAuto, WSvdRoute::kDense, WSvdRoute::kKrylov}) {
    if (text == w_svd_route_name(r)) return r;
  }
  return invalid_argument("--w-svd must be auto, dense or krylov, got '{}'", text);
}

int run(const AuditFlags& flags) {
  if (flags.json && flags.csv) return usage_error("--json and --csv are exclusive");
  Result<RankRule> rule = RankRule::parse(flags.rule);
  if (!rule) return usage_error(rule.error().message());
  Result<Snap> snap = parse_snap(flags.snap);
  if (!snap) return usage_error(snap.error().message());
  if (!(flags.tau > 0.0 && flags.tau <= 1.0)) {
    return usage_error(fmt::format("--tau must be in (0, 1], got {}", flags.tau));
  }
  if (flags.html_given && flags.html.empty()) return usage_error("--html needs a file name, got ''");
  if (flags.overwrite && flags.html.empty()) return usage_error("--overwrite is for --html FILE");
  if (flags.base_given && flags.base.empty()) return usage_error("--base needs a path, got ''");
  if (!flags.base_given && (flags.base_seed_given || flags.w_svd_given)) {
    return usage_error(fmt::format("{} is for --base BASE", flags.base_seed_given ? "--base-seed" : "--w-svd"));
  }
  Result<WSvdRoute> w_svd = parse_w_svd(flags.w_svd);
  if (!w_svd) return usage_error(w_svd.error().message());
  AdapterOptions options;
  options.alpha = flags.alpha;
  Result<Adapter> adapter = open_adapter(flags.path, options);
  if (!adapter) return report_failure(adapter.error());
  std::optional<Checkpoint> base;
  if (flags.base_given) {
    Result<Checkpoint> opened = Checkpoint::open(flags.base);
    if (!opened) return report_failure(opened.error());
    base.emplace(std::move(*opened));
  }
  AuditOptions audit_options;
  audit_options.rule = *rule;
  audit_options.snap = *snap;
  audit_options.tau = flags.tau;
  audit_options.threads = flags.threads;
  audit_options.base = base ? &*base : nullptr;
  audit_options.base_seed = flags.base_seed;
  audit_options.w_svd = *w_svd;
  // Drawn only on a terminal and only if the audit takes a while (text_chart.h).
  ProgressBar bar(stderr, "audit", adapter->modules.size() * (base ? 2 : 1));
  audit_options.progress = [&bar](std::size_t done, std::size_t) { bar.update(done); };
  Result<AuditReport> report = run_audit(*adapter, audit_options);
  bar.finish();
  if (!report) return report_failure(report.error());
  if (!flags.html.empty()) {
    if (Status s = check_not_input(*adapter, flags.html); !s.ok()) return report_failure(s);
    // As resize: an existing file is replaced only with --overwrite, and only if it is an
    // HTML file (lorank's reports start with <!DOCTYPE html>).
    if (Status s = write_text_file(flags.html, audit_html(*report), flags.overwrite,
                                   looks_like_html, "an HTML report");
        !s.ok()) {
      return report_failure(s);
    }
  }
  print_messages(report->warnings, "warning");
  if (flags.json) {
    fmt::print("{}", audit_json(*report));
  } else if (flags.csv) {
    fmt::print("{}", audit_csv(*report));
  } else {
    fmt::print("{}", audit_table(*report));
  }
  return kExitOk;
}

}  // namespace

void register_audit(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<AuditFlags>();
  CLI::App* sub = app.add_subcommand(
      "audit", "Exact spectrum, effective ranks and a recommended rank for every LoRA module of "
               "an adapter (PEFT folder or file, .bin, kohya .safetensors, GGUF, mlx_lm), plus a "
               "PEFT config for the next training run; with --base, what it adapts in W (Hu et "
               "al. 2022, section 7.3).");
  sub->add_option("path", flags->path, "Adapter folder or weights file")->required();
  sub->add_option("--rule", flags->rule,
                  "Rank rule: threshold:TAU | energy:P | peft:P | kohya-ratio:P | kohya-fro:P | "
                  "kohya-cumulative:P | lycoris-ratio:P | lycoris-quantile:P | entropy | gap | "
                  "fixed:K (docs/metrics.md)")
      ->capture_default_str();
  sub->add_option("--snap", flags->snap, "Round recommended ranks up to what servers accept: "
                                         "none | vllm | pow2")
      ->capture_default_str();
  sub->add_option("--tau", flags->tau, "tau of the threshold-rank metric (#sigma_i >= tau*sigma_1)")
      ->capture_default_str();
  sub->add_option("--alpha", flags->alpha,
                  "Alpha for adapters that carry none (no adapter_config.json, no .alpha "
                  "tensors, no adapter.lora.alpha): scale = alpha/r");
  sub->add_option("--threads", flags->threads, "Worker threads (0 = one per core)")
      ->capture_default_str();
  sub->add_flag("--json", flags->json, "Print the full report as JSON (schema: docs/audit.md)");
  sub->add_flag("--csv", flags->csv, "Print one CSV row per module");
  sub->add_option("--html", flags->html,
                  "Also write a self-contained HTML report (spectra, heatmap, energy curves, "
                  "config) to this file");
  sub->add_flag("--overwrite", flags->overwrite, "Replace an existing --html file (an HTML report only)");
  sub->add_option("--base", flags->base,
                  "Base model (safetensors file or sharded folder, GGUF model, PyTorch .bin): "
                  "compare every module's update with its W (Hu et al. 2022 sec. 7.3; "
                  "docs/base-audit.md)");
  sub->add_option("--base-seed", flags->base_seed,
                  "Seed of --base's random subspaces (0..4294967295)")
      ->capture_default_str();
  sub->add_option("--w-svd", flags->w_svd,
                  "How --base computes W's top singular values: auto (dense up to 2^20 "
                  "elements) | dense | krylov")
      ->capture_default_str();
  registry.add(sub, [flags, html = sub->get_option("--html"), base = sub->get_option("--base"),
                     seed = sub->get_option("--base-seed"), w_svd = sub->get_option("--w-svd")] {
    flags->html_given = html->count() > 0;
    flags->base_given = base->count() > 0;
    flags->base_seed_given = seed->count() > 0;
    flags->w_svd_given = w_svd->count() > 0;
    return run(*flags);
  });
}

}  // namespace lorank::cli
