// The energy section: cumulative Σ_{i≤k}σᵢ²/Σσᵢ² against k, one panel per module type
// (one thin line per module, the median bold), with 0.90/0.95/0.99 guides.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "report/html_sections.h"
#include "report/svg.h"

namespace lorank::report {
namespace {

constexpr double kEnergyGap = 16.0;
// The y axis is -log10(1 - E), capped at 3 (E = 0.999): the 0.90, 0.95 and 0.99 guides that
// decide energy ranks are evenly spread instead of squeezed into the top 10% of a linear axis.
constexpr double kTopDecades = 3.0;

double stretch(double e) {
  if (!std::isfinite(e)) return 0.0;
  return std::min(kTopDecades, -std::log10(std::max(1.0 - std::clamp(e, 0.0, 1.0), 1e-3)));
}

struct Guide {
  double e;
  const char* label;
  const char* cls;
};
constexpr std::array<Guide, 3> kGuides = {{{0.90, "90%", "g90"}, {0.95, "95%", "g95"}, {0.99, "99%", "g99"}}};

// The median of the curves that reach k (all of them, since shorter ones stay at 1).
std::vector<double> median_curve(const std::vector<std::vector<double>>& curves, std::size_t n) {
  std::vector<double> med(n + 1, 1.0), column;
  for (std::size_t k = 0; k <= n; ++k) {
    column.clear();
    for (const std::vector<double>& c : curves) column.push_back(k < c.size() ? c[k] : 1.0);
    if (column.empty()) continue;
    std::nth_element(column.begin(), column.begin() + static_cast<long>(column.size() / 2), column.end());
    med[k] = column[column.size() / 2];
  }
  return med;
}

void draw_panel(Svg& svg, const TypeGroup& g, std::size_t index, double x0, double y0, double w,
                double h) {
  const double pl = 38, pr = w - 30, pt = 22, pb = h - 20;
  std::vector<std::vector<double>> curves;
  std::size_t n = 1;
  for (const AuditModule* m : g.modules) {
    std::vector<double> e = cumulative_energy(m->singular_values);
    if (e.empty()) continue;
    n = std::max(n, e.size() - 1);
    curves.push_back(std::move(e));
  }
  svg.open_group(fmt::format("{}: {} modules, {} untrained (not drawn)", g.type, g.modules.size(),
                             g.untrained),
                 x0, y0, "panel");
  svg.rect(0, 0, w, h, "pbg");
  svg.text(6, 14, shorten(g.type, static_cast<std::size_t>((w - 90) / 6.2), true), "pt");
  svg.text(w - 6, 14, fmt::format("{} module{}", curves.size(), curves.size() == 1 ? "" : "s"),
           "ps", "end");
  svg.rect(pl, pt, pr - pl, pb - pt, "plot");
  const LinearScale x{0.0, static_cast<double>(n), pl, pr};
  const LinearScale y{0.0, kTopDecades, pb, pt};
  for (const double e : {0.0, 0.5}) {
    svg.line(pl, y(stretch(e)), pr, y(stretch(e)), "grid");
    svg.text(pl - 3, y(stretch(e)) + 3, e == 0.0 ? "0" : "0.5", "tk", "end");
  }
  for (const Guide& gd : kGuides) {
    const double gy = y(stretch(gd.e));
    svg.line(pl, gy, pr, gy, gd.cls);
    svg.text(pr + 3, gy + 3, gd.label, "tk");
  }
  svg.text(pl - 3, pt + 3, "1", "tk", "end");
  if (curves.empty()) {
    svg.text((pl + pr) / 2, (pt + pb) / 2, "all untrained", "flat-t", "middle");
  } else {
    const std::string stroke = fmt::format("en c{}", index % 10);
    const auto to_points = [&](const std::vector<double>& e) {
      std::vector<std::pair<double, double>> pts;
      const std::size_t stride = std::max<std::size_t>(1, e.size() / std::max(1.0, pr - pl) + 1);
      for (std::size_t k = 0; k < e.size(); k += stride) {
        pts.emplace_back(x(static_cast<double>(k)), y(stretch(e[k])));
      }
      if ((e.size() - 1) % stride != 0) {
        pts.emplace_back(x(static_cast<double>(e.size() - 1)), y(stretch(e.back())));
      }
      return pts;
    };
    for (const std::vector<double>& e : curves) svg.polyline(to_points(e), stroke);
    if (curves.size() > 1) svg.polyline(to_points(median_curve(curves, n)), "en-med");
  }
  for (const double k : {1.0, static_cast<double>(n)}) {
    svg.text(x(k), pb + 12, fmt::format("{}", static_cast<long long>(k)), "tk", "middle");
  }
  svg.text((pl + pr) / 2, pb + 12, "k", "tk", "middle");
  if (g.untrained) {
    svg.text(pr, pb - 4, fmt::format("{} untrained not drawn", g.untrained), "ps", "end");
  }
  svg.close_group();
}

}  // namespace

std::string render_energy(const std::vector<TypeGroup>& groups) {
  std::string out =
      "<section id=\"energy\"><h2>Energy vs rank</h2><p class=\"note\">Cumulative energy "
      "\u03a3<sub>i\u2264k</sub>\u03c3<sub>i</sub><sup>2</sup> / "
      "\u03a3\u03c3<sub>i</sub><sup>2</sup> kept by the top k directions, one thin line per "
      "module, the median in black. The vertical axis is stretched toward 1 (evenly spaced "
      "0.90 / 0.95 / 0.99 guides) so the energy ranks can be read off.</p>";
  if (groups.empty()) return out + "<p class=\"empty\">No LoRA modules.</p></section>\n";
  const bool small = groups.size() > 16;  // many types: more, smaller panels per row
  const double w = small ? 230.0 : 288.0, h = small ? 150.0 : 190.0;
  const std::size_t cols = static_cast<std::size_t>((kContentWidth + kEnergyGap) / (w + kEnergyGap));
  const std::size_t rows = (groups.size() + cols - 1) / cols;
  const double width = static_cast<double>(std::min(cols, groups.size())) * (w + kEnergyGap) - kEnergyGap;
  Svg svg(width, static_cast<double>(rows) * (h + kEnergyGap) - kEnergyGap, "cumulative energy by rank",
          "multiples");
  for (std::size_t i = 0; i < groups.size(); ++i) {
    draw_panel(svg, groups[i], i, static_cast<double>(i % cols) * (w + kEnergyGap),
               static_cast<double>(i / cols) * (h + kEnergyGap), w, h);
  }
  return out + svg.finish() + "</section>\n";
}

}  // namespace lorank::report
