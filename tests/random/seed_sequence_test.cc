// SeedSequence (src/random/seed_sequence.cc) against NumPy 1.24.2 intermediates.
#include <gtest/gtest.h>

#include <vector>

#include "lorank/random.h"
#include "support/numpy_fixtures.h"

namespace lorank {
namespace {

using testing::parse_hex_u64;
using testing::read_fixture_json;

using testing::kSeedSequenceCases;
constexpr const auto& kCases = kSeedSequenceCases;

TEST(SeedSequence, PoolMatchesNumpy) {
  const nlohmann::json j = read_fixture_json("intermediates.json");
  for (const testing::SeedCase& c : kCases) {
    const SeedSequence seq(c.seed);
    const auto want = j[c.key]["pool_uint32"].get<std::vector<std::uint32_t>>();
    EXPECT_EQ(std::vector<std::uint32_t>(seq.pool().begin(), seq.pool().end()), want) << c.key;
  }
}

TEST(SeedSequence, PoolMatchesSpecCheckValues) {  // numpy-rng.md §3.2
  using Pool = std::array<std::uint32_t, 4>;
  EXPECT_EQ(SeedSequence(0).pool(), (Pool{4265667335u, 1328953910u, 1320288413u, 3365567143u}));
  EXPECT_EQ(SeedSequence(42).pool(), (Pool{1662858758u, 128880814u, 1875164712u, 753753205u}));
}

TEST(SeedSequence, GenerateStateU32MatchesNumpy) {
  const nlohmann::json j = read_fixture_json("intermediates.json");
  for (const testing::SeedCase& c : kCases) {
    const SeedSequence seq(c.seed);
    EXPECT_EQ(seq.generate_state_u32(8),
              j[c.key]["generate_state_8_uint32"].get<std::vector<std::uint32_t>>())
        << c.key;
  }
}

TEST(SeedSequence, GenerateStateU64MatchesNumpy) {
  const nlohmann::json j = read_fixture_json("intermediates.json");
  for (const testing::SeedCase& c : kCases) {
    std::vector<std::uint64_t> want;
    for (const auto& hex : j[c.key]["generate_state_4_uint64"])
      want.push_back(parse_hex_u64(hex.get<std::string>()));
    EXPECT_EQ(SeedSequence(c.seed).generate_state_u64(4), want) << c.key;
  }
}

TEST(SeedSequence, GenerateStateRestartsOnEveryCall) {
  const SeedSequence seq(42);
  const std::vector<std::uint32_t> first = seq.generate_state_u32(9);
  EXPECT_EQ(seq.generate_state_u32(9), first);
  // A shorter request is a prefix of a longer one (hc restarts from INIT_B).
  const std::vector<std::uint32_t> prefix = seq.generate_state_u32(3);
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), first.begin()));
}

TEST(SeedSequence, IntegerSeedsBecomeMinimalLittleEndianWords) {
  EXPECT_EQ(SeedSequence(0).entropy(), (std::vector<std::uint32_t>{0}));
  EXPECT_EQ(SeedSequence(0xFFFFFFFFull).entropy(), (std::vector<std::uint32_t>{0xFFFFFFFFu}));
  EXPECT_EQ(SeedSequence(1ull << 32).entropy(), (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(SeedSequence(0x123456789ABCDEF0ull).entropy(),
            (std::vector<std::uint32_t>{0x9ABCDEF0u, 0x12345678u}));
}

TEST(SeedSequence, WordVectorConstructorAgreesWithIntegerConstructor) {
  EXPECT_EQ(SeedSequence(std::vector<std::uint32_t>{42}).pool(), SeedSequence(42).pool());
  EXPECT_EQ(SeedSequence(std::vector<std::uint32_t>{0, 1}).pool(), SeedSequence(1ull << 32).pool());
  EXPECT_EQ(SeedSequence(std::vector<std::uint32_t>{}).pool(), SeedSequence(0).pool());
}

TEST(SeedSequence, WordsBeyondThePoolSizeAreMixedIn) {
  // Step 4 of §3.2 only runs for more than 4 words: each extra word must matter.
  const std::vector<std::uint32_t> base{1, 2, 3, 4};
  std::vector<std::uint32_t> five = base;
  five.push_back(5);
  std::vector<std::uint32_t> six = five;
  six.push_back(6);
  EXPECT_NE(SeedSequence(base).pool(), SeedSequence(five).pool());
  EXPECT_NE(SeedSequence(five).pool(), SeedSequence(six).pool());
  // Up to 4 words, missing words are mixed in as zeros, so high zero words are
  // harmless; beyond 4 words they are extra entropy and change the pool.
  EXPECT_EQ(SeedSequence(std::vector<std::uint32_t>{5, 0, 0, 0}).pool(), SeedSequence(5).pool());
  std::vector<std::uint32_t> five_and_zero = five;
  five_and_zero.push_back(0);
  EXPECT_NE(SeedSequence(five_and_zero).pool(), SeedSequence(five).pool());
}

}  // namespace
}  // namespace lorank
