// Text and JSON renderings of a DemoResult.
#ifndef LORANK_DEMO_REPORT_H_
#define LORANK_DEMO_REPORT_H_

#include <string>

#include "lorank/demo.h"

namespace lorank {

// The explainer's table, character for character: header, rule, then one row per rank
// `{r:13d}  |  {rel_err:13.4f}  | ` + the top-8 singular values as `{:.3f}` two spaces
// apart (zeros past the rank, as NumPy's full SVD shows them).
std::string demo_table(const DemoResult& result);

// A short reading computed from the numbers: which ranks under-fit, fit or over-allocate,
// how many directions stand above the noise floor, and the noise matrix's own spectrum.
std::string demo_reading(const DemoResult& result);

// One JSON object: {"params", "rows": [{"rank", "rel_err", "optimal_rel_err",
// "singular_values", "directions_above_noise"}], "noise_floor", "target_spectrum", "seconds"}.
// Non-finite numbers become null.
std::string demo_json(const DemoResult& result);

// Directions of `sv` that stand above the noise floor: σ > max(2·floor₁, 1e-3·σ₁(sv)).
int directions_above_noise(const std::vector<double>& sv, const std::vector<double>& floor);

}  // namespace lorank

#endif  // LORANK_DEMO_REPORT_H_
