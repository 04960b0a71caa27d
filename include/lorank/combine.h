// Combining several LoRA adapters of one base into one: ΔW = Σᵢ wᵢ·sᵢ·Bᵢ·Aᵢ per module.
//
// The sum is itself a product of thin factors, [w₁s₁B₁ … wₙsₙBₙ]·[A₁; …; Aₙ], so its exact
// spectrum and its best rank-k approximation come from the same QR core as `resize`
// (never a dense out×in matrix, unlike PEFT's add_weighted_adapter with "svd"). The
// stacked adapter is handed to resize_adapter, which writes it in the first adapter's
// format; docs/combine.md has the rules.
#ifndef LORANK_COMBINE_H_
#define LORANK_COMBINE_H_

#include <span>
#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/resize.h"
#include "lorank/status.h"

namespace lorank {

struct CombineOptions {
  std::vector<double> weights;  // wᵢ, one per adapter; empty = all 1
  // Keep every direction: each module gets rank min(Σ rᵢ, out, in) and the output holds
  // the weighted sum exactly (to the rounding of the SVD in double and of the output dtype).
  bool cat = false;
  // The rank rule etc. when !cat (resize's); `dtype` unset = the first adapter's factor dtype.
  ResizeOptions resize;
};

struct CombineResult {
  ResizeResult resized;  // the combined adapter (write it with write_adapter) and its report
  std::vector<std::string> warnings;
};

// Checks that the adapters share a format and a base (every module present in several
// adapters has one kind and one shape), stacks each module's weighted factors and resizes
// the stack. A module missing from some adapters is taken from the others (one warning
// counting them); non-LoRA tensors (modules_to_save, biases) come from the first adapter
// (a warning when a later one has its own). Errors: kInvalidArgument for a weight count
// that is not the adapter count, a non-finite weight or fewer than two adapters;
// kInvalidData for adapters of different formats, an adapter sharing no module with the
// first, or a module whose shape or kind differs
// (one line naming the module, both files and both shapes); kNotSupported for DoRA
// modules (their magnitudes do not add); resize_adapter's errors otherwise.
Result<CombineResult> combine_adapters(std::span<const Adapter> adapters,
                                       const CombineOptions& options);

}  // namespace lorank

#endif  // LORANK_COMBINE_H_
