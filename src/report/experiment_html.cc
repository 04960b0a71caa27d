// The experiments' HTML pages. Each chart is a small SVG; styles come from the audit
// report's stylesheet (html_sections.h) so every lorank page looks alike.
#include "lorank/experiment_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/html_sections.h"
#include "report/svg.h"

namespace lorank {
namespace {

using report::decade_label;
using report::decade_ticks;
using report::escape_html;
using report::LinearScale;
using report::LogScale;
using report::Svg;

std::string page(const std::string& title, const std::string& subtitle, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'\"><title>{0}</title><style>{1}\n.xl{{fill:none;stroke-width:1.8}}"
      "\n.lg-item{{display:inline-flex;align-items:center;gap:5px;margin-right:16px}}"
      "\n.lg-item svg{{display:inline;width:22px;height:10px}}</style></head><body><div class=\"page\">"
      "<header class=\"top\"><div class=\"brand\">lorank experiment</div><h1>{0}</h1>"
      "<p class=\"muted\">{2}</p></header>{3}</div></body></html>\n",
      escape_html(title), report::page_css(), escape_html(subtitle), body);
}

struct Frame {
  double x0 = 56, y0 = 16, w = 0, h = 0;  // plot area inside the svg
};

// Axes with a log y scale [lo, hi] and a linear x scale [x_lo, x_hi]; returns the scales.
std::pair<LinearScale, LogScale> log_axes(Svg& svg, const Frame& f, double x_lo, double x_hi,
                                          double lo, double hi, const std::string& x_label,
                                          const std::string& y_label) {
  LinearScale x{x_lo, x_hi, f.x0, f.x0 + f.w};
  LogScale y{lo, hi, f.y0 + f.h, f.y0};
  svg.rect(f.x0, f.y0, f.w, f.h, "pbg");
  for (double t : decade_ticks(lo, hi)) {
    svg.line(f.x0, y(t), f.x0 + f.w, y(t), "grid");
    svg.text(f.x0 - 4, y(t) + 3, decade_label(t), "tk", "end");
  }
  for (int i = 0; i <= 4; ++i) {
    const double v = x_lo + (x_hi - x_lo) * i / 4.0;
    svg.text(x(v), f.y0 + f.h + 12, fmt::format("{:g}", std::round(v)), "tk", "middle");
  }
  svg.text(f.x0 + f.w / 2, f.y0 + f.h + 26, x_label, "ps", "middle");
  svg.text(12, f.y0 + f.h / 2, y_label, "ps", "middle", -90);
  return {x, y};
}

std::string legend(const std::vector<std::string>& names) {
  std::string out = "<p class=\"muted\">";
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += fmt::format("<span class=\"lg-item\"><svg viewBox=\"0 0 22 10\"><line x1=\"0\" "
                       "y1=\"5\" x2=\"22\" y2=\"5\" class=\"xl c{}\"/></svg>{}</span>",
                       i % 10, escape_html(names[i]));
  }
  return out + "</p>";
}

}  // namespace

std::string sweep_html(const SweepResult& r) {
  const std::size_t n_k = r.params.true_ranks.size(), n_r = r.params.ranks.size();
  const double cw = 92, ch = 44, x0 = 80, y0 = 40;
  Svg svg(x0 + cw * n_r + 20, y0 + ch * n_k + 30, "final error by true rank and rank");
  double lo = 1.0, hi = 1e-9;
  for (const SweepCell& c : r.cells) {
    if (std::isfinite(c.rel_err) && c.rel_err > 0) lo = std::min(lo, c.rel_err), hi = std::max(hi, c.rel_err);
  }
  const double span = std::max(1e-12, std::log10(hi) - std::log10(std::max(lo, 1e-12)));
  for (std::size_t b = 0; b < n_r; ++b) {
    svg.text(x0 + cw * (b + 0.5), y0 - 8, fmt::format("r = {}", r.params.ranks[b]), "hl", "middle");
  }
  for (std::size_t a = 0; a < n_k; ++a) {
    svg.text(x0 - 8, y0 + ch * (a + 0.6), fmt::format("k = {}", r.params.true_ranks[a]), "hl", "end");
    for (std::size_t b = 0; b < n_r; ++b) {
      const SweepCell& c = r.cells[a * n_r + b];
      const double t = std::isfinite(c.rel_err) && c.rel_err > 0
                           ? (std::log10(c.rel_err) - std::log10(std::max(lo, 1e-12))) / span
                           : 1.0;
      const double gx = x0 + cw * b, gy = y0 + ch * a;
      svg.open_group(fmt::format("k = {}, r = {}: rel err {:.4f}, optimum {:.4f}", c.true_rank,
                                 c.rank, c.rel_err, c.optimal_rel_err));
      svg.rect(gx + 1, gy + 1, cw - 2, ch - 2, "", report::sequential_colour(1.0 - t));
      const char* cls = report::sequential_is_dark(1.0 - t) ? "hv dark" : "hv";
      svg.text(gx + cw / 2, gy + ch / 2 - 2, fmt::format("{:.4f}", c.rel_err), cls, "middle");
      svg.text(gx + cw / 2, gy + ch / 2 + 12, fmt::format("opt {:.4f}", c.optimal_rel_err), cls, "middle");
      svg.close_group();
      if (c.rank == c.true_rank) svg.rect(gx + 1, gy + 1, cw - 2, ch - 2, "rec", "none");
    }
  }
  const SweepParams& p = r.params;
  return page("sweep: true rank × allocated rank",
              fmt::format("final ‖T − B·A‖_F/‖T‖_F per cell (darker = smaller) with the "
                          "Eckart–Young optimum; outlined: r = k. dim {}, steps {}, lr {}, noise {}, seed {}.",
                          p.dim, p.steps, p.lr, p.noise, p.seed),
              "<section>" + svg.finish() + "</section>");
}

std::string noise_html(const NoiseResult& r) {
  const NoiseParams& p = r.params;
  std::string body = "<section><h2>Trailing singular values over training</h2>";
  std::vector<std::string> names;
  Frame f{56, 16, 820, 300};
  Svg svg(f.x0 + f.w + 20, f.y0 + f.h + 40, "trailing singular values over steps");
  double hi = r.noise_floor.empty() ? 1.0 : r.noise_floor.front() * 1.5, lo = hi * 1e-4;
  auto [x, y] = log_axes(svg, f, 0, p.steps, lo, hi, "step", "σ_{k+1..r}");
  std::size_t series = 0;
  for (const NoiseRun& run : r.runs) {
    if (run.trace.empty() || run.trace.front().trailing.empty()) continue;
    names.push_back(fmt::format("r = {} (σ_{{k+1}} and σ_r)", run.rank));
    for (bool last : {false, true}) {
      std::vector<std::pair<double, double>> pts;
      for (const NoisePoint& pt : run.trace) {
        if (pt.trailing.empty()) continue;
        pts.emplace_back(x(pt.step), y(last ? pt.trailing.back() : pt.trailing.front()));
      }
      svg.polyline(pts, fmt::format("xl c{}", series % 10));
    }
    ++series;
  }
  for (std::size_t i = 0; i < std::min<std::size_t>(3, r.noise_floor.size()); ++i) {
    svg.line(f.x0, y(r.noise_floor[i]), f.x0 + f.w, y(r.noise_floor[i]), "g99");
  }
  if (!r.noise_floor.empty()) {
    svg.text(f.x0 + f.w - 4, y(r.noise_floor.front()) - 4, "noise matrix σ₁..σ₃", "tk", "end");
  }
  body += svg.finish() + legend(names) + "</section>";
  body += "<section><h2>Errors at the end</h2><table><tr><th>r</th><th>train</th><th>held-out</th>"
          "<th>distance to the signal</th></tr>";
  for (const NoiseRun& run : r.runs) {
    if (run.trace.empty()) continue;
    const NoisePoint& e = run.trace.back();
    body += fmt::format("<tr><td class=\"num\">{}</td><td class=\"num\">{:.5f}</td><td class=\"num\">"
                        "{:.5f}</td><td class=\"num\">{:.5f}</td></tr>",
                        run.rank, e.train_err, e.held_out_err, e.signal_err);
  }
  body += "</table></section>";
  return page("noise: what the extra directions learn",
              fmt::format("dim {}, true rank k = {}, steps {}, lr {}, noise {}, seed {}.", p.dim,
                          p.true_rank, p.steps, p.lr, p.noise, p.seed),
              body);
}

std::string scaling_html(const ScalingResult& r) {
  const ScalingParams& p = r.params;
  std::string body;
  for (Optimizer opt : {Optimizer::kAdam, Optimizer::kGradientDescent}) {
    const std::vector<double>& lrs = opt == Optimizer::kAdam ? p.adam_lrs : p.sgd_lrs;
    for (double lr : lrs) {
      body += fmt::format("<section><h2>{} lr {:g}</h2><div class=\"groups\">",
                          opt == Optimizer::kAdam ? "Adam" : "SGD", lr);
      for (ScaleRule rule : p.rules) {
        Frame f{48, 14, 300, 170};
        Svg svg(f.x0 + f.w + 10, f.y0 + f.h + 36, "learning curves");
        const double hi = std::max(r.initial_loss * 2, 1e-6), lo = std::max(r.noise_loss * 0.5, hi * 1e-6);
        auto [x, y] = log_axes(svg, f, 0, p.steps, lo, hi, "step", "train MSE");
        svg.line(f.x0, y(r.noise_loss), f.x0 + f.w, y(r.noise_loss), "g99");
        svg.text(f.x0 + 4, f.y0 + 10, std::string(scale_rule_name(rule)), "pt");
        std::size_t series = 0;
        for (const ScalingRun& run : r.runs) {
          if (run.rule != rule || run.optimizer != opt || run.lr != lr) continue;
          std::vector<std::pair<double, double>> pts;
          for (const auto& [step, loss] : run.curve) {
            if (std::isfinite(loss)) pts.emplace_back(x(step), y(loss));
          }
          svg.polyline(pts, fmt::format("xl c{}", series++ % 10));
        }
        body += "<div class=\"group\">" + svg.finish() + "</div>";
      }
      body += "</div></section>";
    }
  }
  std::vector<std::string> names;
  for (int rank : p.ranks) names.push_back(fmt::format("r = {}", rank));
  return page("scaling: α/r, α = r, rsLoRA",
              fmt::format("training MSE over steps, one line per rank; dashed: the noise floor "
                          "(MSE of the true update). dim {}, true rank {}, {} samples, α = {}.",
                          p.dim, p.true_rank, p.samples, p.alpha),
              legend(names) + body);
}

std::string similarity_html(const SimilarityResult& r) {
  const SimilarityParams& p = r.params;
  std::string body = "<section><div class=\"groups\">";
  for (const SimilarityRow& row : r.rows) {
    Frame f{48, 16, 280, 150};
    Svg svg(f.x0 + f.w + 10, f.y0 + f.h + 36, "subspace similarity");
    LinearScale x{0.5, row.true_rank + 0.5, f.x0, f.x0 + f.w};
    LinearScale y{0, 1, f.y0 + f.h, f.y0};
    svg.rect(f.x0, f.y0, f.w, f.h, "pbg");
    for (double t : {0.0, 0.5, 1.0}) {
      svg.line(f.x0, y(t), f.x0 + f.w, y(t), "grid");
      svg.text(f.x0 - 4, y(t) + 3, fmt::format("{:g}", t), "tk", "end");
    }
    const double bw = f.w / row.true_rank * 0.7;
    for (std::size_t i = 0; i < row.diagonal.size(); ++i) {
      const double cx = x(static_cast<double>(i + 1));
      svg.rect(cx - bw / 2, y(row.diagonal[i]), bw, y(0) - y(row.diagonal[i]), "", "#2563eb");
      svg.text(cx, f.y0 + f.h + 12, fmt::format("{}", i + 1), "tk", "middle");
    }
    svg.line(f.x0, y(row.chance), f.x0 + f.w, y(row.chance), "g99");
    svg.text(f.x0 + f.w / 2, f.y0 + f.h + 26, "i", "ps", "middle");
    svg.text(f.x0 + 4, f.y0 + 12, fmt::format("k = {}: r = {} vs r = {}", row.true_rank,
                                              row.rank_small, row.rank_large), "pt");
    body += "<div class=\"group\">" + svg.finish() + "</div>";
  }
  body += "</div></section>";
  return page("similarity: r = k vs r = " + std::to_string(p.factor) + "k",
              fmt::format("φ(i, i) of the top {} singular directions; dashed: chance (k/dim). "
                          "dim {}, steps {}, seed {}.",
                          p.right ? "right" : "left", p.dim, p.steps, p.seed),
              body);
}

}  // namespace lorank
