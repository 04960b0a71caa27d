// φ grid, headline overlap and principal angles of two modules' directions (internal).
#ifndef LORANK_COMPARE_SIMILARITY_H_
#define LORANK_COMPARE_SIMILARITY_H_

#include <vector>

#include "compare/directions.h"
#include "lorank/compare.h"

namespace lorank::compare_internal {

// Reusable buffers (grow only). Not thread-safe: one per thread.
struct SimilarityWorkspace {
  std::vector<double> cross, half, g, small, work;
  std::vector<int> iwork;
};

// Fills the similarity fields of `m` (sigma_*, ranks, phi, diagonal, top_k,
// top_k_overlap, principal_cosines, null_reason) from the directions of the same side of
// two modules with equal dim. Leaves name, kind, shapes and scales to the caller.
Status similarity(const Directions& a, const Directions& b, const CompareOptions& options,
                  SimilarityWorkspace& ws, ModuleComparison& m);

// #{σ_i ≥ τ·σ₁} (0 when σ₁ = 0). REQUIRES σ descending.
std::size_t threshold_rank(const std::vector<double>& sigma, double tau);

}  // namespace lorank::compare_internal

#endif  // LORANK_COMPARE_SIMILARITY_H_
