// 1,000,000-value streams against fixtures/numpy_rng/long_streams.json: sampled values,
// every ziggurat tail value, the first 200 wedge-accepted values and the SHA-256 of all
// values. Each test must stay well under a second in Release.
#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

#include "lorank/random.h"
#include "support/numpy_fixtures.h"
#include "support/sha256.h"

namespace lorank {
namespace {

using testing::hex64;
using testing::parse_hex_u64;

constexpr std::size_t kCount = 1'000'000;

const nlohmann::json& long_streams() {
  static const nlohmann::json j = testing::read_fixture_json("long_streams.json");
  return j;
}

const nlohmann::json& stream(const std::string& key) {
  const nlohmann::json& streams = long_streams()["streams"];
  EXPECT_TRUE(streams.contains(key)) << "long_streams.json has no stream '" << key << "'";
  return streams[key];
}

// Checks `[index, "0x<bits>", ...]` rows; returns how many rows were checked.
std::size_t expect_rows(const std::vector<double>& got, const nlohmann::json& rows,
                        std::size_t bits_col, const char* what) {
  for (const auto& row : rows) {
    const auto index = row[0].get<std::size_t>();
    const std::uint64_t want = parse_hex_u64(row[bits_col].get<std::string>());
    EXPECT_LT(index, got.size()) << what;
    if (index >= got.size()) continue;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(got[index]), want)
        << what << " [" << index << "]: want " << hex64(want) << ", got " << got[index];
  }
  return rows.size();
}

void expect_common(const std::vector<double>& got, const nlohmann::json& s) {
  ASSERT_EQ(long_streams()["n"].get<std::size_t>(), kCount);
  EXPECT_EQ(expect_rows(got, s["sampled"], 1, "sampled"), 21u);
  EXPECT_EQ(testing::sha256_hex_of_doubles_le(got), s["sha256"].get<std::string>());
}

void check_legacy(std::uint32_t seed) {
  const nlohmann::json& s =
      stream("np.random.seed(" + std::to_string(seed) + "); np.random.randn(1000000)");
  LegacyNormal rng(seed);
  expect_common(rng.randn(kCount), s);
}

TEST(LegacyNormalLong, Seed42MillionValues) { check_legacy(42); }
TEST(LegacyNormalLong, Seed0MillionValues) { check_legacy(0); }
TEST(LegacyNormalLong, Seed12345MillionValues) { check_legacy(12345); }

void check_default_rng(std::uint64_t seed) {
  const nlohmann::json& s =
      stream("np.random.default_rng(" + std::to_string(seed) + ").standard_normal(1000000)");
  DefaultRngNormal rng(seed);
  const std::vector<double> got = rng.standard_normal(kCount);
  expect_common(got, s);
  const nlohmann::json& counts = s["path_counts"];
  EXPECT_EQ(expect_rows(got, s["tail_values"]["rows"], 2, "tail"),
            counts["tail_entries"].get<std::size_t>());
  EXPECT_EQ(expect_rows(got, s["wedge_accepted_first_200"]["rows"], 1, "wedge"), 200u);

  // Word consumption: one word per outer pass, one per wedge test, two per tail try.
  // Replaying that many steps with advance() must land on the generator's state, which
  // pins the path counts (and hence the rejection logic) without instrumenting it.
  const auto words =
      counts["words"].get<std::uint64_t>() + counts["wedge_accept"].get<std::uint64_t>() +
      counts["wedge_reject"].get<std::uint64_t>() + 2 * counts["tail_tries"].get<std::uint64_t>();
  Pcg64 replay(seed);
  replay.advance(words);
  EXPECT_TRUE(replay.state() == rng.bit_generator().state())
      << "expected " << words << " words drawn";
}

TEST(DefaultRngNormalLong, Seed0MillionValues) { check_default_rng(0); }
TEST(DefaultRngNormalLong, Seed42MillionValues) { check_default_rng(42); }

}  // namespace
}  // namespace lorank
