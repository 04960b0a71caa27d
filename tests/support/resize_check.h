// Shared checks for resize tests: write → re-open → compare spectra, scales, passthrough.
#ifndef LORANK_TESTS_SUPPORT_RESIZE_CHECK_H_
#define LORANK_TESTS_SUPPORT_RESIZE_CHECK_H_

#include <filesystem>
#include <optional>

#include "lorank/adapter.h"
#include "lorank/resize.h"

namespace lorank::testing {

struct ResizeCheck {
  double sigma_tol = 1e-12;   // |σ'_j − σ_j| ≤ sigma_tol·σ₁ for j < k
  bool dense = false;         // also check ‖ΔW − ΔW'‖_F against the Eckart–Young bound
  bool same_scales = false;   // re-opened scales equal the input's (PEFT)
};

// Writes `r.adapter` to `out`, re-opens it and checks it against `before` and the report.
// Returns the re-opened adapter's spectra's largest |σ'_j − σ_j|/σ₁ (for messages).
double check_resized(const Adapter& before, const ResizeResult& r, const std::filesystem::path& out,
                     const ResizeCheck& check);

// ResizeOptions with the fields the tests vary.
inline ResizeOptions resize_options(RankRule rule, bool sigma_in_b, std::optional<DType> dtype,
                                    unsigned threads) {
  ResizeOptions o;
  o.rule = rule;
  o.sigma_in_b = sigma_in_b;
  o.dtype = dtype;
  o.threads = threads;
  return o;
}

// s·B·A of a module, row-major out×in.
std::vector<double> dense_update(const LoraModule& m);

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_RESIZE_CHECK_H_
