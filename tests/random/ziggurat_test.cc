// The ziggurat standard normal (src/random/ziggurat.cc) against NumPy 1.24.2 fixtures.
// The 1,000,000-value streams (tail and wedge paths) are in long_streams_test.cc.
#include <gtest/gtest.h>

#include <vector>

#include "lorank/random.h"
#include "support/numpy_fixtures.h"

namespace lorank {
namespace {

using testing::bits_equal;
using testing::read_fixture_bits;

TEST(DefaultRngNormal, MatchesSeed0Fixture) {
  // Includes two tail values (indices 303, 478) and 30 wedge-accepted values.
  DefaultRngNormal rng(0);
  EXPECT_TRUE(
      bits_equal(rng.standard_normal(4096), read_fixture_bits("default_rng0_standard_normal.txt")));
}

TEST(DefaultRngNormal, MatchesSeed42Fixture) {
  DefaultRngNormal rng(42);
  EXPECT_TRUE(bits_equal(rng.standard_normal(4096),
                         read_fixture_bits("default_rng42_standard_normal.txt")));
}

TEST(DefaultRngNormal, ChunkedCallsContinueTheStream) {
  const std::vector<std::uint64_t> want = read_fixture_bits("default_rng0_standard_normal.txt");
  DefaultRngNormal rng(0);
  std::vector<double> got;
  got.push_back(rng.next());
  const std::vector<double> part = rng.standard_normal(300);  // ends just before a tail value
  got.insert(got.end(), part.begin(), part.end());
  std::vector<double> rest(want.size() - got.size());
  rng.fill(rest);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_TRUE(bits_equal(got, want));
}

TEST(DefaultRngNormal, SeedSequenceConstructorEqualsIntegerSeed) {
  DefaultRngNormal a(42);
  DefaultRngNormal b(SeedSequence(std::vector<std::uint32_t>{42}));
  EXPECT_TRUE(bits_equal(a.standard_normal(512), testing::to_bits(b.standard_normal(512))));
}

// The script's `A = default_rng(0).standard_normal((r, 64)) * 0.01` (numpy-rng.md §4.3)
// is the stream's first r*64 values scaled, so only the prefix property needs checking.
TEST(DefaultRngNormal, FreshGeneratorPrefixesAgree) {
  const std::vector<std::uint64_t> want = read_fixture_bits("default_rng0_standard_normal.txt");
  for (std::size_t rank : {1u, 4u, 17u, 64u}) {
    DefaultRngNormal rng(0);
    EXPECT_TRUE(bits_equal(rng.standard_normal(rank * 64),
                           std::span<const std::uint64_t>(want).first(rank * 64)));
  }
}

}  // namespace
}  // namespace lorank
