// audit_html: the page skeleton, the header with the summary, and the suggested config.
// The plots and the table live in html_{spectra,heatmap,energy,table}.cc.
#include "lorank/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "report/html_sections.h"
#include "report/svg.h"

namespace lorank {
namespace report {
namespace {

// A summary card: a big figure, a caption and an optional detail line (all trusted HTML).
std::string card(std::string_view label, std::string_view value, std::string_view detail,
                 std::string_view cls = "") {
  return fmt::format(
      "<div class=\"card{}\"><div class=\"card-label\">{}</div><div class=\"card-value\">{}</div>"
      "<div class=\"card-detail\">{}</div></div>",
      cls.empty() ? std::string() : fmt::format(" {}", cls), label, value, detail);
}

// "now → recommended" with a two-bar comparison; `fraction` = recommended / now.
std::string before_after(std::string_view now, std::string_view rec, double fraction) {
  const double f = std::isfinite(fraction) ? std::clamp(fraction, 0.0, 1.0) : 1.0;
  return fmt::format(
      "<div class=\"ba\"><div class=\"ba-row\"><span>now</span><div class=\"bar\"><div "
      "class=\"bar-now\" style=\"width:100%\"></div></div><b>{}</b></div>"
      "<div class=\"ba-row\"><span>rec.</span><div class=\"bar\"><div class=\"bar-rec\" "
      "style=\"width:{:.1f}%\"></div></div><b>{}</b></div></div>",
      now, 100.0 * f, rec);
}

double ratio(std::uint64_t num, std::uint64_t den) {
  return den == 0 ? 1.0 : static_cast<double>(num) / static_cast<double>(den);
}

// The most common recommended rank among trained modules (0 if none).
int modal_rank(const AuditReport& report) {
  std::map<int, int> counts;
  for (const AuditModule& m : report.modules) {
    if (!m.metrics.untrained) ++counts[m.recommended_rank];
  }
  int best = 0, best_count = 0;
  for (const auto& [k, c] : counts) {
    if (c > best_count) best = k, best_count = c;
  }
  return best;
}

}  // namespace

std::string render_header(const AuditReport& report, const std::vector<TypeGroup>& groups) {
  const std::string file = std::filesystem::path(report.path).filename().string();
  std::string out = "<header class=\"top\"><div class=\"brand\">lorank audit</div>";
  out += fmt::format("<h1>{}</h1><div class=\"path\">{}</div>",
                     escape_html(file.empty() ? "(unnamed adapter)" : file),
                     escape_html(report.path));
  const auto chip = [](std::string_view k, std::string_view v) {
    return fmt::format("<span class=\"chip\"><span>{}</span> {}</span>", k,
                       escape_html(v.empty() ? "\u2014" : v));
  };
  out += "<div class=\"chips\">" + chip("format", report.format) +
         chip("container", report.container) + chip("rule", report.rule) +
         chip("snap", report.snap) +
         (report.base ? chip("base", std::filesystem::path(report.base->path).filename().string())
                      : std::string()) +
         "</div></header>\n";

  out += "<nav class=\"toc noprint\"><a href=\"#summary\">Summary</a><a href=\"#spectra\">"
         "Spectra</a><a href=\"#heatmap\">Rank heatmap</a><a href=\"#energy\">Energy</a>"
         "<a href=\"#config\">Suggested config</a><a href=\"#modules\">Modules</a>";
  if (report.base) out += "<a href=\"#base\">Against the base</a>";
  out += "</nav>\n";

  const AuditSummary& s = report.summary;
  out += "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">";
  out += card("Modules", report::grouped_count(s.modules),
              fmt::format("{} module type{}", groups.size(), groups.size() == 1 ? "" : "s"));
  out += card("Untrained", report::grouped_count(s.untrained),
              s.untrained ? "all singular values 0: B (or A) never left its init"
                          : "every module learned something",
              s.untrained ? "warn" : "");
  const int modal = modal_rank(report);
  out += card("Typical recommended rank", modal ? fmt::format("{}", modal) : "\u2014",
              "most common over trained modules");
  const double pr = ratio(s.recommended_params, s.lora_params);
  out += card("LoRA parameters",
              before_after(report::grouped_count(s.lora_params), report::grouped_count(s.recommended_params), pr),
              fmt::format("recommended keeps {} of the parameters", format_percent(pr)), "wide");
  const double br = ratio(s.recommended_bytes, s.file_bytes);
  out += card("Weights file",
              before_after(report::human_bytes(s.file_bytes), report::human_bytes(s.recommended_bytes), br),
              fmt::format("estimated, same dtype; passthrough params: {}",
                          report::grouped_count(s.passthrough_params)),
              "wide");
  out += "</div>";
  if (!report.warnings.empty()) {
    out += fmt::format("<div class=\"warnings\"><h3>{} warning{}</h3><ul>", report.warnings.size(),
                       report.warnings.size() == 1 ? "" : "s");
    for (const std::string& w : report.warnings) out += "<li>" + escape_html(w) + "</li>";
    out += "</ul></div>";
  }
  out += "</section>\n";
  return out;
}

std::string render_config(const AuditReport& report) {
  std::string out =
      "<section id=\"config\"><h2>Suggested config</h2><p class=\"note\">A PEFT "
      "<code>LoraConfig</code> for the next training run: <code>r</code> is the most common "
      "recommended rank, <code>rank_pattern</code> lists the others, <code>alpha_pattern</code> "
      "keeps every module's current scale.</p>";
  if (report.suggested_config.empty()) {
    out += "<p class=\"empty\">No suggestion (no trained modules).</p></section>\n";
    return out;
  }
  out += "<div class=\"config\"><pre id=\"config-text\">" + escape_html(report.suggested_config) +
         "</pre></div></section>\n";
  return out;
}

}  // namespace report

std::string audit_html(const AuditReport& report) {
  using namespace report;
  const std::vector<TypeGroup> groups = group_by_type(report);
  const std::string file = std::filesystem::path(report.path).filename().string();
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      // Defence in depth: even if an escape were missed, nothing may load from anywhere.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
      "<meta name=\"generator\" content=\"lorank\">\n";
  page += "<title>lorank audit \u2014 " + escape_html(file) + "</title>\n";
  page += "<style>\n" + page_css() + "</style>\n</head>\n<body>\n<div class=\"page\">\n";
  page += render_header(report, groups);
  page += render_spectra(report, groups);
  page += render_heatmap(report, groups);
  page += render_energy(groups);
  page += render_config(report);
  page += render_module_table(report);
  page += render_base(report);
  page += "<footer>Generated by lorank. Singular values of s\u00b7B\u00b7A in float64; "
          "metrics defined in docs/metrics.md.</footer>\n";
  page += "</div>\n<script>\n" + page_script() + "</script>\n</body>\n</html>\n";
  return page;
}

}  // namespace lorank
