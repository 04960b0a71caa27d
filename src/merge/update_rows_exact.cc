#include "merge/update_rows_exact.h"

#include "lorank/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

namespace lorank::merge {
namespace {

// Columns of a row handled per pass: the panels of a block (rank × 4 KiB of columns,
// 256 KiB at r = 64) stay in L2 while every row of the block streams over them.
constexpr std::size_t kColumnBlockBytes = 4096;

// Every variant computes each element in the documented order: acc = +0, then
// acc = acc + left[i][k]·right[k][j] for k ascending, then v[i][j] = v[i][j] + scale·acc.
// They vectorise ACROSS j only, which changes nothing about any one element's arithmetic,
// and this file is built with -ffp-contract=off (every *_exact.cc is), so no multiply and
// add is fused into an FMA: the variants give the same bits (tests/merge checks it).

// The portable variant: one row of one panel (w ≤ kPanelCols columns) at a time, its
// partial sums in a small array the compiler keeps in vector registers.
template <typename T>
inline __attribute__((always_inline)) void panel_row(const T* left, const T* panel, std::size_t w,
                                                     std::size_t rank, T scale, T* out) {
  constexpr std::size_t kW = LowRankUpdate<T>::kPanelCols;
  T acc[kW] = {};
  for (std::size_t k = 0; k < rank; ++k) {
    const T l = left[k];
    const T* p = panel + k * w;
    for (std::size_t c = 0; c < w; ++c) acc[c] = acc[c] + l * p[c];
  }
  for (std::size_t c = 0; c < w; ++c) out[c] = out[c] + scale * acc[c];
}

template <typename T>
const T* panel_at(const LowRankUpdate<T>& u, std::size_t p) {
  return u.panels.data() + p * u.rank * LowRankUpdate<T>::kPanelCols;
}

// Rows [0, rows) of v (starting at update row `row_begin`) and panels [p0, p1).
template <typename T>
inline __attribute__((always_inline)) void rows_portable(const LowRankUpdate<T>& u, std::size_t row_begin,
                                                         std::size_t rows, std::size_t p0, std::size_t p1,
                                                         T* v) {
  constexpr std::size_t kW = LowRankUpdate<T>::kPanelCols;
  for (std::size_t i = 0; i < rows; ++i) {
    const T* left = u.left.data() + (row_begin + i) * u.rank;
    for (std::size_t p = p0; p < p1; ++p) {
      const std::size_t w = std::min(kW, u.cols - p * kW);
      panel_row(left, panel_at(u, p), w, u.rank, u.scale, v + i * u.cols + p * kW);
    }
  }
}

template <typename T>
void rows_baseline(const LowRankUpdate<T>& u, std::size_t b, std::size_t n, std::size_t p0,
                   std::size_t p1, T* v) {
  rows_portable(u, b, n, p0, p1, v);
}
template <typename T>
__attribute__((target("avx2"))) void rows_avx2(const LowRankUpdate<T>& u, std::size_t b,
                                               std::size_t n, std::size_t p0, std::size_t p1, T* v) {
  rows_portable(u, b, n, p0, p1, v);
}

// The AVX-512 variant: register tiles of kTileRows rows × one full panel, whose partial
// sums stay in vector registers for the whole k loop, so every step is one load of the
// panel row, a broadcast of `left` and a multiply and an add per element. GCC/Clang vector
// extensions of one 64-byte register: 16 accumulators and 4 loaded vectors fit the 32
// registers (with 16 registers, as AVX2 has, GCC 12 spills such tiles and runs them 5x
// slower than the portable loop). Vectors never pass by value across a call (-Wpsabi).
constexpr std::size_t kTileRows = 4;
constexpr std::size_t kTileVecs = kPanelBytes / 64;

template <typename T>
struct VecOf;  // (a dependent vector_size attribute would be ignored: one per type)
template <>
struct VecOf<double> {
  typedef double type __attribute__((vector_size(64)));
};
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(64)));
};
template <typename T>
using Vec = typename VecOf<T>::type;

template <typename T, std::size_t... kLane>
__attribute__((target("avx512f"), always_inline)) inline void splat_lanes(Vec<T>& v, T x,
                                                                          std::index_sequence<kLane...>) {
  v = Vec<T>{((void)kLane, x)...};
}
// Every lane x, written as the initializer {x, x, ...} (one broadcast), not 0 + x, which
// would turn -0 into +0, nor lane by lane, which GCC 12 compiles into masked moves.
template <typename T>
__attribute__((target("avx512f"), always_inline)) inline void splat(Vec<T>& v, T x) {
  splat_lanes(v, x, std::make_index_sequence<64 / sizeof(T)>());
}

template <typename T, std::size_t kRows>
__attribute__((target("avx512f"))) void tile(const T* left, std::size_t rank, const T* panel,
                                             T scale, T* v, std::size_t cols) {
  constexpr std::size_t kLanes = 64 / sizeof(T);
  Vec<T> acc[kRows][kTileVecs];
  for (std::size_t a = 0; a < kRows; ++a) {
    for (std::size_t b = 0; b < kTileVecs; ++b) acc[a][b] = Vec<T>{};  // +0: P starts from 0
  }
  for (std::size_t k = 0; k < rank; ++k, panel += kLanes * kTileVecs) {
    Vec<T> rk[kTileVecs];
    for (std::size_t b = 0; b < kTileVecs; ++b) {
      std::memcpy(&rk[b], panel + b * kLanes, 64);
      // Keeps the loaded vector in a register: without it GCC 12 folds the load into every
      // multiply (one load per tile row instead of one), and the loop becomes load-bound.
      asm("" : "+v"(rk[b]));
    }
    for (std::size_t a = 0; a < kRows; ++a) {
      Vec<T> l;
      splat(l, left[a * rank + k]);
      for (std::size_t b = 0; b < kTileVecs; ++b) acc[a][b] = acc[a][b] + l * rk[b];
    }
  }
  Vec<T> s;
  splat(s, scale);
  for (std::size_t a = 0; a < kRows; ++a) {
    T* out = v + a * cols;
    for (std::size_t b = 0; b < kTileVecs; ++b) {
      Vec<T> w;
      std::memcpy(&w, out + b * kLanes, 64);
      w = w + s * acc[a][b];
      std::memcpy(out + b * kLanes, &w, 64);
    }
  }
}

template <typename T>
__attribute__((target("avx512f"))) void rows_avx512(const LowRankUpdate<T>& u, std::size_t b,
                                                    std::size_t n, std::size_t p0, std::size_t p1, T* v) {
  constexpr std::size_t kW = LowRankUpdate<T>::kPanelCols;
  const std::size_t full_end = std::min(p1, u.cols / kW);  // panels a whole tile covers
  std::size_t i = 0;
  for (; i + kTileRows <= n; i += kTileRows) {
    const T* left = u.left.data() + (b + i) * u.rank;
    for (std::size_t p = p0; p < full_end; ++p) {
      tile<T, kTileRows>(left, u.rank, panel_at(u, p), u.scale, v + i * u.cols + p * kW, u.cols);
    }
  }
  for (; i < n; ++i) {
    const T* left = u.left.data() + (b + i) * u.rank;
    for (std::size_t p = p0; p < full_end; ++p) {
      tile<T, 1>(left, u.rank, panel_at(u, p), u.scale, v + i * u.cols + p * kW, u.cols);
    }
  }
  if (full_end < p1) rows_portable(u, b, n, full_end, p1, v);  // the narrow last panel
}

}  // namespace

template <typename T>
LowRankUpdate<T> make_low_rank_update(std::span<const double> left, std::span<const double> right,
                                      std::size_t rank, std::size_t cols, double scale) {
  constexpr std::size_t kW = LowRankUpdate<T>::kPanelCols;
  LowRankUpdate<T> u;
  u.left.assign(left.begin(), left.end());
  u.rank = rank;
  u.cols = cols;
  u.scale = static_cast<T>(scale);
  u.panels.resize(rank * cols);
  for (std::size_t p = 0; p * kW < cols; ++p) {
    const std::size_t w = std::min(kW, cols - p * kW);
    T* panel = u.panels.data() + p * rank * kW;
    for (std::size_t k = 0; k < rank; ++k) {
      for (std::size_t c = 0; c < w; ++c) panel[k * w + c] = static_cast<T>(right[k * cols + p * kW + c]);
    }
  }
  return u;
}

// The level every dispatched kernel uses (lorank/kernels.h: the CPU's best, or
// LORANK_KERNELS); each level implies the instructions its variant here needs.
KernelIsa best_kernel_isa() {
  switch (active_kernel_level()) {
    case KernelLevel::kAvx512: return KernelIsa::kAvx512;
    case KernelLevel::kAvx2: return KernelIsa::kAvx2;
    case KernelLevel::kGeneric: break;
  }
  return KernelIsa::kBaseline;
}

template <typename T>
void add_update(const LowRankUpdate<T>& u, std::size_t row_begin, std::size_t rows, std::span<T> v) {
  add_update_with(best_kernel_isa(), u, row_begin, rows, v);
}

template <typename T>
void add_update_with(KernelIsa isa, const LowRankUpdate<T>& u, std::size_t row_begin,
                     std::size_t rows, std::span<T> v) {
  constexpr std::size_t kW = LowRankUpdate<T>::kPanelCols;
  constexpr std::size_t kBlockPanels = kColumnBlockBytes / kPanelBytes;
  const std::size_t panels = (u.cols + kW - 1) / kW;
  for (std::size_t p0 = 0; p0 < panels; p0 += kBlockPanels) {
    const std::size_t p1 = std::min(panels, p0 + kBlockPanels);
    switch (isa) {
      case KernelIsa::kAvx512: rows_avx512(u, row_begin, rows, p0, p1, v.data()); break;
      case KernelIsa::kAvx2: rows_avx2(u, row_begin, rows, p0, p1, v.data()); break;
      case KernelIsa::kBaseline: rows_baseline(u, row_begin, rows, p0, p1, v.data()); break;
    }
  }
}

template LowRankUpdate<double> make_low_rank_update<double>(std::span<const double>, std::span<const double>,
                                                            std::size_t, std::size_t, double);
template LowRankUpdate<float> make_low_rank_update<float>(std::span<const double>, std::span<const double>,
                                                          std::size_t, std::size_t, double);
template void add_update<double>(const LowRankUpdate<double>&, std::size_t, std::size_t, std::span<double>);
template void add_update<float>(const LowRankUpdate<float>&, std::size_t, std::size_t, std::span<float>);
template void add_update_with<double>(KernelIsa, const LowRankUpdate<double>&, std::size_t, std::size_t,
                                      std::span<double>);
template void add_update_with<float>(KernelIsa, const LowRankUpdate<float>&, std::size_t, std::size_t,
                                     std::span<float>);

void apply_dora(std::span<const double> magnitude, std::size_t row_begin, std::size_t rows,
                std::size_t cols, std::span<double> v) {
  for (std::size_t i = 0; i < rows; ++i) {
    double* row = v.data() + i * cols;
    double sum = 0.0;
    for (std::size_t j = 0; j < cols; ++j) sum += row[j] * row[j];
    const double factor = magnitude[row_begin + i] / std::sqrt(sum);
    for (std::size_t j = 0; j < cols; ++j) row[j] = factor * row[j];
  }
}

}  // namespace lorank::merge
