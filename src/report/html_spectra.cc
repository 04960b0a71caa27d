// The spectra section: every module's σᵢ/σ₁ on a log axis, small multiples grouped by
// module type, one <svg> per group.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>

#include "report/html_sections.h"
#include "report/svg.h"

namespace lorank::report {
namespace {

// Ratios below this (and exact zeros) sit on the floor of the axis: log(0) has no place, and
// values 1e-8 below σ₁ are float rounding noise of the factors, not learned directions.
constexpr double kMinFloor = 1e-8;
constexpr double kPanelGap = 8.0;  // between panels

struct PanelSize {
  double w, h;
  bool dots;  // per-value markers (skipped on small panels: they would merge into the line)
};

// Panels shrink as the adapter grows so a 7B (224 modules) stays a few screens per type
// and a 1000+ module adapter stays a scrollable page of thumbnails.
PanelSize panel_size(std::size_t modules) {
  if (modules <= 64) return {192.0, 126.0, true};
  if (modules <= 320) return {143.0, 98.0, true};
  return {112.0, 78.0, false};
}

struct Margins {
  double l = 30, r = 6, t = 17, b = 14;
};

// The lowest decade that shows every positive ratio of the group (at most 0.1, at least 1e-8).
double group_floor(const TypeGroup& g) {
  double lo = 0.1;
  for (const AuditModule* m : g.modules) {
    const std::vector<double>& sv = m->singular_values;
    if (sv.empty() || !(sv.front() > 0.0) || !std::isfinite(sv.front())) continue;
    for (double s : sv) {
      const double r = s / sv.front();
      if (r > 0.0 && std::isfinite(r)) lo = std::min(lo, r);
    }
  }
  lo = std::max(lo, kMinFloor);
  return std::pow(10.0, std::floor(std::log10(lo) + 1e-9));
}

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') parts.emplace_back(s.substr(start, i - start)), start = i + 1;
  }
  return parts;
}

// Dotted name components that tell the modules of one group apart: the components every
// member shares at the start or the end are dropped ("attn1.to_q", "transformer_blocks.0").
struct Distinct {
  std::size_t front = 0, back = 0;
};
Distinct distinct_span(const TypeGroup& g) {
  if (g.modules.size() < 2) return {};
  std::vector<std::vector<std::string>> all;
  std::size_t shortest = SIZE_MAX;
  for (const AuditModule* m : g.modules) {
    all.push_back(split_dots(m->short_name.empty() ? m->name : m->short_name));
    shortest = std::min(shortest, all.back().size());
  }
  Distinct d;
  const auto same = [&](auto pick) {
    for (const auto& p : all) if (pick(p) != pick(all.front())) return false;
    return true;
  };
  while (d.front + 1 < shortest && same([&](const auto& p) { return p[d.front]; })) ++d.front;
  while (d.front + d.back + 1 < shortest &&
         same([&](const auto& p) { return p[p.size() - 1 - d.back]; })) {
    ++d.back;
  }
  return d;
}

// Short panel caption: "layer 12" when the layer identifies the module within its type,
// otherwise its distinct name components, long words cut to their first part
// ("down_blocks.2.attentions.1" → "down.2.atten.1") when the panel is narrow.
std::string caption(const AuditModule& m, bool layer_is_unique, const Distinct& d,
                    std::size_t max_chars) {
  if (m.layer >= 0 && layer_is_unique) return fmt::format("layer {}", m.layer);
  const std::vector<std::string> parts = split_dots(m.short_name.empty() ? m.name : m.short_name);
  std::string full, brief;
  for (std::size_t i = d.front; i + d.back < parts.size(); ++i) {
    const std::string& p = parts[i];
    std::string cut = p.size() > 6 ? p.substr(0, std::min<std::size_t>(5, p.find('_'))) : p;
    if (!full.empty()) full += '.', brief += '.';
    full += p;
    brief += cut.empty() ? p.substr(0, 5) : cut;
  }
  if (full.empty()) full = brief = m.short_name.empty() ? m.name : m.short_name;
  return shorten(full.size() <= max_chars ? full : brief, max_chars, true);
}

std::string tooltip(const AuditModule& m) {
  if (m.metrics.untrained) {
    return fmt::format("{}\nuntrained: every singular value is 0 (r={})", m.name, m.rank);
  }
  return fmt::format("{}\nr={}  recommended k={}  \u03c3\u2081={}  stable rank {}  "
                     "energy99 k={}",
                     m.name, m.rank, m.recommended_rank, format_sig(m.metrics.sigma1),
                     format_sig(m.metrics.stable_rank), m.metrics.energy_rank_99);
}

void draw_panel(Svg& svg, const AuditModule& m, const std::string& title, double x0, double y0,
                const PanelSize& size, double floor, double xmax) {
  const Margins mg;
  const double pl = mg.l, pr = size.w - mg.r, pt = mg.t, pb = size.h - mg.b;
  svg.open_group(tooltip(m), x0, y0, "panel");
  svg.rect(0, 0, size.w, size.h, "pbg");
  svg.text(4, 12, title, "pt");
  if (m.metrics.untrained || m.singular_values.empty() || !(m.singular_values.front() > 0.0)) {
    svg.rect(pl, pt, pr - pl, pb - pt, "flat");
    svg.line(pl, pb, pr, pb, "flatline");
    svg.text((pl + pr) / 2, (pt + pb) / 2, "untrained", "flat-t", "middle");
    svg.text((pl + pr) / 2, (pt + pb) / 2 + 12, fmt::format("\u03c3 = 0, r = {}", m.rank),
             "flat-s", "middle");
    svg.close_group();
    return;
  }
  const LinearScale x{0.5, xmax + 0.5, pl, pr};
  const LogScale y{floor, 1.0, pb, pt};
  svg.rect(pl, pt, pr - pl, pb - pt, "plot");
  const int k = std::max(0, m.recommended_rank);
  if (k > 0) svg.rect(pl, pt, x(std::min<double>(k, xmax) + 0.5) - pl, pb - pt, "keep");
  const std::vector<double> ticks = decade_ticks(floor, 1.0);
  const std::size_t every = ticks.size() > (size.h > 100 ? 6u : 4u) ? 2 : 1;
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    const double ty = y(ticks[i]);
    svg.line(pl, ty, pr, ty, "grid");
    if ((ticks.size() - 1 - i) % every == 0) svg.text(pl - 3, ty + 3, decade_label(ticks[i]), "tk", "end");
  }
  const double tau = m.metrics.threshold_tau;
  if (tau > floor && tau < 1.0) svg.line(pl, y(tau), pr, y(tau), "tau");
  if (m.rank > 0 && static_cast<double>(m.rank) <= xmax) {
    const double rx = x(static_cast<double>(m.rank));
    svg.line(rx, pt, rx, pb, "cur");
  }
  if (k > 0) {
    const double kx = x(std::min<double>(k, xmax));
    svg.line(kx, pt, kx, pb, "rec");
    svg.text(kx + (kx > (pl + pr) / 2 ? -2 : 2), pt + 9, fmt::format("k={}", k), "rec-t",
             kx > (pl + pr) / 2 ? "end" : "start");
  }
  // One point per pixel at most: σ is sorted, so striding keeps the curve's shape.
  const std::vector<double>& sv = m.singular_values;
  const double s1 = sv.front();
  const std::size_t stride = std::max<std::size_t>(1, sv.size() / std::max(1.0, pr - pl) + 1);
  std::vector<std::pair<double, double>> points;
  for (std::size_t i = 0; i < sv.size(); i += stride) {
    points.emplace_back(x(static_cast<double>(i + 1)), y(sv[i] / s1));
  }
  if ((sv.size() - 1) % stride != 0) {
    points.emplace_back(x(static_cast<double>(sv.size())), y(sv.back() / s1));
  }
  svg.polyline(points, "sv");
  if (size.dots && stride == 1 && sv.size() <= 64) {
    for (std::size_t i = 0; i < points.size(); ++i) {
      svg.circle(points[i].first, points[i].second, 1.8,
                 static_cast<int>(i) < k ? "dot" : "dot-out");
    }
  }
  svg.text(pr - 2, 12, "\u03c3\u2081 " + format_sig(s1, 2), "ps", "end");
  svg.text(pl, pb + 11, "1", "tk", "middle");
  svg.text(pr, pb + 11, fmt::format("{}", static_cast<long long>(xmax)), "tk", "end");
  svg.close_group();
}

std::string render_group(const TypeGroup& g, std::size_t index, const PanelSize& size) {
  const std::size_t cols = std::max<std::size_t>(
      1, static_cast<std::size_t>((kContentWidth + kPanelGap) / (size.w + kPanelGap)));
  const std::size_t rows = (g.modules.size() + cols - 1) / cols;
  const double floor = group_floor(g);
  double xmax = 1.0;
  std::multiset<int> layers;
  int kmin = 1 << 30, kmax = 0;
  for (const AuditModule* m : g.modules) {
    xmax = std::max({xmax, static_cast<double>(m->rank),
                     static_cast<double>(m->singular_values.size())});
    layers.insert(m->layer);
    if (!m->metrics.untrained) {
      kmin = std::min(kmin, m->recommended_rank);
      kmax = std::max(kmax, m->recommended_rank);
    }
  }
  std::string out = fmt::format(
      "<details class=\"group\" id=\"{}\" open><summary><span class=\"swatch\" "
      "style=\"background:{}\"></span><span class=\"gname\">{}</span> <span "
      "class=\"muted\">{} module{}",
      group_anchor(index), category_colour(index), escape_html(g.type), g.modules.size(),
      g.modules.size() == 1 ? "" : "s");
  if (g.untrained) out += fmt::format(" \u00b7 <span class=\"bad\">{} untrained</span>", g.untrained);
  if (kmax > 0) {
    out += kmin == kmax ? fmt::format(" \u00b7 recommended k = {}", kmax)
                        : fmt::format(" \u00b7 recommended k {}\u2013{}", kmin, kmax);
  }
  out += "</span></summary>";
  const double width = static_cast<double>(std::min(cols, g.modules.size())) * (size.w + kPanelGap) - kPanelGap;
  const double height = static_cast<double>(rows) * (size.h + kPanelGap) - kPanelGap;
  Svg svg(width, height, "singular value spectra of " + g.type, "multiples");
  const std::size_t max_chars = static_cast<std::size_t>((size.w - 60) / 5.5);
  const Distinct distinct = distinct_span(g);
  for (std::size_t i = 0; i < g.modules.size(); ++i) {
    const AuditModule& m = *g.modules[i];
    const double px = static_cast<double>(i % cols) * (size.w + kPanelGap);
    const double py = static_cast<double>(i / cols) * (size.h + kPanelGap);
    draw_panel(svg, m, caption(m, layers.count(m.layer) == 1, distinct, max_chars), px, py, size, floor,
               xmax);
  }
  out += svg.finish() + "</details>\n";
  return out;
}

}  // namespace

std::string render_spectra(const AuditReport& report, const std::vector<TypeGroup>& groups) {
  std::string out =
      "<section id=\"spectra\"><h2>Spectra</h2><p class=\"note\">Singular values "
      "\u03c3<sub>i</sub>/\u03c3<sub>1</sub> of each module's update s\u00b7B\u00b7A on a log "
      "axis (index i on x). <span class=\"lg lg-keep\"></span>kept at the recommended rank "
      "<span class=\"lg lg-rec\"></span>recommended k <span class=\"lg lg-cur\"></span>current "
      "r <span class=\"lg lg-tau\"></span>threshold \u03c4 \u00b7 values below "
      "10<sup>\u22128</sup>\u00b7\u03c3<sub>1</sub> (and zeros) sit on the axis floor.</p>";
  if (groups.empty()) return out + "<p class=\"empty\">No LoRA modules.</p></section>\n";
  if (groups.size() > 1) {
    out += "<div class=\"typeindex\">";
    for (std::size_t i = 0; i < groups.size(); ++i) {
      out += fmt::format("<a href=\"#{}\"><span class=\"swatch\" style=\"background:{}\"></span>"
                         "{} <span class=\"muted\">{}</span></a>",
                         group_anchor(i), category_colour(i), escape_html(shorten(groups[i].type, 48, true)),
                         groups[i].modules.size());
    }
    out += "</div>";
  }
  // Groups flow side by side when they are narrower than the page (types with few modules).
  out += "<div class=\"groups\">";
  const PanelSize size = panel_size(report.modules.size());
  for (std::size_t i = 0; i < groups.size(); ++i) out += render_group(groups[i], i, size);
  return out + "</div></section>\n";
}

}  // namespace lorank::report
