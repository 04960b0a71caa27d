// Readers for shared/fixtures/numpy_rng (format: fixtures/numpy_rng/README.md) and
// bit-pattern comparisons. Everything is compared as IEEE-754 bits, never as values,
// so -0.0 vs 0.0 or a 1-ulp difference is a failure.
#ifndef LORANK_TESTS_SUPPORT_NUMPY_FIXTURES_H_
#define LORANK_TESTS_SUPPORT_NUMPY_FIXTURES_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lorank/random.h"

namespace lorank::testing {

// The seeds with SeedSequence/PCG64 check values in intermediates.json, and their keys.
struct SeedCase {
  std::uint64_t seed;
  const char* key;
};
inline constexpr SeedCase kSeedSequenceCases[] = {{0, "seedsequence_pcg64_seed0"},
                                                  {42, "seedsequence_pcg64_seed42"}};

// Parses "0x..." (or bare) hex into a u64 / u128; a malformed string fails the test.
std::uint64_t parse_hex_u64(std::string_view text);
Uint128 parse_hex_u128(std::string_view text);

// "0x" + 16 lowercase hex digits, for failure messages.
std::string hex64(std::uint64_t bits);

// The bit patterns in column `column` (0-based, whitespace-separated) of every
// non-comment line of fixtures/numpy_rng/<name>.
std::vector<std::uint64_t> read_fixture_bits(const std::string& name, int column = 0);

// Parses fixtures/numpy_rng/<name> as JSON.
nlohmann::json read_fixture_json(const std::string& name);

// The bit patterns of `values`.
std::vector<std::uint64_t> to_bits(std::span<const double> values);

// Success iff got.size() == want.size() and every got[i] has bit pattern want[i];
// otherwise names the mismatch count and the first mismatching index.
::testing::AssertionResult bits_equal(std::span<const double> got,
                                      std::span<const std::uint64_t> want);

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_NUMPY_FIXTURES_H_
