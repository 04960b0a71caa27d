// `lorank audit PATH`: exact spectra, rank metrics and rank advice for every module.
#include <fmt/core.h>

#include <cstddef>
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
#include "lorank/files.h"
#include "lorank/html_report.h"
#include "lorank/text_chart.h"

namespace lorank::cli {
namespace {

// An existing --html target that --overwrite may replace: an HTML page.
bool looks_like_html(std::span<const std::byte> head) {
  constexpr std::string_view kDoctype = "<!DOCTYPE html>";
  return head.size() >= kDoctype.size() &&
         std::string_view(reinterpret_cast<const char*>(head.data()), kDoctype.size()) == kDoctype;
}

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
};

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
  AdapterOptions options;
  options.alpha = flags.alpha;
  Result<Adapter> adapter = open_adapter(flags.path, options);
  if (!adapter) return report_failure(adapter.error());
  AuditOptions audit_options;
  audit_options.rule = *rule;
  audit_options.snap = *snap;
  audit_options.tau = flags.tau;
  audit_options.threads = flags.threads;
  // Drawn only on a terminal and only if the audit takes a while (text_chart.h).
  ProgressBar bar(stderr, "audit", adapter->modules.size());
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
               "an adapter (PEFT folder or file, .bin, kohya .safetensors, GGUF), plus a PEFT "
               "config for the next training run.");
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
  registry.add(sub, [flags, html = sub->get_option("--html")] {
    flags->html_given = html->count() > 0;
    return run(*flags);
  });
}

}  // namespace lorank::cli
