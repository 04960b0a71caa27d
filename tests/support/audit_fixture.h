// AuditReport fixtures for the report tests: from a real adapter (run_audit), or built by
// hand from spectra with lorank's own metrics, names and default rule.
#ifndef LORANK_TESTS_SUPPORT_AUDIT_FIXTURE_H_
#define LORANK_TESTS_SUPPORT_AUDIT_FIXTURE_H_

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "lorank/audit.h"

namespace lorank::testing {

// A module named `name` with spectrum `sv` (descending), rank r = sv.size() unless given,
// names from module_names.h, metrics from rank.h, recommended rank by the default rule.
AuditModule make_module(const std::string& name, std::vector<double> sv, std::size_t out = 64,
                        std::size_t in = 64, std::size_t rank = 0);

// Recomputes the summary and a suggested PEFT config from the modules.
void finish_report(AuditReport& report);

// run_audit of a real adapter (folder or file) with default options. Fails the test (and
// returns an empty report) if the adapter cannot be read.
AuditReport audit_fixture(const std::filesystem::path& adapter);

// A synthetic LLaMA-shaped report: `layers` × `types` modules of rank r with a planted
// decay (layer-dependent), every `untrained_every`-th module untrained (0 = none).
AuditReport synthetic_report(std::size_t layers, const std::vector<std::string>& types,
                             std::size_t r, std::size_t untrained_every = 0);

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_AUDIT_FIXTURE_H_
