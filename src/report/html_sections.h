// The sections of the HTML audit report (html_report.h) and the helpers they share.
// Each render_* returns an HTML fragment; every file-derived string in it is escaped.
#ifndef LORANK_REPORT_HTML_SECTIONS_H_
#define LORANK_REPORT_HTML_SECTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lorank/audit.h"

#include "report/units.h"

namespace lorank::report {

// Width of the content column in CSS pixels: panels are laid out for it, and an SVG
// wider than its container scales down (the page stays usable at 1280 px and in print).
inline constexpr double kContentWidth = 1200.0;

// Modules of one module_type, in order of first appearance in report.modules (natural order
// of name, module_names.h), and in that order within a group.
struct TypeGroup {
  std::string type;  // module_type, or "(no type)" when empty
  std::vector<const AuditModule*> modules;
  std::size_t untrained = 0;
};
std::vector<TypeGroup> group_by_type(const AuditReport& report);

// An HTML id fragment for group `index` ("g3"): ids never come from file text.
std::string group_anchor(std::size_t index);

// Numbers for people: non-finite values print as "—", never "nan"/"inf".
std::string format_sig(double v, int digits = 3);  // 3 significant digits, 1.23e-05 style
std::string format_percent(double fraction);       // 12.3%

// The i-th categorical colour (CSS hex) of the report's palette: one per module type,
// shared by every section so a type keeps its colour across plots.
std::string_view category_colour(std::size_t i);
// A sequential colour (viridis) for t in [0, 1], and whether text on it should be white.
std::string sequential_colour(double t);
bool sequential_is_dark(double t);

// The start of a string that fits `max_chars` characters, with an ellipsis; keeps the
// tail (the informative part of dotted module names) when `keep_tail`.
std::string shorten(std::string_view s, std::size_t max_chars, bool keep_tail);

// Σσᵢ² over Σσ² for k = 0..n (element 0 is 0, element n is 1); empty for an untrained
// module (all σ = 0), so callers never divide by zero.
std::vector<double> cumulative_energy(const std::vector<double>& sv);

std::string page_css();
std::string page_script();

std::string render_header(const AuditReport& report, const std::vector<TypeGroup>& groups);
std::string render_spectra(const AuditReport& report, const std::vector<TypeGroup>& groups);
std::string render_heatmap(const AuditReport& report, const std::vector<TypeGroup>& groups);
std::string render_energy(const std::vector<TypeGroup>& groups);
std::string render_config(const AuditReport& report);
std::string render_module_table(const AuditReport& report);
std::string render_base(const AuditReport& report);  // "" without --base

}  // namespace lorank::report

#endif  // LORANK_REPORT_HTML_SECTIONS_H_
