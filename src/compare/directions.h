// The singular directions of one LoRA update s·B·A from its factors (see lorank/compare.h):
// an explicit orthonormal basis Q of one factor's column space and the core's singular
// vectors in that basis, so that the directions are Q·(core vectors) without ever being
// formed. Internal to src/compare.
#ifndef LORANK_COMPARE_DIRECTIONS_H_
#define LORANK_COMPARE_DIRECTIONS_H_

#include <cstddef>
#include <span>
#include <vector>

#include "linalg/lora_svd.h"
#include "lorank/compare.h"
#include "lorank/spectrum.h"
#include "lorank/status.h"

namespace lorank::compare_internal {

// Directions on one side of ΔW = s·B·A. Column-major throughout.
struct Directions {
  int dim = 0;    // rows of q: out (left side) or in (right side)
  int kq = 0;     // columns of q: min(dim, r)
  int count = 0;  // min(out, in, r): singular values and direction vectors
  std::vector<double> q;        // dim×kq, ld dim, orthonormal columns (Q_B or Q_A)
  std::vector<double> vectors;  // kq×count, ld kq: U_M (left) or V_M (right)
  std::vector<double> sigma;    // |s|·σ(R_B·R_Aᵀ), `count` values, descending
  // #{σ_i > max(out, in, r)·ε·‖B‖_F·‖A‖_F}: the directions that are not rounding noise.
  std::size_t numerical_rank = 0;
};

// Reusable buffers (grow only). Not thread-safe: one per thread.
class DirectionsWorkspace {
 public:
  // Fills `out` for the module with factors `b` (out×r) and `a` (r×in), row-major.
  // REQUIRES (else kInvalidArgument) b.size() == out·r, a.size() == r·in, dimensions
  // within LAPACK's 32-bit range. kNumerical for a NaN/Inf factor element or scale.
  // A zero dimension gives count = 0.
  Status compute(std::span<const double> b, std::span<const double> a, LoraShape shape,
                 double scale, CompareSide side, Directions& out);

 private:
  linalg::LoraSvdWorkspace svd_workspace_;
  linalg::LoraSvd svd_;
};

}  // namespace lorank::compare_internal

#endif  // LORANK_COMPARE_DIRECTIONS_H_
