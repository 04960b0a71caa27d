#include "support/audit_fixture.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "lorank/adapter.h"
#include "lorank/spectra.h"

namespace lorank::testing {

SpectrumMetrics simple_metrics(const std::vector<double>& sv, double tau) {
  SpectrumMetrics m;
  m.n = sv.size();
  m.threshold_tau = tau;
  if (sv.empty() || !(sv.front() > 0.0)) {
    m.untrained = true;
    return m;
  }
  m.sigma1 = sv.front();
  double total = 0.0, sum = 0.0;
  for (double s : sv) total += s * s, sum += s;
  m.frobenius = std::sqrt(total);
  m.stable_rank = total / (m.sigma1 * m.sigma1);
  for (double s : sv) m.threshold_rank += s >= tau * m.sigma1 ? 1 : 0;
  double acc = 0.0;
  for (std::size_t i = 0; i < sv.size(); ++i) {
    acc += sv[i] * sv[i];
    const int k = static_cast<int>(i + 1);
    if (!m.energy_rank_90 && acc >= 0.90 * total) m.energy_rank_90 = k;
    if (!m.energy_rank_95 && acc >= 0.95 * total) m.energy_rank_95 = k;
    if (!m.energy_rank_99 && acc >= 0.99 * total) m.energy_rank_99 = k;
  }
  double h = 0.0;
  for (double s : sv) {
    if (s > 0.0) h -= (s / sum) * std::log(s / sum);
  }
  m.entropy_rank = std::exp(h);
  for (std::size_t i = 0; i + 1 < sv.size(); ++i) {
    if (!(sv[i + 1] > 0.0)) break;  // a ratio to 0 is no gap we can rank (and no inf)
    if (sv[i] / sv[i + 1] > m.gap_ratio) m.gap_ratio = sv[i] / sv[i + 1], m.gap_index = int(i + 1);
  }
  return m;
}

void fill_names(AuditModule& m) {
  static const std::string kPrefix = "base_model.model.";
  m.short_name = m.name.rfind(kPrefix, 0) == 0 ? m.name.substr(kPrefix.size()) : m.name;
  static const std::regex kLayer(R"((?:^|\.)(?:layers|layer|h|blocks|block|blk)\.(\d+)\.(.+)$)");
  std::smatch match;
  if (std::regex_search(m.short_name, match, kLayer)) {
    m.layer = std::stoi(match[1].str());
    m.module_type = match[2].str();
    return;
  }
  // No layer: the components after the last all-digit one (SD UNet: "attn1.to_q").
  m.layer = -1;
  const std::string& n = m.short_name;
  std::size_t cut = 0;
  for (std::size_t start = 0; start < n.size();) {
    const std::size_t end = std::min(n.find('.', start), n.size());
    const std::string part = n.substr(start, end - start);
    const bool last = end >= n.size();  // "to_out.0": a trailing index belongs to the type
    if (!last && !part.empty() && part.find_first_not_of("0123456789") == std::string::npos) {
      cut = end + 1;
    }
    start = end + 1;
  }
  m.module_type = cut < n.size() ? n.substr(cut) : n;
}

AuditModule make_module(const std::string& name, std::vector<double> sv, std::size_t out,
                        std::size_t in, std::size_t rank) {
  AuditModule m;
  m.name = name;
  fill_names(m);
  m.rank = rank ? rank : sv.size();
  m.out = out;
  m.in = in;
  m.alpha = 2.0 * static_cast<double>(m.rank);
  m.scale = 2.0;
  m.scale_rule = "alpha/r";
  m.dtype = "F32";
  m.metrics = simple_metrics(sv);
  m.recommended_rank = m.metrics.untrained ? 0 : m.metrics.energy_rank_99;
  m.singular_values = std::move(sv);
  return m;
}

void finish_report(AuditReport& report) {
  AuditSummary& s = report.summary;
  const std::uint64_t passthrough = s.passthrough_params, bytes = s.file_bytes;
  s = AuditSummary{};
  s.passthrough_params = passthrough;
  std::map<int, int> counts;
  for (const AuditModule& m : report.modules) {
    ++s.modules;
    s.untrained += m.metrics.untrained ? 1 : 0;
    s.lora_params += m.rank * (m.out + m.in);
    s.recommended_params += static_cast<std::uint64_t>(m.recommended_rank) * (m.out + m.in);
    if (!m.metrics.untrained) ++counts[m.recommended_rank];
  }
  s.file_bytes = bytes ? bytes : s.lora_params * 4;
  s.recommended_bytes = s.lora_params ? static_cast<std::uint64_t>(
      static_cast<double>(s.file_bytes) * static_cast<double>(s.recommended_params) /
      static_cast<double>(s.lora_params)) : s.file_bytes;
  int r = 0, best = 0;
  for (const auto& [k, c] : counts) if (c > best) r = k, best = c;
  if (report.modules.empty()) return;
  nlohmann::ordered_json config = {{"r", r}, {"lora_alpha", 2 * r}};
  nlohmann::ordered_json ranks = nlohmann::ordered_json::object();
  for (const AuditModule& m : report.modules) {
    if (!m.metrics.untrained && m.recommended_rank != r) ranks["^" + m.short_name + "$"] = m.recommended_rank;
  }
  config["rank_pattern"] = ranks;
  config["alpha_pattern"] = nlohmann::ordered_json::object();
  report.suggested_config = config.dump(2);
}

AuditReport audit_fixture(const std::filesystem::path& path) {
  AuditReport report;
  Result<Adapter> adapter = open_adapter(path);
  EXPECT_TRUE(adapter.has_value()) << (adapter ? "" : adapter.error().message());
  if (!adapter) return report;
  Result<std::vector<std::vector<double>>> spectra = module_spectra(*adapter);
  EXPECT_TRUE(spectra.has_value()) << (spectra ? "" : spectra.error().message());
  if (!spectra) return report;
  report.path = adapter->weights_path.string();
  report.format = std::string(format_name(adapter->format));
  report.container = std::string(container_name(adapter->container));
  report.warnings = adapter->warnings;
  report.rule = "energy:0.99";
  report.snap = "none";
  for (std::size_t i = 0; i < adapter->modules.size(); ++i) {
    const LoraModule& lm = adapter->modules[i];
    AuditModule m = make_module(lm.name, (*spectra)[i], lm.out, lm.in, lm.rank);
    m.kind = lm.kind;
    m.alpha = lm.alpha;
    m.scale = lm.scale;
    m.scale_rule = lm.scale_rule;
    m.dtype = std::string(dtype_name(lm.A.dtype));
    m.dora = lm.magnitude.has_value();
    report.modules.push_back(std::move(m));
  }
  for (const TensorView& t : adapter->passthrough) {
    report.summary.passthrough_params += static_cast<std::uint64_t>(t.numel());
  }
  std::error_code ec;
  report.summary.file_bytes = std::filesystem::file_size(adapter->weights_path, ec);
  finish_report(report);
  return report;
}

AuditReport synthetic_report(std::size_t layers, const std::vector<std::string>& types,
                             std::size_t r, std::size_t untrained_every) {
  AuditReport report;
  report.path = "/tmp/synthetic/adapter_model.safetensors";
  report.format = "peft";
  report.container = "safetensors";
  report.rule = "energy:0.99";
  report.snap = "none";
  std::size_t count = 0;
  for (std::size_t l = 0; l < layers; ++l) {
    for (std::size_t t = 0; t < types.size(); ++t, ++count) {
      std::vector<double> sv(r, 0.0);
      const bool untrained = untrained_every && count % untrained_every == untrained_every - 1;
      // A planted rank that drifts with depth and type, then a noise tail 1e-4 below.
      const std::size_t planted = 1 + (l + 2 * t) % std::max<std::size_t>(1, r / 2);
      for (std::size_t i = 0; i < r && !untrained; ++i) {
        sv[i] = i < planted ? 1.0 / static_cast<double>(i + 1) : 1e-4 / static_cast<double>(i + 1);
      }
      report.modules.push_back(make_module(
          fmt::format("base_model.model.model.layers.{}.{}", l, types[t]), std::move(sv), 4096, 4096));
    }
  }
  finish_report(report);
  return report;
}

}  // namespace lorank::testing
