// AuditReport fixtures for the report tests, filled by hand or from a real adapter's spectra.
// The metrics here are simple textbook versions for rendering tests only; the real ones
// (and the rank rules) are lorank's src/audit/metrics.cc.
#ifndef LORANK_TESTS_SUPPORT_AUDIT_FIXTURE_H_
#define LORANK_TESTS_SUPPORT_AUDIT_FIXTURE_H_

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "lorank/audit.h"

namespace lorank::testing {

// Threshold, energy, entropy, stable ranks and the largest gap of a descending spectrum;
// all-zero or empty → untrained with every rank 0.
SpectrumMetrics simple_metrics(const std::vector<double>& sv, double tau = 1e-2);

// A module named `name` with spectrum `sv` (descending), rank r = sv.size() unless given,
// layer and type parsed from the name as fill_names does, recommended = 99% energy rank.
AuditModule make_module(const std::string& name, std::vector<double> sv, std::size_t out = 64,
                        std::size_t in = 64, std::size_t rank = 0);

// Fills short_name ("base_model.model." dropped), layer (…layers|h|blocks|blk.N.…) and
// module_type (what follows the layer; without a layer, the trailing non-numeric components).
void fill_names(AuditModule& m);

// Recomputes the summary and a suggested PEFT config from the modules.
void finish_report(AuditReport& report);

// The report of a real adapter (folder or file): open_adapter + module_spectra, then the
// simple metrics above under rule "energy:0.99". Fails the test (and returns an empty
// report) if the adapter cannot be read.
AuditReport audit_fixture(const std::filesystem::path& adapter);

// A synthetic LLaMA-shaped report: `layers` × `types` modules of rank r with a planted
// decay (layer-dependent), every `untrained_every`-th module untrained (0 = none).
AuditReport synthetic_report(std::size_t layers, const std::vector<std::string>& types,
                             std::size_t r, std::size_t untrained_every = 0);

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_AUDIT_FIXTURE_H_
