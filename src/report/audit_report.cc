#include "lorank/audit_report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace lorank {
namespace {

nlohmann::json shape_json(const Shape& s) { return s.dims; }

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
    j["passthrough"].push_back({{"name", t.name},
                                {"dtype", dtype_name(t.dtype)},
                                {"shape", shape_json(t.shape)}});
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
