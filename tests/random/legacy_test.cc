// MT19937 + legacy polar Gaussian (src/random/legacy.cc) against NumPy 1.24.2 fixtures.
// Compiled with -ffp-contract=off (tests/CMakeLists.txt): the demo target below is
// recomputed here and must round every product and sum separately, like NumPy did.
#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "lorank/random.h"
#include "support/numpy_fixtures.h"
#include "support/shared_data.h"

namespace lorank {
namespace {

using testing::bits_equal;
using testing::parse_hex_u64;
using testing::read_fixture_bits;
using testing::read_fixture_json;

TEST(Mt19937, KeyAfterSeedingMatchesNumpy) {
  const nlohmann::json j = read_fixture_json("intermediates.json");
  const Mt19937 mt(42);
  const auto want =
      j["legacy_seed42_mt_key_first8_after_seeding"].get<std::vector<std::uint32_t>>();
  ASSERT_EQ(want.size(), 8u);
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(mt.key()[i], want[i]) << "key[" << i << "]";
  EXPECT_EQ(mt.pos(), j["legacy_seed42_mt_pos_after_seeding"].get<int>());
}

TEST(Mt19937, FirstTemperedWordsMatchNumpy) {
  const nlohmann::json j = read_fixture_json("intermediates.json");
  Mt19937 mt(42);
  for (std::uint32_t want :
       j["legacy_seed42_first8_tempered_uint32"].get<std::vector<std::uint32_t>>()) {
    EXPECT_EQ(mt.next32(), want);
  }
}

TEST(Mt19937, RandomSampleBitsMatchNumpy) {
  const nlohmann::json j = read_fixture_json("intermediates.json");
  Mt19937 mt(42);
  for (const auto& hex : j["legacy_seed42_first4_random_sample_bits"]) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(mt.next_double()),
              parse_hex_u64(hex.get<std::string>()));
  }
}

// std::mt19937 uses the same init_genrand and tempering (spec §2.1), so it is an
// independent oracle across several key regenerations.
TEST(Mt19937, AgreesWithStdMt19937AcrossRegenerations) {
  for (std::uint32_t seed : {0u, 42u, 12345u, 0xFFFFFFFFu}) {
    Mt19937 mt(seed);
    std::mt19937 ref(seed);
    for (int i = 0; i < 2000; ++i)
      ASSERT_EQ(mt.next32(), ref()) << "seed " << seed << " word " << i;
  }
}

TEST(LegacyNormal, MatchesSeed42Fixture) {
  // Drawn as the demo script does: randn(64, 4), randn(4, 64), randn(64, 64).
  LegacyNormal rng(42);
  std::vector<double> got = rng.randn(256);
  const std::vector<double> v = rng.randn(256);
  const std::vector<double> n = rng.randn(4096);
  got.insert(got.end(), v.begin(), v.end());
  got.insert(got.end(), n.begin(), n.end());
  EXPECT_TRUE(bits_equal(got, read_fixture_bits("legacy_seed42_randn.txt")));
}

TEST(LegacyNormal, MatchesSeed0Fixture) {
  LegacyNormal rng(0);
  EXPECT_TRUE(bits_equal(rng.randn(4096), read_fixture_bits("legacy_seed0_randn.txt")));
}

TEST(LegacyNormal, MatchesSeed12345Fixture) {
  LegacyNormal rng(12345);
  EXPECT_TRUE(bits_equal(rng.randn(4096), read_fixture_bits("legacy_seed12345_randn.txt")));
}

// The cached second value of a pair must survive odd-sized calls: chunking the stream
// any way (next(), fill(), randn()) gives the same values as one call.
TEST(LegacyNormal, OddSizedCallsKeepTheCache) {
  const std::vector<std::uint64_t> want = read_fixture_bits("legacy_seed42_randn.txt");
  LegacyNormal rng(42);
  std::vector<double> got;
  for (std::size_t chunk : {3u, 1u, 7u, 15u, 1u, 221u, 2u, 9u}) {
    const std::vector<double> part = rng.randn(chunk);
    got.insert(got.end(), part.begin(), part.end());
  }
  got.push_back(rng.next());
  std::vector<double> tail(want.size() - got.size());
  rng.fill(tail);
  got.insert(got.end(), tail.begin(), tail.end());
  EXPECT_TRUE(bits_equal(got, want));
}

TEST(LegacyNormal, ReseedClearsTheCache) {
  const std::vector<std::uint64_t> want0 = read_fixture_bits("legacy_seed0_randn.txt");
  LegacyNormal rng(42);
  (void)rng.randn(3);  // leaves a cached value behind
  rng.seed(0);
  EXPECT_TRUE(bits_equal(rng.randn(want0.size()), want0));

  rng.seed(12345);
  (void)rng.next();  // odd again
  rng.seed(42);
  const std::vector<std::uint64_t> want42 = read_fixture_bits("legacy_seed42_randn.txt");
  EXPECT_TRUE(bits_equal(rng.randn(want42.size()), want42));
}

TEST(LegacyNormal, ReseedEqualsFreshGenerator) {
  LegacyNormal reused(7);
  (void)reused.randn(1001);
  reused.seed(99);
  LegacyNormal fresh(99);
  const std::vector<double> a = reused.randn(1001);
  const std::vector<double> b = fresh.randn(1001);
  EXPECT_TRUE(bits_equal(a, testing::to_bits(b)));
}

// The demo target of numpy-rng.md §2.7, computed the way NumPy's reference BLAS did.
TEST(LegacyNormal, DemoTargetMatchesFixture) {
  constexpr int kDim = 64, kRank = 4;
  LegacyNormal rng(42);
  const std::vector<double> u = rng.randn(kDim * kRank);     // U: 64 x 4, row-major
  const std::vector<double> v = rng.randn(kRank * kDim);     // V: 4 x 64, row-major
  const std::vector<double> noise = rng.randn(kDim * kDim);  // N: 64 x 64, row-major
  std::vector<double> target(kDim * kDim);
  for (int i = 0; i < kDim; ++i) {
    for (int j = 0; j < kDim; ++j) {
      double p = 0.0;  // left to right over k, separately rounded products
      for (int k = 0; k < kRank; ++k) p += u[i * kRank + k] * v[k * kDim + j];
      target[i * kDim + j] = p / 2.0 + 0.01 * noise[i * kDim + j];
    }
  }
  // Lines are `row col bits decimal`; check the layout is row-major before comparing.
  std::istringstream in(
      testing::read_text_file(testing::shared_path("fixtures/numpy_rng/target_64x64.txt")));
  std::vector<std::uint64_t> want;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    int row = -1, col = -1;
    std::string bits;
    fields >> row >> col >> bits;
    const int idx = static_cast<int>(want.size());
    ASSERT_EQ(row, idx / kDim) << line;
    ASSERT_EQ(col, idx % kDim) << line;
    want.push_back(testing::parse_hex_u64(bits));
  }
  EXPECT_TRUE(bits_equal(target, want));
}

}  // namespace
}  // namespace lorank
