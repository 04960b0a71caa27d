#include "support/audit_fixture.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "lorank/adapter.h"
#include "lorank/module_names.h"
#include "lorank/rank.h"

namespace lorank::testing {

AuditModule make_module(const std::string& name, std::vector<double> sv, std::size_t out,
                        std::size_t in, std::size_t rank) {
  AuditModule m;
  m.name = name;
  m.short_name = display_names({name}).front();
  m.layer = layer_index(name);
  m.module_type = module_type(name);
  m.rank = rank ? rank : sv.size();
  m.out = out;
  m.in = in;
  m.alpha = 2.0 * static_cast<double>(m.rank);
  m.scale = 2.0;
  m.scale_rule = "alpha/r";
  m.dtype = "F32";
  // Hand-made spectra may hold NaN/Inf (to test the renderer); the metrics need finite ones.
  std::vector<double> finite = sv;
  for (double& v : finite) v = std::isfinite(v) ? v : 0.0;
  std::sort(finite.rbegin(), finite.rend());
  m.metrics = spectrum_metrics(finite);
  m.recommended_rank = RankRule().apply(finite, m.rank);
  m.rule_rank = m.config_rank = m.recommended_rank;
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
  Result<Adapter> adapter = open_adapter(path);
  EXPECT_TRUE(adapter.has_value()) << (adapter ? "" : adapter.error().message());
  if (!adapter) return AuditReport();
  Result<AuditReport> report = run_audit(*adapter);
  EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().message());
  return report ? std::move(*report) : AuditReport();
}

AuditReport synthetic_report(std::size_t layers, const std::vector<std::string>& types,
                             std::size_t r, std::size_t untrained_every) {
  AuditReport report;
  report.path = "/tmp/synthetic/adapter_model.safetensors";
  report.format = "peft";
  report.container = "safetensors";
  report.rule = RankRule().to_string();
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
