// Renderings of an adapter's module spectra: the JSON document scripts read and a terminal
// table. (The full audit report with metrics and advice builds on these.)
#ifndef LORANK_AUDIT_REPORT_H_
#define LORANK_AUDIT_REPORT_H_

#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/audit.h"

namespace lorank {

// {"adapter": {"path", "format", "container", "config", "warnings"}, "modules": [{"name",
// "kind", "rank", "out", "in", "alpha", "scale", "scale_rule", "dtype", "dora",
// "singular_values"}], "passthrough": [{"name", "dtype", "shape"}]}.
// REQUIRES: spectra.size() == adapter.modules.size().
std::string audit_json(const Adapter& adapter, const std::vector<std::vector<double>>& spectra);

// The full audit report as one JSON document (schema: docs/audit.md): "adapter", "rule",
// "snap", "tau", "summary", "suggested_config" (an object), "modules" (the fields of the
// spectra-only document above plus short_name, layer, type, metrics, rule_rank,
// recommended_rank, config_rank) and "passthrough". Never contains NaN or Inf (a
// non-finite number would be written as null; run_audit produces none).
std::string audit_json(const AuditReport& report);

// One row per module: name, r, out×in, scale, σ₁ and σ_r/σ₁.
std::string audit_table(const Adapter& adapter, const std::vector<std::vector<double>>& spectra);

}  // namespace lorank

#endif  // LORANK_AUDIT_REPORT_H_
