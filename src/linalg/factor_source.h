// A LoRA factor as stored (F64/F32/F16/BF16 bytes, row- or column-major), widened to
// float64 a block of rows at a time, so the spectrum never holds a full double copy.
#ifndef LORANK_LINALG_FACTOR_SOURCE_H_
#define LORANK_LINALG_FACTOR_SOURCE_H_

#include <cstddef>

#include "core/kernel_variant.h"
#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank::linalg {

// How the m×n matrix F lies in memory: row-major (F[i][j] at i·n + j) or column-major
// (at j·m + i). LoRA's B (out×r, row-major) is F = B row-major; A (r×in, row-major) is
// F = Aᵀ column-major, so neither needs a transposition to be described.
enum class Layout { kRowMajor, kColMajor };

// The m×n matrix F over `data` (little-endian elements of `dtype`, any alignment).
// `name` ("B" or "A") labels errors. REQUIRES: dtype is F64/F32/F16/BF16 and `data` holds
// m·n elements; the bytes outlive the source.
struct FactorSource {
  const std::byte* data = nullptr;
  DType dtype = DType::kF64;
  std::size_t m = 0;
  std::size_t n = 0;
  Layout layout = Layout::kRowMajor;
  const char* name = "F";
};

// Widens rows [row0, row0 + rows) of F into dst. Row-major output (transposed = false):
// dst[i·ld + j] = F[row0 + i][j]; column-major output (transposed = true):
// dst[j·ld + i] = F[row0 + i][j]. Only the rows × n block is written. Returns false if any
// widened element is NaN/Inf (the whole block is still written).
bool widen_rows(const FactorSource& f, std::size_t row0, std::size_t rows, double* dst,
                std::size_t ld, bool transposed);

// Prefetches the stored bytes of rows [row0, row0 + rows) of F into the cache: for a
// column-major F those are n short runs far apart, too many streams for the hardware
// prefetcher, so the next block's widening would wait on memory. A hint only.
void prefetch_rows(const FactorSource& f, std::size_t row0, std::size_t rows);

// kNumerical naming F's first NaN/Inf as "<name>[i, j] is nan" in the caller's row-major
// indexing (B[i, j] for B, A[i, j] for A = Fᵀ). Slow path, only after widen_rows failed.
Status nonfinite_error(const FactorSource& f);

// widen_rows per instruction-set variant (widen_kernel.cc; core/kernel_variant.h).
struct WidenKernels {
  bool (*widen_rows)(const FactorSource&, std::size_t, std::size_t, double*, std::size_t, bool);
};
LORANK_DECLARE_KERNEL_VARIANTS(WidenKernels, kWidenKernels)

}  // namespace lorank::linalg

#endif  // LORANK_LINALG_FACTOR_SOURCE_H_
