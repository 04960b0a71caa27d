// Y = F·T for a stored LoRA factor F (m×n, any float dtype, either layout) and a small
// n×k matrix T, streamed over blocks of F's rows: the truncated factors of `lorank resize`
// come out of one more read of the factor, never a widened copy of it.
#ifndef LORANK_LINALG_FACTOR_PRODUCT_H_
#define LORANK_LINALG_FACTOR_PRODUCT_H_

#include <cstddef>
#include <vector>

#include "linalg/factor_source.h"
#include "lorank/status.h"

namespace lorank::linalg {

// Buffers reused across calls (grow only). Not thread-safe: one per thread.
struct FactorProductBuffers {
  std::vector<double> rows;     // one widened block of F, row-major
  std::vector<double> t;        // T zero-padded to a multiple of kLanes columns
  std::vector<double> product;  // the block's rows of Y, padded likewise
  std::vector<double> scratch;  // product-kernel packing
};

// Y = F·T with T n×k column-major (ld ldt ≥ n), k ≥ 1. Y is m×k, written to `y` row-major
// (y[i·k + j]) or, with `transposed`, column-major (y[j·m + i], i.e. Yᵀ row-major).
// kNumerical naming F's first NaN/Inf element; `y` is then partly written.
Status factor_times(const FactorSource& f, const double* t, std::size_t ldt, std::size_t k,
                    double* y, bool transposed, FactorProductBuffers& buf);

}  // namespace lorank::linalg

#endif  // LORANK_LINALG_FACTOR_PRODUCT_H_
