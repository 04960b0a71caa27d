// `audit --base`: every module's ΔW against its base weight W (Hu et al. 2022, §7.3).
// Internal to src/audit; the numbers are defined in lorank/audit.h and docs/base-audit.md.
#ifndef LORANK_AUDIT_BASE_PROJECTION_H_
#define LORANK_AUDIT_BASE_PROJECTION_H_

#include <vector>

#include "lorank/adapter.h"
#include "lorank/audit.h"
#include "lorank/checkpoint.h"
#include "lorank/status.h"

namespace lorank::audit_internal {

// Element i compares adapter.modules[i] with its W; `spectra[i]` are its singular values
// of s·B·A (module_spectra), from which ‖ΔW‖_F comes. Modules run in parallel (options.
// threads), each worker streaming one W a block of rows at a time. kNotSupported for a
// kohya adapter; find_base_tensor's errors; the checkpoint's read errors with the module.
Result<std::vector<BaseComparison>> compare_with_base(
    const Adapter& adapter, const std::vector<std::vector<double>>& spectra,
    const AuditOptions& options);

// The BaseAudit of `modules` (base filled in): medians, classes and the reading.
BaseAudit summarise_base(const std::vector<AuditModule>& modules, const Checkpoint& base,
                         std::uint64_t seed);

}  // namespace lorank::audit_internal

#endif  // LORANK_AUDIT_BASE_PROJECTION_H_
