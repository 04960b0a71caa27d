// The merge arithmetic on a block of rows, in a fixed order of operations so that results
// are bit-reproducible (built with -ffp-contract=off, as every *_exact.cc file).
#ifndef LORANK_MERGE_UPDATE_ROWS_EXACT_H_
#define LORANK_MERGE_UPDATE_ROWS_EXACT_H_

#include <cstddef>
#include <span>
#include <vector>

namespace lorank::merge {

// Columns per panel (see LowRankUpdate::panels): one register tile's width.
inline constexpr std::size_t kPanelBytes = 256;

// One low-rank update in the output's own layout, in arithmetic T (double or float): row i
// of the update is scale · Σₖ left[i][k] · right[k][·] (left rows × r, right r × cols).
template <typename T>
struct LowRankUpdate {
  static constexpr std::size_t kPanelCols = kPanelBytes / sizeof(T);
  std::vector<T> left;     // rows × rank, row-major
  // `right`, cut into panels of kPanelCols consecutive columns, each rank × kPanelCols and
  // contiguous, so the kernel reads it sequentially (row by row, a step per k would be a
  // whole row, and at row lengths that are multiples of 4 KiB every step would land in
  // the same L1 set); the last cols % kPanelCols columns form a narrower last panel.
  std::vector<T> panels;
  std::size_t rank = 0;
  std::size_t cols = 0;
  T scale = 1;
};

// The update of right (rank × cols, row-major) with its panels laid out; the factors and
// the scale are rounded to T (exact when they come from F32/F16/BF16 storage and T is
// float, always exact for double).
template <typename T>
LowRankUpdate<T> make_low_rank_update(std::span<const double> left, std::span<const double> right,
                                      std::size_t rank, std::size_t cols, double scale);

// v holds `rows` rows of W (cols each) starting at row `row_begin`; adds the update:
// v[i][j] = v[i][j] + scale · P[i][j], P[i][j] = Σₖ left[i][k]·right[k][j] with k
// ascending from 0 (P accumulated from +0, each product and sum rounded to T, no FMA).
// Every CPU variant (AVX-512 register tiles, AVX2, baseline) gives the same bits.
template <typename T>
void add_update(const LowRankUpdate<T>& u, std::size_t row_begin, std::size_t rows, std::span<T> v);

// The CPU variants of add_update; add_update runs best_kernel_isa(): the one for
// lorank's active kernel level (lorank/kernels.h: the CPU's best, or LORANK_KERNELS). add_update_with runs the one asked for, which the CPU must support:
// the tests run each against the others.
enum class KernelIsa { kBaseline, kAvx2, kAvx512 };
KernelIsa best_kernel_isa();
template <typename T>
void add_update_with(KernelIsa isa, const LowRankUpdate<T>& u, std::size_t row_begin,
                     std::size_t rows, std::span<T> v);

// DoRA: v[i][j] ← (magnitude[row_begin + i] / ‖v[i]‖) · v[i][j], with ‖v[i]‖ the square
// root of Σⱼ v[i][j]², j ascending.
void apply_dora(std::span<const double> magnitude, std::size_t row_begin, std::size_t rows,
                std::size_t cols, std::span<double> v);

}  // namespace lorank::merge

#endif  // LORANK_MERGE_UPDATE_ROWS_EXACT_H_
