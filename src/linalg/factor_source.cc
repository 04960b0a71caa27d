#include "linalg/factor_source.h"

namespace lorank::linalg {

bool widen_rows(const FactorSource& f, std::size_t row0, std::size_t rows, double* dst,
                std::size_t ld, bool transposed) {
  return kWidenKernels_active().widen_rows(f, row0, rows, dst, ld, transposed);
}

void prefetch_rows(const FactorSource& f, std::size_t row0, std::size_t rows) {
  constexpr std::size_t kLine = 64;
  const std::size_t size = dtype_size(f.dtype);
  const bool row_major = f.layout == Layout::kRowMajor;
  const std::size_t runs = row_major ? 1 : f.n;
  const std::size_t bytes = (row_major ? rows * f.n : rows) * size;
  for (std::size_t t = 0; t < runs; ++t) {
    const std::byte* p = f.data + (row_major ? row0 * f.n : t * f.m + row0) * size;
    for (std::size_t b = 0; b < bytes; b += kLine) __builtin_prefetch(p + b);
  }
}

Status nonfinite_error(const FactorSource& f) {
  const std::size_t count = f.m * f.n;
  const std::size_t row_length = f.layout == Layout::kRowMajor ? f.n : f.m;
  double v = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    FactorSource one = f;
    one.data = f.data + i * dtype_size(f.dtype);
    one.m = 1;
    one.n = 1;
    if (!widen_rows(one, 0, 1, &v, 1, false)) {
      return numerical_error("{}[{}, {}] is {}: the spectrum is undefined", f.name,
                             i / row_length, i % row_length, v);
    }
  }
  return internal_error("non-finite check of {} is inconsistent", f.name);
}

}  // namespace lorank::linalg
