#include "merge/update_rows_exact.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

namespace lorank::merge {
namespace {

// The product P = left·right is computed in register tiles of kTileRows rows × kTileCols
// columns: each tile's partial sums stay in vector registers for the whole k loop, so
// every step is one load of `right`, a broadcast of `left` and a multiply and an add per
// element (no loads or stores of P). The order of operations for each element is the
// documented one: acc = 0, then acc = acc + left[i][k]·right[k][j] for k ascending, then
// v[i][j] = v[i][j] + scale·acc — vectorised ACROSS j only, which changes nothing about
// any one element's arithmetic. This file is built with -ffp-contract=off (every *_exact.cc
// is), so no multiply and add is fused into an FMA.
//
// The tiles use GCC/Clang vector extensions of 8 doubles, one AVX-512 register: 16
// accumulators and the 4 loaded vectors of `right` fit the 32 registers. Without AVX-512
// (16 registers) GCC 12 keeps such tiles on the stack and runs them 5x slower than the
// plain loop, so other CPUs get the plain loop (compiler-vectorised across j, the same
// per-element order). Vectors never pass by value through a function boundary (-Wpsabi).
#if defined(__AVX512F__) && (defined(__GNUC__) || defined(__clang__))
#define LORANK_MERGE_TILES 1
constexpr std::size_t kLanes = 8;
constexpr std::size_t kTileRows = 4;
using Vec = double __attribute__((vector_size(kLanes * sizeof(double))));
constexpr std::size_t kTileVecs = 4;
constexpr std::size_t kTileCols = kLanes * kTileVecs;  // 32 columns
#endif
// Columns per pass: the right factor's slice (rank × kColumnBlock doubles, 256 KiB at
// r = 64) stays in L2 while every row of the block streams over it.
constexpr std::size_t kColumnBlock = 512;

#ifdef LORANK_MERGE_TILES
inline void load(Vec& v, const double* p) { std::memcpy(&v, p, sizeof v); }
inline void store(double* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }
// Every lane x, written as the initializer {x, x, ...} (one broadcast), not 0 + x, which
// would turn -0.0 into +0.0, nor lane by lane, which GCC 12 compiles into 8 masked moves.
template <std::size_t... kLane>
inline void splat_lanes(Vec& v, double x, std::index_sequence<kLane...>) {
  v = Vec{((void)kLane, x)...};
}
inline void splat(Vec& v, double x) { splat_lanes(v, x, std::make_index_sequence<kLanes>()); }
// Keeps a loaded vector in a register: without it GCC 12 folds the load of `right` into
// every multiply (one load per row of the tile instead of one), which makes the loop
// load-bound: 19 against 31 GFLOP/s on one Zen 4 core (bench in docs/merge.md "Speed").
inline void keep_in_register(Vec& v) { asm("" : "+v"(v)); }

// Rows [i, i + kRows) × columns [j, j + kTileCols): the full-width tile.
// `right` points at k = 0 of the tile's columns and steps `stride` doubles per k.
template <std::size_t kRows>
void tile(const LowRankUpdate& u, const double* left, const double* right, std::size_t stride,
          std::size_t j, double* v, std::size_t cols) {
  const std::size_t r = u.rank;
  Vec acc[kRows][kTileVecs];
  for (std::size_t a = 0; a < kRows; ++a) {
    for (std::size_t b = 0; b < kTileVecs; ++b) acc[a][b] = Vec{};  // +0.0: P starts from 0
  }
  for (std::size_t k = 0; k < r; ++k, right += stride) {
    Vec rk[kTileVecs];
    for (std::size_t b = 0; b < kTileVecs; ++b) {
      load(rk[b], right + b * kLanes);
      keep_in_register(rk[b]);
    }
    for (std::size_t a = 0; a < kRows; ++a) {
      Vec l;
      splat(l, left[a * r + k]);
      for (std::size_t b = 0; b < kTileVecs; ++b) acc[a][b] = acc[a][b] + l * rk[b];
    }
  }
  Vec s;
  splat(s, u.scale);
  for (std::size_t a = 0; a < kRows; ++a) {
    double* out = v + a * cols + j;
    for (std::size_t b = 0; b < kTileVecs; ++b) {
      Vec w;
      load(w, out + b * kLanes);
      store(out + b * kLanes, w + s * acc[a][b]);
    }
  }
}

// The same arithmetic for one row and the columns [j0, j1) no full tile covers.
void row_tail(const LowRankUpdate& u, const double* left, std::size_t j0, std::size_t j1, double* out) {
  for (std::size_t j = j0; j < j1; ++j) {
    double p = 0.0;
    for (std::size_t k = 0; k < u.rank; ++k) p += left[k] * u.right[k * u.cols + j];
    out[j] += u.scale * p;
  }
}

template <std::size_t kRows>
void row_group(const LowRankUpdate& u, const double* left, std::size_t j0, std::size_t j1, double* v) {
  std::size_t j = j0;
  // Panels read sequentially; `right` itself steps a whole row per k, and at a row length
  // that is a multiple of 4 KiB every step lands in the same L1 set: with the panels the
  // kernel runs at 2x the speed on Zen 4 (docs/merge.md "Speed").
  for (; j + kTileCols <= j1; j += kTileCols) {
    if (u.panels.empty()) {
      tile<kRows>(u, left, u.right.data() + j, u.cols, j, v, u.cols);
    } else {
      tile<kRows>(u, left, u.panels.data() + (j / kTileCols) * u.rank * kTileCols, kTileCols, j, v, u.cols);
    }
  }
  if (j < j1) {
    for (std::size_t a = 0; a < kRows; ++a) row_tail(u, left + a * u.rank, j, j1, v + a * u.cols);
  }
}

#endif  // LORANK_MERGE_TILES

}  // namespace

LowRankUpdate make_low_rank_update(std::vector<double> left, std::vector<double> right,
                                   std::size_t rank, std::size_t cols, double scale) {
  LowRankUpdate u{std::move(left), std::move(right), rank, cols, scale, {}};
#ifdef LORANK_MERGE_TILES
  const std::size_t full = cols / kTileCols;  // the columns past them go through row_tail
  u.panels.resize(full * rank * kTileCols);
  for (std::size_t p = 0; p < full; ++p) {
    for (std::size_t k = 0; k < rank; ++k) {
      std::copy_n(u.right.data() + k * cols + p * kTileCols, kTileCols,
                  u.panels.data() + (p * rank + k) * kTileCols);
    }
  }
#endif
  return u;
}

void add_update(const LowRankUpdate& u, std::size_t row_begin, std::size_t rows,
                std::span<double> v) {
  const std::size_t r = u.rank, cols = u.cols;
#ifdef LORANK_MERGE_TILES
  for (std::size_t j0 = 0; j0 < cols; j0 += kColumnBlock) {
    const std::size_t j1 = std::min(cols, j0 + kColumnBlock);
    std::size_t i = 0;
    for (; i + kTileRows <= rows; i += kTileRows) {
      row_group<kTileRows>(u, u.left.data() + (row_begin + i) * r, j0, j1, v.data() + i * cols);
    }
    for (; i < rows; ++i) row_group<1>(u, u.left.data() + (row_begin + i) * r, j0, j1, v.data() + i * cols);
  }
#else
  double p[kColumnBlock];  // one row's partial sums over a column block
  for (std::size_t j0 = 0; j0 < cols; j0 += kColumnBlock) {
    const std::size_t nj = std::min(kColumnBlock, cols - j0);
    for (std::size_t i = 0; i < rows; ++i) {
      const double* left = u.left.data() + (row_begin + i) * r;
      std::fill(p, p + nj, 0.0);
      for (std::size_t k = 0; k < r; ++k) {
        const double l = left[k];
        const double* right = u.right.data() + k * cols + j0;
        for (std::size_t j = 0; j < nj; ++j) p[j] += l * right[j];
      }
      double* out = v.data() + i * cols + j0;
      for (std::size_t j = 0; j < nj; ++j) out[j] += u.scale * p[j];
    }
  }
#endif
}

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
