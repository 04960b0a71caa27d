// PCG64 (src/random/pcg64.cc and the inline step in random.h) against NumPy 1.24.2.
#include <gtest/gtest.h>

#include <bit>
#include <vector>

#include "lorank/random.h"
#include "support/numpy_fixtures.h"

namespace lorank {
namespace {

using testing::parse_hex_u128;
using testing::parse_hex_u64;
using testing::read_fixture_json;

using testing::kSeedSequenceCases;
constexpr const auto& kCases = kSeedSequenceCases;

TEST(Pcg64, StateAndIncAfterSeedingMatchNumpy) {
  const nlohmann::json j = read_fixture_json("intermediates.json");
  for (const testing::SeedCase& c : kCases) {
    const Pcg64 g(c.seed);
    EXPECT_TRUE(g.state() ==
                parse_hex_u128(j[c.key]["pcg64_state_after_seeding"].get<std::string>()))
        << c.key;
    EXPECT_TRUE(g.inc() == parse_hex_u128(j[c.key]["pcg64_inc"].get<std::string>())) << c.key;
  }
}

TEST(Pcg64, StateAndIncMatchSpecCheckValues) {  // numpy-rng.md §3.5
  const Pcg64 g0(0);
  EXPECT_TRUE(g0.state() == make_uint128(0x1aa1b5345996452dull, 0x09585eb7a69561e3ull));
  EXPECT_TRUE(g0.inc() == make_uint128(0x418ddadb3af71a82ull, 0x588133bc447873a9ull));
  const Pcg64 g42(42);
  EXPECT_TRUE(g42.state() == make_uint128(0xcea44f6798798f2aull, 0xacbc7c9d68860ac8ull));
  EXPECT_TRUE(g42.inc() == make_uint128(0xfa505436c9a8416eull, 0x66caf2e28d25abffull));
}

TEST(Pcg64, FirstOutputsMatchSpecCheckValues) {  // numpy-rng.md §3.6
  EXPECT_EQ(Pcg64(0).next64(), 0xa30febcfd9c2825full);
  EXPECT_EQ(Pcg64(42).next64(), 0xc621fbcd16d92688ull);
}

TEST(Pcg64, RandomRawMatchesNumpy) {
  const nlohmann::json j = read_fixture_json("intermediates.json");
  for (const testing::SeedCase& c : kCases) {
    Pcg64 g(c.seed);
    for (const auto& hex : j[c.key]["pcg64_first8_next64"]) {
      EXPECT_EQ(g.next64(), parse_hex_u64(hex.get<std::string>())) << c.key;
    }
  }
}

TEST(Pcg64, GeneratorRandomBitsMatchNumpy) {
  const nlohmann::json j = read_fixture_json("intermediates.json");
  for (const testing::SeedCase& c : kCases) {
    Pcg64 g(c.seed);
    for (const auto& hex : j[c.key]["generator_first4_random_bits"]) {
      EXPECT_EQ(std::bit_cast<std::uint64_t>(g.next_double()),
                parse_hex_u64(hex.get<std::string>()))
          << c.key;
    }
  }
}

TEST(Pcg64, FromStateRestoresTheStream) {
  Pcg64 a(42);
  (void)a.next64();
  Pcg64 b = Pcg64::from_state(a.state(), a.inc());
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.next64(), b.next64());
}

// The spec (§3.8) gives no numeric advance() results, so advance is pinned to the step
// function (itself pinned to NumPy's random_raw above) and to the LCG's group laws.
TEST(Pcg64, AdvanceEqualsSteppingOneByOne) {
  for (std::uint64_t delta : {0ull, 1ull, 2ull, 3ull, 1000ull, 12345ull}) {
    Pcg64 stepped(0);
    Pcg64 jumped(0);
    for (std::uint64_t i = 0; i < delta; ++i) (void)stepped.next64();
    jumped.advance(delta);
    EXPECT_TRUE(jumped.state() == stepped.state()) << "delta " << delta;
    EXPECT_TRUE(jumped.inc() == stepped.inc());
    EXPECT_EQ(jumped.next64(), stepped.next64()) << "delta " << delta;
  }
}

TEST(Pcg64, AdvanceComposesAndWrapsMod2To128) {
  const Uint128 big = (Uint128{1} << 100) + 7;  // one of the deltas NumPy was checked with
  Pcg64 once(42), twice(42);
  once.advance(big);
  twice.advance(Uint128{1} << 100);
  twice.advance(7);
  EXPECT_TRUE(once.state() == twice.state());

  // The LCG has period 2^128: advancing by 2^128 - 1 is one step back.
  const Uint128 minus_one = ~Uint128{0};
  Pcg64 g(42);
  const Uint128 start = g.state();
  g.advance(minus_one);
  EXPECT_FALSE(g.state() == start);
  (void)g.next64();
  EXPECT_TRUE(g.state() == start);
}

}  // namespace
}  // namespace lorank
