// Exact widening of a factor's stored values into double, compiled once per instruction-set
// variant (core/kernel_variant.h); factor_source.cc's widen_rows dispatches here. Widening
// is exact, so every variant gives the same bits (tested).
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#include "core/float_bits.h"
#include "core/kernel_variant.h"
#include "linalg/factor_source.h"

#ifndef LORANK_KERNEL_VARIANT
#error "compiled once per variant by CMakeLists.txt with -DLORANK_KERNEL_VARIANT=..."
#endif

namespace lorank::linalg::LORANK_KERNEL_VARIANT {
namespace {

static_assert(std::endian::native == std::endian::little, "the stored bytes are little-endian");

// Element `index` of the stored array, widened exactly (memcpy: any alignment).
template <DType kType>
inline double element(const std::byte* data, std::size_t index) {
  if constexpr (kType == DType::kF64) {
    double v;
    std::memcpy(&v, data + index * 8, 8);
    return v;
  } else if constexpr (kType == DType::kF32) {
    float v;
    std::memcpy(&v, data + index * 4, 4);
    return static_cast<double>(v);
  } else {
    std::uint16_t h;
    std::memcpy(&h, data + index * 2, 2);
    if constexpr (kType == DType::kBF16) {
      // BF16 is the top half of a binary32: the shift and the float→double conversion are
      // both exact (subnormals included; only a signalling NaN comes back quiet), and they
      // vectorise to two instructions, 4× faster than the general 16-bit path.
      return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16));
    }
    return detail::f16_to_double(h);
  }
}

// NaN/Inf test on the widened value's exponent bits: integer arithmetic, so the loops
// vectorise without -ffast-math (exact widening keeps NaN and Inf).
inline unsigned nonfinite_bit(double v) {
  constexpr std::uint64_t kExp = 0x7ff0000000000000ULL;
  return static_cast<unsigned>((std::bit_cast<std::uint64_t>(v) & kExp) == kExp);
}

// Copies `count` contiguous stored elements from `index` into dst (stride 1).
template <DType kType>
unsigned copy_run(const std::byte* data, std::size_t index, std::size_t count, double* dst) {
  unsigned bad = 0;
  for (std::size_t t = 0; t < count; ++t) {
    const double v = element<kType>(data, index + t);
    bad |= nonfinite_bit(v);
    dst[t] = v;
  }
  return bad;
}

template <DType kType>
bool widen(const FactorSource& f, std::size_t row0, std::size_t rows, double* dst,
           std::size_t ld, bool transposed) {
  unsigned bad = 0;
  const bool row_major = f.layout == Layout::kRowMajor;
  if (row_major != transposed) {
    // Same order in and out: contiguous runs (rows of F, or columns for column-major).
    const std::size_t runs = row_major ? rows : f.n;
    const std::size_t length = row_major ? f.n : rows;
    for (std::size_t t = 0; t < runs; ++t) {
      const std::size_t index = row_major ? (row0 + t) * f.n : t * f.m + row0;
      bad |= copy_run<kType>(f.data, index, length, dst + t * ld);
    }
    return bad == 0;
  }
  // Transposition in 8×8 tiles, so that reads and writes both stay in a few cache lines.
  // Run p of the source (length q) becomes column p of dst: dst[s·ld + p] = src(p, s).
  const std::size_t runs = row_major ? rows : f.n;
  const std::size_t length = row_major ? f.n : rows;
  constexpr std::size_t kTile = 8;
  for (std::size_t p0 = 0; p0 < runs; p0 += kTile) {
    const std::size_t p1 = std::min(runs, p0 + kTile);
    for (std::size_t s0 = 0; s0 < length; s0 += kTile) {
      const std::size_t s1 = std::min(length, s0 + kTile);
      for (std::size_t p = p0; p < p1; ++p) {
        const std::size_t base = row_major ? (row0 + p) * f.n : p * f.m + row0;
        for (std::size_t s = s0; s < s1; ++s) {
          const double v = element<kType>(f.data, base + s);
          bad |= nonfinite_bit(v);
          dst[s * ld + p] = v;
        }
      }
    }
  }
  return bad == 0;
}

bool widen_rows(const FactorSource& f, std::size_t row0, std::size_t rows, double* dst,
                std::size_t ld, bool transposed) {
  switch (f.dtype) {
    case DType::kF64: return widen<DType::kF64>(f, row0, rows, dst, ld, transposed);
    case DType::kF32: return widen<DType::kF32>(f, row0, rows, dst, ld, transposed);
    case DType::kF16: return widen<DType::kF16>(f, row0, rows, dst, ld, transposed);
    case DType::kBF16: return widen<DType::kBF16>(f, row0, rows, dst, ld, transposed);
    default: return false;  // excluded by the REQUIRES; callers check is_convertible_float
  }
}

}  // namespace

extern const WidenKernels kWidenKernels = {widen_rows};

}  // namespace lorank::linalg::LORANK_KERNEL_VARIANT
