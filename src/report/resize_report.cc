#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "lorank/module_names.h"
#include "lorank/resize.h"
#include "lorank/terminal_text.h"
#include "report/units.h"
#include "io/json_text.h"

namespace lorank {
namespace {

nlohmann::ordered_json finite(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

std::string resize_table(const ResizeResult& r) {
  // The audit's naming: display names, whole, in natural order (module_names.h).
  std::vector<std::string> names;
  for (const ResizeModule& m : r.modules) names.push_back(m.name);
  std::vector<std::string> shown = display_names(names);
  for (std::string& name : shown) name = escape_for_terminal(name);
  std::size_t width = 6;
  for (const std::string& name : shown) width = std::max(width, name.size());
  width = std::min<std::size_t>(width, 96);  // a longer (odd) name pushes only its row out
  std::string out = fmt::format("{:<{}}  {:>9}  {:>9}  {:>10}  {:>9}\n", "module", width, "rank",
                                "energy", "rel. error", "s1/sk");
  for (std::size_t i : natural_order(names)) {
    const ResizeModule& m = r.modules[i];
    const std::string& name = shown[i];
    out += fmt::format("{:<{}}  {:>9}  {:>9.5f}  {:>10.2e}  {:>9}\n", name, width,
                       fmt::format("{} -> {}", m.old_rank, m.new_rank), m.retained_energy,
                       m.relative_error,
                       m.zero ? "zero" : std::isfinite(m.condition) ? fmt::format("{:.3g}", m.condition) : "inf");
  }
  const ResizeTotals& t = r.totals;
  out += fmt::format("\n{} modules; LoRA parameters {} -> {} ({:.1f}%); tensors {} -> {}\n",
                     r.modules.size(), report::short_count(t.params_before),
                     report::short_count(t.params_after),
                     t.params_before ? 100.0 * t.params_after / t.params_before : 0.0,
                     report::human_bytes(t.bytes_before), report::human_bytes(t.bytes_after));
  return out;
}

std::string resize_json(const ResizeResult& r) {
  nlohmann::ordered_json j;
  j["modules"] = nlohmann::ordered_json::array();
  std::vector<std::string> names;  // full names, in natural order like every other list
  for (const ResizeModule& m : r.modules) names.push_back(m.name);
  for (std::size_t i : natural_order(names)) {
    const ResizeModule& m = r.modules[i];
    j["modules"].push_back({{"name", m.name},
                            {"old_rank", m.old_rank},
                            {"new_rank", m.new_rank},
                            {"scale", finite(m.scale)},
                            {"new_scale", finite(m.new_scale)},
                            {"retained_energy", finite(m.retained_energy)},
                            {"relative_error", finite(m.relative_error)},
                            {"condition", finite(m.condition)},
                            {"zero", m.zero}});
  }
  const ResizeTotals& t = r.totals;
  j["totals"] = {{"params_before", t.params_before}, {"params_after", t.params_after},
                 {"bytes_before", t.bytes_before},   {"bytes_after", t.bytes_after}};
  j["warnings"] = r.warnings;  // also printed on stderr, one line each
  j["notes"] = r.notes;
  return io::dump_json(j) + "\n";
}

}  // namespace lorank
