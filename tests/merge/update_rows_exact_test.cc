// The merge kernel against the plain loop of docs/merge.md, bit for bit: the vectorised,
// register-tiled add_update must keep every element's order of operations (acc from +0.0,
// k ascending, each product and sum rounded, no FMA; then v + scale·acc) on every shape,
// including the tails no full tile covers. Built with -ffp-contract=off (tests/CMakeLists.txt),
// so the reference loop is not contracted either.
#include "merge/update_rows_exact.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>

namespace lorank::merge {
namespace {

void reference(const LowRankUpdate& u, std::size_t row_begin, std::size_t rows, std::vector<double>& v) {
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < u.cols; ++j) {
      double p = 0.0;
      for (std::size_t k = 0; k < u.rank; ++k) p += u.left[(row_begin + i) * u.rank + k] * u.right[k * u.cols + j];
      v[i * u.cols + j] += u.scale * p;
    }
  }
}

// Values that make any reordering visible: mixed magnitudes (so sums round differently in
// another order), signed zeros, and values whose products cancel.
double awkward(std::mt19937_64& g) {
  switch (g() % 8) {
    case 0: return 0.0;
    case 1: return -0.0;
    case 2: return std::ldexp(static_cast<double>(static_cast<int64_t>(g() >> 11)), -40);
    case 3: return -1.0;
    default: return std::ldexp(std::normal_distribution<double>()(g), static_cast<int>(g() % 40) - 20);
  }
}

struct Case {
  std::size_t total_rows, row_begin, rows, cols, rank;
  double scale;
};

TEST(MergeUpdateRows, MatchesThePlainLoopBitForBit) {
  const Case cases[] = {
      {1, 0, 1, 1, 1, 2.0},        {5, 0, 5, 33, 3, 0.37},       {12, 3, 9, 71, 64, -1.5},
      {8, 0, 8, 512, 8, 1.0},      {11, 2, 7, 1100, 17, 0.125},  {6, 1, 5, 64, 64, -0.0},
      {4, 0, 4, 32, 2, 3.0},       {9, 4, 5, 545, 5, 1e-3},
  };
  std::mt19937_64 g(12);
  for (const Case& c : cases) {
    std::vector<double> left(c.total_rows * c.rank), right(c.rank * c.cols);
    for (double& x : left) x = awkward(g);
    for (double& x : right) x = awkward(g);
    const LowRankUpdate u = make_low_rank_update(std::move(left), std::move(right), c.rank, c.cols, c.scale);
    std::vector<double> v(c.rows * c.cols);
    for (double& x : v) x = awkward(g);
    std::vector<double> want = v;
    reference(u, c.row_begin, c.rows, want);
    add_update(u, c.row_begin, c.rows, v);
    for (std::size_t e = 0; e < v.size(); ++e) {
      ASSERT_EQ(std::bit_cast<uint64_t>(v[e]), std::bit_cast<uint64_t>(want[e]))
          << "rows " << c.rows << " cols " << c.cols << " rank " << c.rank << ": element " << e
          << " is " << v[e] << ", the plain loop gives " << want[e];
    }
  }
}

}  // namespace
}  // namespace lorank::merge
