// `lorank extract --html`: the extraction as one self-contained page (no network, no
// scripts): the intrinsic-rank reading, every matrix's ΔW spectrum σ_i/σ_1 with its k, and
// the table of the text report. Every file-derived string is escaped (svg.h).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "lorank/extract.h"
#include "report/html_sections.h"
#include "report/svg.h"

namespace lorank {
namespace {

using report::escape_html;
using report::format_sig;

// Every matrix's σ_i/σ_1 against i (log y): how fast ΔW's spectrum falls is its intrinsic
// rank; the dot marks each matrix's k.
std::string spectra_chart(const ExtractResult& r) {
  const double x0 = 64, y0 = 16, w = report::kContentWidth - 100, h = 320;
  report::Svg svg(report::kContentWidth, y0 + h + 44, "singular values of every extracted dW");
  std::size_t n = 1;
  double lo = 1.0;
  for (const ExtractedMatrix& m : r.matrices) {
    n = std::max(n, m.sigma.size());
    if (!m.sigma.empty() && m.sigma[0] > 0.0) lo = std::min(lo, std::max(m.sigma.back() / m.sigma[0], 1e-12));
  }
  lo = std::pow(10.0, std::floor(std::log10(lo)));
  if (lo >= 1.0) lo = 0.1;
  const report::LinearScale x{1.0, static_cast<double>(std::max<std::size_t>(n, 2)), x0, x0 + w};
  const report::LogScale y{lo, 1.0, y0 + h, y0};
  svg.rect(x0, y0, w, h, "pbg");
  for (double t : report::decade_ticks(lo, 1.0)) {
    svg.line(x0, y(t), x0 + w, y(t), "grid");
    svg.text(x0 - 4, y(t) + 3, report::decade_label(t), "tk", "end");
  }
  for (int i = 0; i <= 4; ++i) {
    const double v = std::round(1.0 + (static_cast<double>(std::max<std::size_t>(n, 2)) - 1.0) * i / 4.0);
    svg.text(x(v), y0 + h + 12, fmt::format("{:g}", v), "tk", "middle");
  }
  svg.text(x0 + w / 2, y0 + h + 28, "i (retained directions)", "ps", "middle");
  svg.text(12, y0 + h / 2, "sigma_i / sigma_1", "ps", "middle", -90);
  for (std::size_t j = 0; j < r.matrices.size(); ++j) {
    const ExtractedMatrix& m = r.matrices[j];
    if (m.sigma.empty() || m.sigma[0] <= 0.0) continue;
    std::vector<std::pair<double, double>> points;
    for (std::size_t i = 0; i < m.sigma.size(); ++i) {
      points.emplace_back(x(static_cast<double>(i + 1)), y(m.sigma[i] / m.sigma[0]));
    }
    svg.open_group(fmt::format("{}: k = {}, stable rank {}", m.tensor, m.k,
                               format_sig(m.delta_norm * m.delta_norm / (m.sigma[0] * m.sigma[0]))));
    svg.polyline(points, fmt::format("xl c{}", j % 10));
    svg.circle(points.back().first, points.back().second, 2.5, "dot");
    svg.close_group();
  }
  return svg.finish();
}

std::string matrix_table(const ExtractResult& r) {
  std::string rows;
  for (const ExtractedMatrix& m : r.matrices) {
    rows += fmt::format(
        "<tr><td>{}</td><td>{}x{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        escape_html(m.tensor), m.rows, m.cols, m.k, format_sig(m.delta_norm),
        format_sig(m.weight_norm > 0 ? m.delta_norm / m.weight_norm : NAN),
        format_sig(m.retained_energy, 6), format_sig(m.delta_norm > 0 ? m.error / m.delta_norm : NAN),
        format_sig(m.delta_norm > 0 ? m.optimum / m.delta_norm : NAN), m.passes, format_sig(m.bound, 2),
        m.certified ? "yes" : "no");
  }
  return "<div class=\"tablewrap\"><table><thead><tr><th>tensor</th><th>shape</th><th>k</th>"
         "<th>‖ΔW‖<sub>F</sub></th><th>‖ΔW‖/‖W‖</th><th>retained energy</th><th>relative error</th>"
         "<th>optimum</th><th>passes</th><th>bound</th><th>certified</th></tr></thead><tbody>" +
         rows + "</tbody></table></div>";
}

}  // namespace

std::string extract_html(const ExtractResult& r) {
  std::string not_extracted;
  for (const DifferingTensor& d : r.not_extracted) {
    not_extracted += fmt::format("<li>{} {} — {}, ‖Δ‖<sub>F</sub> {}{}</li>", escape_html(d.name),
                                 escape_html(d.shape.to_string()), escape_html(d.reason),
                                 format_sig(d.delta_norm), d.kept ? " (kept whole)" : "");
  }
  std::string warnings;
  for (const std::string& w : r.warnings) warnings += "<li>" + escape_html(w) + "</li>";
  const std::string body = fmt::format(
      "<section><h2>Intrinsic rank</h2><p>{}</p><p class=\"muted\">{} matrices extracted, {} "
      "identical tensor(s) skipped, {} differing not extracted; {} LoRA parameters for {} in "
      "the extracted matrices; rule {}, tolerance {}; {} s.</p></section>"
      "<section><h2>Spectra of ΔW</h2>{}</section><section><h2>Matrices</h2>{}</section>{}{}",
      escape_html(extract_reading(r)), r.matrices.size(), r.identical, r.not_extracted.size(),
      r.params, r.delta_params, escape_html(r.rule.to_string()), format_sig(r.tolerance),
      format_sig(r.seconds), spectra_chart(r), matrix_table(r),
      not_extracted.empty() ? "" : "<section><h2>Differing tensors not extracted</h2><ul>" + not_extracted + "</ul></section>",
      warnings.empty() ? "" : "<section><h2>Warnings</h2><ul>" + warnings + "</ul></section>");
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'\"><title>lorank extract</title><style>{}\n.xl{{fill:none;stroke-width:1.4}}"
      "</style></head><body><div class=\"page\"><header class=\"top\"><div class=\"brand\">lorank "
      "extract</div><h1>{} → {}</h1></header>{}</div></body></html>\n",
      report::page_css(), escape_html(r.base_path), escape_html(r.finetuned_path), body);
}

}  // namespace lorank
