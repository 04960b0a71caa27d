// run_audit: spectra → metrics → recommended ranks → summary → advice.
#include "lorank/audit.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "audit/base_projection.h"
#include "lorank/module_names.h"
#include "lorank/spectra.h"

namespace lorank {
namespace {

std::uint64_t tensor_bytes(const TensorView& t) { return t.data.size(); }

void fill_summary(const Adapter& adapter, AuditReport& report) {
  AuditSummary& s = report.summary;
  s.modules = report.modules.size();
  for (std::size_t i = 0; i < report.modules.size(); ++i) {
    const AuditModule& m = report.modules[i];
    const LoraModule& lm = adapter.modules[i];
    s.untrained += m.metrics.untrained ? 1 : 0;
    s.flat += !m.metrics.untrained && m.metrics.n > 1 && m.metrics.tail_ratio >= kFlatTailRatio;
    ++s.recommended_rank_counts[m.recommended_rank];
    const std::uint64_t k = static_cast<std::uint64_t>(std::max(m.recommended_rank, 0));
    const std::uint64_t r = m.rank;
    s.lora_params += r * (m.out + m.in);
    s.recommended_params += k * (m.out + m.in);
    // Bytes per rank at each factor's own dtype (A: in elements, B: out elements).
    const std::uint64_t per_rank = m.in * dtype_size(lm.A.dtype) + m.out * dtype_size(lm.B.dtype);
    s.lora_bytes += tensor_bytes(lm.A) + tensor_bytes(lm.B);
    s.recommended_lora_bytes += k * per_rank;
  }
  for (const TensorView& t : adapter.passthrough) {
    s.passthrough_params += static_cast<std::uint64_t>(t.shape.numel());
    s.passthrough_bytes += tensor_bytes(t);
  }
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(adapter.weights_path, ec);
  s.file_bytes = ec ? 0 : static_cast<std::uint64_t>(size);
  // The file minus the factor bytes saved; headers, DoRA magnitudes, kohya alphas and
  // passthrough tensors stay as they are. Without a file size, the tensor bytes alone.
  const std::uint64_t saved = s.lora_bytes - std::min(s.lora_bytes, s.recommended_lora_bytes);
  s.recommended_bytes = s.file_bytes > 0 ? s.file_bytes - std::min(s.file_bytes, saved)
                                         : s.recommended_lora_bytes + s.passthrough_bytes;
}

void add_warnings(const AuditOptions& options, AuditReport& report) {
  std::size_t over_vllm = 0;
  for (const AuditModule& m : report.modules) over_vllm += m.rule_rank > 512 ? 1 : 0;
  if (options.snap == Snap::kVllm && over_vllm > 0) {
    report.warnings.push_back(fmt::format(
        "{} module(s) need a rank above 512, vLLM's largest max_lora_rank: capped at 512 (lossy)",
        over_vllm));
  }
  if (report.summary.flat > 0) {
    report.warnings.push_back(fmt::format(
        "{} module(s) have a flat spectrum (sigma_n/sigma_1 >= {}): no direction stands out, so "
        "the recommended rank stays near the current one; a flat spectrum with a small sigma_1 "
        "usually means the module barely trained",
        report.summary.flat, kFlatTailRatio));
  }
}

}  // namespace

Result<AuditReport> run_audit(const Adapter& adapter, const AuditOptions& options) {
  if (!(options.tau > 0.0 && options.tau <= 1.0)) {
    return invalid_argument("tau must be in (0, 1], got {}", options.tau);
  }
  SpectraOptions spectra_options;
  spectra_options.threads = options.threads;
  spectra_options.progress = options.progress;
  LORANK_ASSIGN_OR_RETURN(std::vector<std::vector<double>> spectra,
                          module_spectra(adapter, spectra_options));
  if (spectra.size() != adapter.modules.size()) {
    return internal_error("module_spectra returned {} spectra for {} modules", spectra.size(),
                          adapter.modules.size());
  }

  std::vector<BaseComparison> base;
  if (options.base != nullptr) {
    LORANK_ASSIGN_OR_RETURN(base, audit_internal::compare_with_base(adapter, spectra, options));
  }

  AuditReport report;
  report.path = adapter.weights_path.string();
  report.format = std::string(format_name(adapter.format));
  report.container = std::string(container_name(adapter.container));
  report.config_path = adapter.config_path ? adapter.config_path->string() : std::string();
  report.warnings = adapter.warnings;
  report.rule = options.rule.to_string();
  report.snap = std::string(snap_name(options.snap));
  report.tau = options.tau;

  std::vector<std::string> names;
  for (const LoraModule& m : adapter.modules) names.push_back(m.name);
  const std::vector<std::string> shorts = display_names(names);

  report.modules.reserve(adapter.modules.size());
  for (std::size_t i = 0; i < adapter.modules.size(); ++i) {
    const LoraModule& lm = adapter.modules[i];
    AuditModule m;
    m.name = lm.name;
    m.short_name = shorts[i];
    m.module_type = module_type(lm.name);
    m.layer = layer_index(lm.name);
    m.kind = lm.kind;
    m.rank = lm.rank;
    m.out = lm.out;
    m.in = lm.in;
    m.alpha = lm.alpha;
    m.scale = lm.scale;
    m.scale_rule = lm.scale_rule;
    m.dtype = std::string(dtype_name(lm.A.dtype));
    m.dora = lm.magnitude.has_value();
    m.singular_values = std::move(spectra[i]);
    m.metrics = spectrum_metrics(m.singular_values, options.tau);
    const std::size_t max_rank = std::min({lm.rank, lm.out, lm.in});
    m.rule_rank = options.rule.apply(m.singular_values, max_rank, lm.scale);
    m.recommended_rank = snap_rank(m.rule_rank, options.snap, max_rank);
    m.config_rank = m.metrics.untrained && max_rank > 0 ? 1 : m.recommended_rank;
    if (!base.empty()) m.base = std::move(base[i]);
    report.modules.push_back(std::move(m));
  }
  for (const TensorView& t : adapter.passthrough) {
    report.passthrough.push_back(
        {std::string(t.name), std::string(dtype_name(t.dtype)), t.shape.dims});
  }
  fill_summary(adapter, report);
  add_warnings(options, report);
  report.suggested_config = suggested_config(adapter, report.modules, report.warnings);
  // Every rendering lists modules in natural order (h.2 before h.10); sorted last, because
  // the summary above pairs report.modules with adapter.modules by index.
  std::vector<AuditModule> sorted;
  sorted.reserve(report.modules.size());
  for (std::size_t i : natural_order(names)) sorted.push_back(std::move(report.modules[i]));
  report.modules = std::move(sorted);
  if (options.base != nullptr) {
    report.base = audit_internal::summarise_base(report.modules, *options.base, options.base_seed);
  }
  return report;
}

}  // namespace lorank
