// The merge arithmetic on a block of rows, in a fixed order of operations so that results
// are bit-reproducible (built with -ffp-contract=off, as every *_exact.cc file).
#ifndef LORANK_MERGE_UPDATE_ROWS_EXACT_H_
#define LORANK_MERGE_UPDATE_ROWS_EXACT_H_

#include <cstddef>
#include <span>
#include <vector>

namespace lorank::merge {

// One low-rank update in the output's own layout: row i of the update is
// scale · Σₖ left[i][k] · right[k][·] (left rows × r, right r × cols, row-major).
struct LowRankUpdate {
  std::vector<double> left;
  std::vector<double> right;
  std::size_t rank = 0;
  std::size_t cols = 0;
  double scale = 1.0;
  // `right` again, cut into panels of consecutive columns, each rank × panel-width and
  // contiguous, so the kernel reads it sequentially (see update_rows_exact.cc). Filled by
  // make_low_rank_update; empty means add_update uses `right` alone (slower, same bits).
  std::vector<double> panels;
};

// The update with its panels laid out: the one way to build a LowRankUpdate for add_update.
LowRankUpdate make_low_rank_update(std::vector<double> left, std::vector<double> right,
                                   std::size_t rank, std::size_t cols, double scale);

// v holds `rows` rows of W (cols each) starting at row `row_begin`; adds the update:
// v[i][j] += scale · P[i][j], P[i][j] = Σₖ left[i][k]·right[k][j] with k ascending from 0
// (P accumulated from +0.0, each product and sum rounded to double, no FMA).
void add_update(const LowRankUpdate& u, std::size_t row_begin, std::size_t rows,
                std::span<double> v);

// DoRA: v[i][j] ← (magnitude[row_begin + i] / ‖v[i]‖) · v[i][j], with ‖v[i]‖ the square
// root of Σⱼ v[i][j]², j ascending.
void apply_dora(std::span<const double> magnitude, std::size_t row_begin, std::size_t rows,
                std::size_t cols, std::span<double> v);

}  // namespace lorank::merge

#endif  // LORANK_MERGE_UPDATE_ROWS_EXACT_H_
