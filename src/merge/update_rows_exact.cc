#include "merge/update_rows_exact.h"

#include <algorithm>
#include <cmath>

namespace lorank::merge {
namespace {

// Columns per pass: the right factor's slice (rank × kColumnBlock doubles, 256 KiB at
// r = 64) stays in L2 while every row of the block streams over it; the row's partial sums
// (8 KiB) stay in L1.
constexpr std::size_t kColumnBlock = 512;

}  // namespace

void add_update(const LowRankUpdate& u, std::size_t row_begin, std::size_t rows,
                std::span<double> v, std::vector<double>& scratch) {
  const std::size_t r = u.rank, cols = u.cols;
  if (scratch.size() < kColumnBlock) scratch.resize(kColumnBlock);
  double* p = scratch.data();
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
