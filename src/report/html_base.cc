// The HTML report's "Against the base model" section (audit --base, Hu et al. 2022 §7.3):
// the reading, then one row per module with a bar placing ‖UᵀWV‖_F between a random
// subspace's projection (the tick) and W's own top-k projection (the full bar).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/html_sections.h"
#include "report/svg.h"

namespace lorank::report {
namespace {

std::string cell(double v) { return "<td>" + escape_html(format_sig(v, 4)) + "</td>"; }

// The bar: ΔW's projection as a fraction of W's top-k one, the random level as a tick.
std::string position_bar(const BaseComparison& c) {
  if (!(c.projection_w_top > 0.0) || !std::isfinite(c.projection_delta)) return "<td>\u2014</td>";
  const double d = std::clamp(c.projection_delta / c.projection_w_top, 0.0, 1.0);
  const double r = std::clamp(c.projection_random / c.projection_w_top, 0.0, 1.0);
  return fmt::format(
      "<td><span class=\"pbar\" title=\"‖UᵀWV‖_F is {:.1f}% of W's top-k projection; a random "
      "subspace gives {:.1f}%\"><span style=\"width:{:.1f}%\"></span><i style=\"left:{:.1f}%\">"
      "</i></span>{:.0f}%</td>",
      100.0 * d, 100.0 * r, 100.0 * d, 100.0 * r, 100.0 * d);
}

}  // namespace

std::string render_base(const AuditReport& report) {
  if (!report.base) return "";
  const BaseAudit& b = *report.base;
  std::string out = fmt::format(
      "<section id=\"base\"><h2>Against the base model</h2><p class=\"note\">Base <code>{}</code> "
      "({}). Hu et al. 2022 §7.3: W projected onto ΔW's top-k singular directions U, V "
      "(‖UᵀWV‖<sub>F</sub>), onto W's own top-k directions, and onto a random k-subspace "
      "(seed {}); amplification = ‖ΔW‖<sub>F</sub> / ‖UᵀWV‖<sub>F</sub>. Definitions: "
      "docs/base-audit.md.</p><div class=\"reading\">",
      escape_html(b.path), escape_html(b.format), b.seed);
  for (const std::string& s : b.reading) out += "<p>" + escape_html(s) + "</p>";
  out += "</div><div class=\"tablewrap\"><table><thead><tr>";
  for (const char* h : {"module", "k", "‖W‖<sub>F</sub>",
                        "‖ΔW‖<sub>F</sub>/‖W‖<sub>F</sub>", "‖UᵀWV‖<sub>F</sub>", "W top-k",
                        "random", "‖UᵀWV‖ of W top-k (tick: random)", "amplification"}) {
    out += fmt::format("<th>{}</th>", h);
  }
  out += "</tr></thead><tbody>\n";
  for (const AuditModule& m : report.modules) {
    if (!m.base) continue;
    const BaseComparison& c = *m.base;
    // The base tensor in the tooltip: the name column stays wide enough to read.
    out += fmt::format("<tr><td class=\"name\" title=\"{} \u2192 base tensor {}{}\">{}</td>"
                       "<td>{}</td>",
                       escape_html(m.name), escape_html(c.tensor),
                       c.transposed ? " (stored transposed)" : "", escape_html(m.short_name),
                       c.directions);
    out += cell(c.weight_norm) + cell(c.relative_change) + cell(c.projection_delta) +
           cell(c.projection_w_top) + cell(c.projection_random) + position_bar(c) +
           cell(c.amplification) + "</tr>\n";
  }
  return out + "</tbody></table></div></section>\n";
}

}  // namespace lorank::report
