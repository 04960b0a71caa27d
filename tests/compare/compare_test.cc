// lorank compare against a dense NumPy computation, and its defining properties:
// identical/reparametrised updates → 1, orthogonal → 0, nested → 1, untrained → null.
#include <gtest/gtest.h>

#include <iostream>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "lorank/adapter.h"
#include "lorank/compare.h"
#include "support/compare_oracle.h"
#include "support/seed.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using testing::Factors;
using testing::random_factors;
using testing::TempDir;
using testing::write_peft;

constexpr double kOracleTolerance = 1e-10;

Adapter open_compare_input(const std::filesystem::path& dir) {
  Result<Adapter> a = open_adapter(dir);
  EXPECT_TRUE(a) << a.error().message();
  return a ? std::move(*a) : Adapter{};
}

// Compares two single-module adapters written from `fa` (rank fa.r, α alpha_a) and `fb`.
Result<AdapterComparison> compare_written(const TempDir& dir, const Factors& fa, double alpha_a,
                                          const Factors& fb, double alpha_b,
                                          const CompareOptions& options = {}) {
  write_peft(dir.path() / "a", {{"layer.q_proj", fa}}, fa.r, alpha_a);
  write_peft(dir.path() / "b", {{"layer.q_proj", fb}}, fb.r, alpha_b);
  return compare_adapters(open_compare_input(dir.path() / "a"), open_compare_input(dir.path() / "b"), options);
}

struct OracleCase {
  std::size_t out, in, r_a, r_b;
  double alpha_a, alpha_b;
  CompareSide side;
  bool duplicate_column;  // make A's B rank deficient (column 1 = column 0)
};

class CompareMatchesNumpy : public ::testing::TestWithParam<OracleCase> {};

TEST_P(CompareMatchesNumpy, PhiGridTo1e10) {
  const OracleCase& c = GetParam();
  TempDir dir;
  Factors fa = random_factors(c.out, c.r_a, c.in, 1000 + c.out * 7 + c.r_a);
  const Factors fb = random_factors(c.out, c.r_b, c.in, 2000 + c.in * 5 + c.r_b);
  if (c.duplicate_column) {
    for (std::size_t i = 0; i < fa.out; ++i) fa.B[i * fa.r + 1] = fa.B[i * fa.r];
  }
  CompareOptions options;
  options.side = c.side;
  Result<AdapterComparison> got = compare_written(dir, fa, c.alpha_a, fb, c.alpha_b, options);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->modules.size(), 1u);
  const ModuleComparison& m = got->modules[0];
  const testing::OracleResult want =
      testing::numpy_oracle(fa, c.alpha_a / static_cast<double>(c.r_a), fb,
                            c.alpha_b / static_cast<double>(c.r_b), c.side, dir.path());
  ASSERT_FALSE(::testing::Test::HasFailure());
  ASSERT_EQ(m.numerical_rank_a, want.rank_a);
  ASSERT_EQ(m.numerical_rank_b, want.rank_b);
  double worst = 0.0;
  for (std::size_t i = 1; i <= want.rank_a; ++i) {
    for (std::size_t j = 1; j <= want.rank_b; ++j) {
      worst = std::max(worst, std::fabs(m.phi_at(i, j) - want.phi[i - 1][j - 1]));
    }
  }
  EXPECT_LE(worst, kOracleTolerance);
  std::cout << "[ oracle   ] worst |phi - numpy| = " << worst << ", grid " << want.rank_a << "x" << want.rank_b << "\n";
  ASSERT_TRUE(m.top_k_overlap);
  // Principal angles: Σ cos² θ over the top k is k·φ(k, k).
  double cos2 = 0.0;
  for (double cosine : m.principal_cosines) cos2 += cosine * cosine;
  EXPECT_NEAR(cos2, static_cast<double>(m.top_k) * *m.top_k_overlap, 1e-12);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CompareMatchesNumpy,
    ::testing::Values(OracleCase{12, 9, 3, 5, 8, 16, CompareSide::kLeft, false},
                      OracleCase{12, 9, 3, 5, 8, 16, CompareSide::kRight, false},
                      OracleCase{20, 30, 4, 16, 4, 32, CompareSide::kLeft, false},
                      OracleCase{20, 30, 16, 4, 32, 4, CompareSide::kRight, false},
                      OracleCase{6, 20, 8, 4, 8, -3, CompareSide::kLeft, false},  // r > out, s < 0
                      OracleCase{24, 5, 8, 8, 16, 16, CompareSide::kRight, false},  // r > in
                      OracleCase{16, 16, 6, 6, 6, 6, CompareSide::kLeft, true}));   // rank deficient

TEST(Compare, IdenticalAdaptersGiveOneEverywhere) {
  TempDir dir;
  const Factors f = random_factors(32, 8, 24, testing::test_seed("IdenticalAdapters"));
  for (CompareSide side : {CompareSide::kLeft, CompareSide::kRight}) {
    CompareOptions options;
    options.side = side;
    Result<AdapterComparison> got = compare_written(dir, f, 16, f, 3, options);
    ASSERT_TRUE(got) << got.error().message();
    const ModuleComparison& m = got->modules.at(0);
    ASSERT_EQ(m.numerical_rank_a, 8u);
    for (double phi : m.phi) EXPECT_NEAR(phi, 1.0, 1e-12);
    for (double cosine : m.principal_cosines) EXPECT_NEAR(cosine, 1.0, 1e-12);
  }
}

TEST(Compare, PermutedFactorsOfTheSameUpdateGiveOne) {
  TempDir dir;
  const uint64_t seed = testing::test_seed("PermutedFactors");
  const Factors f = random_factors(40, 8, 28, seed);
  std::vector<std::size_t> perm(f.r);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937_64(seed));
  Factors g = f;  // B·P and Pᵀ·A: the same ΔW
  for (std::size_t k = 0; k < f.r; ++k) {
    for (std::size_t i = 0; i < f.out; ++i) g.B[i * f.r + k] = f.B[i * f.r + perm[k]];
    for (std::size_t j = 0; j < f.in; ++j) g.A[k * f.in + j] = f.A[perm[k] * f.in + j];
  }
  for (CompareSide side : {CompareSide::kLeft, CompareSide::kRight}) {
    CompareOptions options;
    options.side = side;
    Result<AdapterComparison> got = compare_written(dir, f, 8, g, 8, options);
    ASSERT_TRUE(got) << got.error().message();
    for (double phi : got->modules.at(0).diagonal) EXPECT_NEAR(phi, 1.0, 1e-10);
  }
}

TEST(Compare, OrthogonalSubspacesGiveZero) {
  // B's columns live in rows 0..7 for one adapter and 8..15 for the other; A's rows in
  // columns 0..5 and 6..11. Both sides are then orthogonal.
  TempDir dir;
  Factors fa = random_factors(16, 3, 12, 11);
  Factors fb = random_factors(16, 3, 12, 12);
  for (std::size_t k = 0; k < 3; ++k) {
    for (std::size_t i = 0; i < 16; ++i) (i < 8 ? fb.B : fa.B)[i * 3 + k] = 0.0;
    for (std::size_t j = 0; j < 12; ++j) (j < 6 ? fb.A : fa.A)[k * 12 + j] = 0.0;
  }
  for (CompareSide side : {CompareSide::kLeft, CompareSide::kRight}) {
    CompareOptions options;
    options.side = side;
    Result<AdapterComparison> got = compare_written(dir, fa, 3, fb, 3, options);
    ASSERT_TRUE(got) << got.error().message();
    for (double phi : got->modules.at(0).phi) EXPECT_LE(phi, 1e-24);
  }
}

TEST(Compare, NestedRank4InsideRank16GivesOneAtFour) {
  // ΔW16 = ΔW4 + E with E 100× smaller and orthogonal to ΔW4 on both sides, so its top 4
  // directions are exactly ΔW4's.
  TempDir dir;
  const Factors f4 = random_factors(32, 4, 24, 21);
  Factors f16 = random_factors(32, 16, 24, 22);
  for (std::size_t i = 0; i < 32; ++i) {
    for (std::size_t k = 0; k < 16; ++k) {
      f16.B[i * 16 + k] = k < 4 ? (i < 16 ? f4.B[i * 4 + k] : 0.0) : (i < 16 ? 0.0 : 0.01 * f16.B[i * 16 + k]);
    }
  }
  for (std::size_t k = 0; k < 16; ++k) {
    for (std::size_t j = 0; j < 24; ++j) {
      f16.A[k * 24 + j] = k < 4 ? (j < 12 ? f4.A[k * 24 + j] : 0.0) : (j < 12 ? 0.0 : f16.A[k * 24 + j]);
    }
  }
  Factors f4_block = f4;  // the same rows/columns restriction as inside f16
  for (std::size_t i = 16; i < 32; ++i) std::fill_n(f4_block.B.begin() + static_cast<std::ptrdiff_t>(i * 4), 4, 0.0);
  for (std::size_t k = 0; k < 4; ++k) std::fill_n(f4_block.A.begin() + static_cast<std::ptrdiff_t>(k * 24 + 12), 12, 0.0);
  for (CompareSide side : {CompareSide::kLeft, CompareSide::kRight}) {
    CompareOptions options;
    options.side = side;
    options.k = 4;
    Result<AdapterComparison> got = compare_written(dir, f4_block, 4, f16, 64, options);
    ASSERT_TRUE(got) << got.error().message();
    const ModuleComparison& m = got->modules.at(0);
    EXPECT_EQ(m.numerical_rank_a, 4u);
    EXPECT_EQ(m.numerical_rank_b, 16u);
    EXPECT_EQ(m.top_k, 4u);
    EXPECT_NEAR(*m.top_k_overlap, 1.0, 1e-12);
    EXPECT_NEAR(m.phi_at(4, 16), 1.0, 1e-12);  // contained in the larger subspace too
    EXPECT_LE(m.phi_at(1, 16), 1.0);
  }
}

}  // namespace
}  // namespace lorank
