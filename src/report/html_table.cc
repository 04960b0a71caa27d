// The modules table: one row per module, key metrics, sortable by a few lines of JS
// (html_style.cc); without JS it is a plain table in file order.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "report/html_sections.h"
#include "report/svg.h"

namespace lorank::report {
namespace {

struct Column {
  const char* label;
  const char* title;  // header tooltip
  bool numeric;
};

constexpr std::array<Column, 17> kColumns = {{
    {"#", "file order", true},
    {"module", "name as in the file (hover for the full name)", false},
    {"type", "module type", false},
    {"layer", "layer index (\u2014 if none)", true},
    {"r", "current rank", true},
    {"out\u00d7in", "shape of \u0394W", true},
    {"scale", "s in \u0394W = s\u00b7B\u00b7A", true},
    {"\u03c3\u2081", "largest singular value = \u2016\u0394W\u2016\u2082", true},
    {"\u2016\u0394W\u2016F", "Frobenius norm", true},
    {"thr", "threshold rank #{\u03c3\u1d62 \u2265 \u03c4\u00b7\u03c3\u2081}", true},
    {"E90", "energy rank at 90%", true},
    {"E95", "energy rank at 95%", true},
    {"E99", "energy rank at 99%", true},
    {"entropy", "entropy effective rank", true},
    {"stable", "stable rank \u2016\u0394W\u2016F\u00b2/\u03c3\u2081\u00b2", true},
    {"gap", "largest gap \u03c3\u2096/\u03c3\u2096\u208a\u2081 at k", true},
    {"k", "recommended rank (bar: k / r)", true},
}};

// A numeric cell: the sort key in data-v, the display text escaped.
std::string num(double sort_key, std::string_view text) {
  const std::string key = std::isfinite(sort_key) ? fmt::format("{:.6g}", sort_key) : "0";
  return fmt::format("<td data-v=\"{}\">{}</td>", key, escape_html(text));
}

std::string row(const AuditModule& m, std::size_t index) {
  const SpectrumMetrics& s = m.metrics;
  const bool untrained = s.untrained;
  const std::string name = m.short_name.empty() ? m.name : m.short_name;
  std::string out = fmt::format("<tr{}>", untrained ? " class=\"untr\"" : "");
  out += num(static_cast<double>(index + 1), fmt::format("{}", index + 1));
  out += fmt::format("<td class=\"name\" title=\"{}\">{}</td>", escape_html(m.name), escape_html(name));
  out += "<td class=\"type\">" + escape_html(m.module_type) + "</td>";
  out += m.layer >= 0 ? num(m.layer, fmt::format("{}", m.layer)) : num(-1, "\u2014");
  out += num(static_cast<double>(m.rank), fmt::format("{}", m.rank));
  out += num(static_cast<double>(m.out) * static_cast<double>(m.in),
             fmt::format("{}\u00d7{}", m.out, m.in));
  out += num(m.scale, format_sig(m.scale));
  out += num(s.sigma1, format_sig(s.sigma1));
  out += num(s.frobenius, format_sig(s.frobenius));
  if (untrained) {
    // Same cell count as trained rows, so sorting by any column stays aligned.
    for (int i = 0; i < 7; ++i) out += num(-1, "\u2014");
    out += "<td data-v=\"-1\"><span class=\"badge bad\">untrained</span></td></tr>\n";
    return out;
  }
  out += num(s.threshold_rank, fmt::format("{}", s.threshold_rank));
  out += num(s.energy_rank_90, fmt::format("{}", s.energy_rank_90));
  out += num(s.energy_rank_95, fmt::format("{}", s.energy_rank_95));
  out += num(s.energy_rank_99, fmt::format("{}", s.energy_rank_99));
  out += num(s.entropy_rank, format_sig(s.entropy_rank));
  out += num(s.stable_rank, format_sig(s.stable_rank));
  out += s.gap_index > 0 ? num(s.gap_ratio, fmt::format("{}: {}\u00d7", s.gap_index,
                                                        format_sig(s.gap_ratio, 2)))
                         : num(0, "\u2014");
  const double frac = m.rank ? std::clamp(static_cast<double>(m.recommended_rank) /
                                              static_cast<double>(m.rank), 0.0, 1.0)
                             : 0.0;
  out += fmt::format("<td data-v=\"{}\"><span class=\"kbar\"><span style=\"width:{:.0f}%\"></span>"
                     "</span><b>{}</b></td></tr>\n",
                     m.recommended_rank, 100.0 * frac, m.recommended_rank);
  return out;
}

}  // namespace

std::string render_module_table(const AuditReport& report) {
  std::string out = fmt::format(
      "<section id=\"modules\"><h2>Modules</h2><p class=\"note\">{} modules in file order. "
      "<span class=\"js-only\">Click a column header to sort; type in the box to filter by "
      "name or type.</span></p><input id=\"filter\" class=\"noprint js-only\" type=\"search\" "
      "placeholder=\"filter modules\u2026\" aria-label=\"filter modules\">",
      report::grouped_count(report.modules.size()));
  if (report.modules.empty()) return out + "<p class=\"empty\">No LoRA modules.</p></section>\n";
  out += "<div class=\"tablewrap\"><table id=\"module-table\"><thead><tr>";
  for (const Column& c : kColumns) {
    out += fmt::format("<th title=\"{}\"{}>{}</th>", escape_html(c.title),
                       c.numeric ? " class=\"num\"" : "", escape_html(c.label));
  }
  out += "</tr></thead><tbody>\n";
  for (std::size_t i = 0; i < report.modules.size(); ++i) out += row(report.modules[i], i);
  return out + "</tbody></table></div></section>\n";
}

}  // namespace lorank::report
