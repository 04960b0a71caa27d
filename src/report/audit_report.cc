#include "lorank/audit_report.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace lorank {
namespace {

nlohmann::json shape_json(const Shape& s) { return s.dims; }

using Json = nlohmann::ordered_json;

// JSON has no inf/NaN; nlohmann writes them as null, made explicit here.
Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

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

Json module_json(const AuditModule& m) {
  Json sv = Json::array();
  for (double v : m.singular_values) sv.push_back(number(v));
  return {{"name", m.name},
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
          {"singular_values", std::move(sv)},
          {"metrics", metrics_json(m.metrics)},
          {"rule_rank", m.rule_rank},
          {"recommended_rank", m.recommended_rank},
          {"config_rank", m.config_rank}};
}

}  // namespace

std::string audit_json(const Adapter& a, const std::vector<std::vector<double>>& spectra) {
  nlohmann::ordered_json j;
  j["adapter"] = {{"path", a.weights_path.string()},
                  {"format", format_name(a.format)},
                  {"container", container_name(a.container)},
                  {"config", a.config_path ? nlohmann::ordered_json(a.config_path->string())
                                           : nlohmann::ordered_json(nullptr)},
                  {"warnings", a.warnings}};
  j["modules"] = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < a.modules.size(); ++i) {
    const LoraModule& m = a.modules[i];
    j["modules"].push_back({{"name", m.name},
                            {"kind", module_kind_name(m.kind)},
                            {"rank", m.rank},
                            {"out", m.out},
                            {"in", m.in},
                            {"alpha", m.alpha},
                            {"scale", m.scale},
                            {"scale_rule", m.scale_rule},
                            {"dtype", dtype_name(m.A.dtype)},
                            {"dora", m.magnitude.has_value()},
                            {"singular_values", spectra[i]}});
  }
  j["passthrough"] = nlohmann::ordered_json::array();
  for (const TensorView& t : a.passthrough) {
    j["passthrough"].push_back(
        {{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", shape_json(t.shape)}});
  }
  return j.dump(2) + "\n";
}

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
  Json config = Json::parse(r.suggested_config, nullptr, /*allow_exceptions=*/false);
  j["suggested_config"] = config.is_discarded() ? Json(nullptr) : std::move(config);
  j["modules"] = Json::array();
  for (const AuditModule& m : r.modules) j["modules"].push_back(module_json(m));
  j["passthrough"] = Json::array();
  for (const AuditTensor& t : r.passthrough) {
    j["passthrough"].push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}});
  }
  return j.dump(2) + "\n";
}

std::string audit_table(const Adapter& a, const std::vector<std::vector<double>>& spectra) {
  std::size_t width = 6;
  for (const LoraModule& m : a.modules) width = std::max(width, m.name.size());
  std::string out = fmt::format("{:<{}}  {:>4}  {:>13}  {:>8}  {:>10}  {:>9}\n", "module", width,
                                "r", "out x in", "scale", "sigma_1", "s_r/s_1");
  for (std::size_t i = 0; i < a.modules.size(); ++i) {
    const LoraModule& m = a.modules[i];
    const std::vector<double>& sv = spectra[i];
    const double s1 = sv.empty() ? 0.0 : sv.front();
    const std::string ratio = s1 > 0.0 ? fmt::format("{:.3g}", sv.back() / s1) : "untrained";
    out += fmt::format("{:<{}}  {:>4}  {:>13}  {:>8.4g}  {:>10.4g}  {:>9}\n", m.name, width, m.rank,
                       fmt::format("{}x{}", m.out, m.in), m.scale, s1, ratio);
  }
  for (const std::string& w : a.warnings) out += "warning: " + w + "\n";
  return out;
}

}  // namespace lorank
