// The audit as one self-contained HTML page: `lorank audit --html FILE`.
#ifndef LORANK_HTML_REPORT_H_
#define LORANK_HTML_REPORT_H_

#include <string>

#include "lorank/audit.h"

namespace lorank {

// Renders `report` as a complete HTML5 document (UTF-8) with inline CSS and inline SVG
// only: no network, fonts, scripts or frameworks from outside, so it can be mailed, archived
// or opened offline. A few lines of inline JavaScript add a table filter, sorting and a copy
// button; with JavaScript off every section is still complete and readable.
//
// Sections: header and summary (params and bytes now vs recommended, warnings); every
// module's spectrum σᵢ/σ₁ on a log scale as small multiples grouped by module type, with the
// current and recommended ranks marked and untrained modules drawn as flat panels; a heatmap
// of recommended rank by layer × module type; cumulative energy vs rank per module type
// with 0.90/0.95/0.99 guides; the suggested config; a table of every module's metrics.
//
// Every string from the adapter (path, names, warnings, config) is escaped: hostile tensor
// names render as text. Non-finite numbers print as "—" and zero singular values are
// clamped to a floor, so the page never shows "nan"/"inf". Size grows linearly: about
// 3 kB per module for r ≤ 64 (panels shrink as the module count grows).
std::string audit_html(const AuditReport& report);

}  // namespace lorank

#endif  // LORANK_HTML_REPORT_H_
