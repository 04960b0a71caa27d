// Renderings of an audit report for terminals (table), scripts (JSON, CSV). The HTML page is
// in html_report.h.
#ifndef LORANK_AUDIT_REPORT_H_
#define LORANK_AUDIT_REPORT_H_

#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/audit.h"

namespace lorank {

// The full audit report as one JSON document (schema: docs/audit.md): "adapter", "rule",
// "snap", "tau", "summary", "suggested_config" (an object), "modules" (the fields of the
// spectra-only document above plus short_name, layer, type, metrics, rule_rank,
// recommended_rank, config_rank) and "passthrough". Never contains NaN or Inf (a
// non-finite number would be written as null; run_audit produces none).
std::string audit_json(const AuditReport& report);

// The terminal report: one row per module (short name, r, threshold/energy/entropy ranks,
// recommended rank, σ₁, a log-spectrum sparkline), the adapter summary, views grouped by
// module type and by layer, warnings, and the suggested PEFT config.
std::string audit_table(const AuditReport& report);

// One CSV row per module (RFC 4180 quoting): name, short_name, layer, type, kind, rank, out,
// in, scale, sigma1, frobenius, threshold_rank, energy_rank_90/95/99, entropy_rank,
// stable_rank, gap_index, gap_ratio, untrained, rule_rank, recommended_rank, config_rank,
// and with a base comparison weight_norm, relative_change, projection_delta,
// projection_w_top, projection_random, amplification (empty cells where undefined).
std::string audit_csv(const AuditReport& report);

}  // namespace lorank

#endif  // LORANK_AUDIT_REPORT_H_
