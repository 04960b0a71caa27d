// The merge kernel against the plain loop of docs/merge.md, bit for bit, in both
// arithmetics (double and float) and in every CPU variant this machine supports: the
// vectorised, register-tiled add_update must keep every element's order of operations
// (acc from +0, k ascending, each product and sum rounded to T, no FMA; then v + scale·acc)
// on every shape, including the narrow last panel. Built with -ffp-contract=off
// (tests/CMakeLists.txt), so the reference loop is not contracted either.
#include "merge/update_rows_exact.h"

#include "lorank/kernels.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <type_traits>

namespace lorank::merge {
namespace {

template <typename T>
void reference(std::span<const double> left, std::span<const double> right, std::size_t rank,
               std::size_t cols, T scale, std::size_t row_begin, std::size_t rows, std::vector<T>& v) {
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      T p = 0;
      for (std::size_t k = 0; k < rank; ++k) {
        p += static_cast<T>(left[(row_begin + i) * rank + k]) * static_cast<T>(right[k * cols + j]);
      }
      v[i * cols + j] += scale * p;
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

std::vector<KernelIsa> supported_variants() {
  std::vector<KernelIsa> out{KernelIsa::kBaseline};
  if (cpu_supports(KernelLevel::kAvx2)) out.push_back(KernelIsa::kAvx2);
  if (cpu_supports(KernelLevel::kAvx512)) out.push_back(KernelIsa::kAvx512);
  return out;
}

struct Case {
  std::size_t total_rows, row_begin, rows, cols, rank;
  double scale;
};

template <typename T>
void check_all_variants() {
  const Case cases[] = {
      {1, 0, 1, 1, 1, 2.0},        {5, 0, 5, 33, 3, 0.37},       {12, 3, 9, 71, 64, -1.5},
      {8, 0, 8, 512, 8, 1.0},      {11, 2, 7, 1100, 17, 0.125},  {6, 1, 5, 64, 64, -0.0},
      {4, 0, 4, 32, 2, 3.0},       {9, 4, 5, 545, 5, 1e-3},      {13, 0, 13, 2048, 9, 0.25},
      {7, 1, 6, 1040, 64, -2.0},
  };
  std::mt19937_64 g(12);
  for (const Case& c : cases) {
    std::vector<double> left(c.total_rows * c.rank), right(c.rank * c.cols);
    for (double& x : left) x = awkward(g);
    for (double& x : right) x = awkward(g);
    const LowRankUpdate<T> u = make_low_rank_update<T>(left, right, c.rank, c.cols, c.scale);
    std::vector<T> v0(c.rows * c.cols);
    for (T& x : v0) x = static_cast<T>(awkward(g));
    std::vector<T> want = v0;
    reference<T>(left, right, c.rank, c.cols, static_cast<T>(c.scale), c.row_begin, c.rows, want);
    for (KernelIsa isa : supported_variants()) {
      std::vector<T> v = v0;
      add_update_with<T>(isa, u, c.row_begin, c.rows, v);
      using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
      for (std::size_t e = 0; e < v.size(); ++e) {
        ASSERT_EQ(std::bit_cast<Bits>(v[e]), std::bit_cast<Bits>(want[e]))
            << "variant " << static_cast<int>(isa) << ", " << sizeof(T) * 8 << "-bit, rows " << c.rows
            << " cols " << c.cols << " rank " << c.rank << ": element " << e << " is " << v[e]
            << ", the plain loop gives " << want[e];
      }
    }
  }
}

TEST(MergeUpdateRows, EveryVariantMatchesThePlainLoopBitForBitInDouble) { check_all_variants<double>(); }
TEST(MergeUpdateRows, EveryVariantMatchesThePlainLoopBitForBitInFloat) { check_all_variants<float>(); }

TEST(MergeUpdateRows, TheDefaultFollowsTheActiveKernelLevel) {
  for (KernelLevel level : kAllKernelLevels) {
    if (!cpu_supports(level)) continue;
    const ScopedKernelLevel forced(level);
    EXPECT_EQ(static_cast<int>(best_kernel_isa()), static_cast<int>(level)) << kernel_level_name(level);
  }
}

}  // namespace
}  // namespace lorank::merge
