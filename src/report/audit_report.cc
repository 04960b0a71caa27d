#include "lorank/audit_report.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include "io/json_text.h"

namespace lorank {
namespace {


using Json = nlohmann::ordered_json;

// JSON has no inf/NaN; nlohmann writes them as null, made explicit here.
Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

// A list of numbers (null for a non-finite one).
Json numbers(const std::vector<double>& values) {
  Json a = Json::array();
  for (double v : values) a.push_back(number(v));
  return a;
}

Json metrics_json(const SpectrumMetrics& m) {
  return {{"untrained", m.untrained},
          {"sigma1", number(m.sigma1)},
          {"frobenius", number(m.frobenius)},
          {"threshold_tau", number(m.threshold_tau)},
          {"threshold_rank", m.threshold_rank},
          {"energy_rank_90", m.energy_rank_90},
          {"energy_rank_95", m.energy_rank_95},
          {"energy_rank_99", m.energy_rank_99},
          {"entropy_rank", number(m.entropy_rank)},
          {"stable_rank", number(m.stable_rank)},
          {"gap_index", m.gap_index},
          {"gap_ratio", number(m.gap_ratio)},
          {"gap_capped", m.gap_capped},
          {"tail_ratio", number(m.tail_ratio)}};
}

Json summary_json(const AuditSummary& s) {
  Json counts = Json::object();
  for (const auto& [rank, n] : s.recommended_rank_counts) counts[std::to_string(rank)] = n;
  return {{"modules", s.modules},
          {"untrained", s.untrained},
          {"flat", s.flat},
          {"lora_params", s.lora_params},
          {"recommended_params", s.recommended_params},
          {"passthrough_params", s.passthrough_params},
          {"file_bytes", s.file_bytes},
          {"recommended_bytes", s.recommended_bytes},
          {"lora_bytes", s.lora_bytes},
          {"recommended_lora_bytes", s.recommended_lora_bytes},
          {"passthrough_bytes", s.passthrough_bytes},
          {"recommended_rank_counts", std::move(counts)}};
}

// The "base" object of a module (docs/base-audit.md): the six §7.3 names, then how W was
// found and how σ(W) was computed.
Json base_json(const BaseComparison& c) {
  return {{"weight_norm", number(c.weight_norm)},
          {"relative_change", number(c.relative_change)},
          {"projection_delta", number(c.projection_delta)},
          {"projection_w_top", number(c.projection_w_top)},
          {"projection_random", number(c.projection_random)},
          {"amplification", number(c.amplification)},
          {"delta_norm", number(c.delta_norm)},
          {"directions", c.directions},
          {"tensor", c.tensor},
          {"tensor_type", c.tensor_type},
          {"transposed", c.transposed},
          {"w_singular_values", numbers(c.w_singular_values)},
          {"w_svd", {{"method", w_svd_route_name(c.w_svd)},
                     {"passes", c.w_passes},
                     {"relative_error_bound", number(c.w_relative_error_bound)}}}};
}

Json base_audit_json(const BaseAudit& b) {
  return {{"path", b.path},
          {"format", b.format},
          {"seed", b.seed},
          {"compared", b.compared},
          {"median_relative_change", number(b.median_relative_change)},
          {"median_amplification", number(b.median_amplification)},
          {"median_delta_over_top", number(b.median_delta_over_top)},
          {"median_delta_over_random", number(b.median_delta_over_random)},
          {"emphasised", b.emphasised},
          {"unemphasised", b.unemphasised},
          {"unrelated", b.unrelated},
          {"reading", b.reading}};
}

Json module_json(const AuditModule& m) {
  Json j = {{"name", m.name},
          {"short_name", m.short_name},
          {"layer", m.layer},
          {"type", m.module_type},
          {"kind", module_kind_name(m.kind)},
          {"rank", m.rank},
          {"out", m.out},
          {"in", m.in},
          {"alpha", number(m.alpha)},
          {"scale", number(m.scale)},
          {"scale_rule", m.scale_rule},
          {"dtype", m.dtype},
          {"dora", m.dora},
          {"singular_values", numbers(m.singular_values)},
          {"metrics", metrics_json(m.metrics)},
          {"rule_rank", m.rule_rank},
          {"recommended_rank", m.recommended_rank},
          {"config_rank", m.config_rank}};
  if (m.base) j["base"] = base_json(*m.base);
  return j;
}

}  // namespace

std::string audit_json(const AuditReport& r) {
  Json j;
  j["adapter"] = {{"path", r.path},
                  {"format", r.format},
                  {"container", r.container},
                  {"config", r.config_path.empty() ? Json(nullptr) : Json(r.config_path)},
                  {"warnings", r.warnings}};
  j["rule"] = r.rule;
  j["snap"] = r.snap;
  j["tau"] = number(r.tau);
  j["summary"] = summary_json(r.summary);
  bool too_deep = false;
  Json config = io::parse_json_capped<Json>(r.suggested_config, too_deep);
  j["suggested_config"] = config.is_discarded() ? Json(nullptr) : std::move(config);
  j["modules"] = Json::array();
  for (const AuditModule& m : r.modules) j["modules"].push_back(module_json(m));
  j["passthrough"] = Json::array();
  for (const AuditTensor& t : r.passthrough) {
    j["passthrough"].push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}});
  }
  if (r.base) j["base"] = base_audit_json(*r.base);
  return io::dump_json(j) + "\n";
}

}  // namespace lorank
