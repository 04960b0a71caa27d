// `lorank audit PATH`: the exact spectrum of every module of an adapter.
#include <fmt/core.h>

#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "lorank/adapter.h"
#include "lorank/audit_report.h"
#include "lorank/spectra.h"

namespace lorank::cli {
namespace {

struct AuditFlags {
  std::string path;
  std::optional<double> alpha;
  unsigned threads = 0;
  bool json = false;
};

int run(const AuditFlags& flags) {
  AdapterOptions options;
  options.alpha = flags.alpha;
  Result<Adapter> adapter = open_adapter(flags.path, options);
  if (!adapter) return report_failure(adapter.error());
  for (const std::string& w : adapter->warnings) fmt::print(stderr, "lorank: warning: {}\n", w);
  SpectraOptions spectra_options;
  spectra_options.threads = flags.threads;
  Result<std::vector<std::vector<double>>> spectra = module_spectra(*adapter, spectra_options);
  if (!spectra) return report_failure(spectra.error());
  fmt::print("{}", flags.json ? audit_json(*adapter, *spectra) : audit_table(*adapter, *spectra));
  return kExitOk;
}

}  // namespace

void register_audit(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<AuditFlags>();
  CLI::App* sub = app.add_subcommand(
      "audit", "Exact spectrum of every LoRA module of an adapter (PEFT folder or file, kohya "
               ".safetensors, GGUF), computed from the factors in float64.");
  sub->add_option("path", flags->path, "Adapter folder or weights file")->required();
  sub->add_option("--alpha", flags->alpha,
                  "Alpha to use when the adapter carries none (no adapter_config.json, no "
                  ".alpha tensors, no adapter.lora.alpha): scale = alpha/r");
  sub->add_option("--threads", flags->threads, "Worker threads (0 = one per core)")
      ->capture_default_str();
  sub->add_flag("--json", flags->json, "Print one JSON object (schema in docs/cli.md)");
  registry.add(sub, [flags] { return run(*flags); });
}

}  // namespace lorank::cli
