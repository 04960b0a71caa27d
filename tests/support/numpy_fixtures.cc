#include "support/numpy_fixtures.h"

#include <bit>
#include <cstdio>
#include <sstream>

#include "support/shared_data.h"

namespace lorank::testing {
namespace {

constexpr const char* kFixtureDir = "fixtures/numpy_rng/";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Shared by the u64 and u128 parsers; `max_digits` guards against silent overflow.
Uint128 parse_hex(std::string_view text, std::size_t max_digits) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  Uint128 value = 0;
  const bool ok_length = !text.empty() && text.size() <= max_digits;
  EXPECT_TRUE(ok_length) << "bad hex length: '" << text << "'";
  for (char c : text) {
    const int d = hex_digit(c);
    EXPECT_GE(d, 0) << "bad hex digit in '" << text << "'";
    value = (value << 4) | static_cast<unsigned>(d < 0 ? 0 : d);
  }
  return value;
}

}  // namespace

std::uint64_t parse_hex_u64(std::string_view text) {
  return static_cast<std::uint64_t>(parse_hex(text, 16));
}

Uint128 parse_hex_u128(std::string_view text) { return parse_hex(text, 32); }

std::string hex64(std::uint64_t bits) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(bits));
  return buf;
}

std::vector<std::uint64_t> read_fixture_bits(const std::string& name, int column) {
  std::istringstream in(read_text_file(shared_path(kFixtureDir + name)));
  std::vector<std::uint64_t> bits;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string field;
    for (int c = 0; c <= column; ++c) fields >> field;
    EXPECT_TRUE(fields) << name << ": no column " << column << " in '" << line << "'";
    bits.push_back(parse_hex_u64(field));
  }
  EXPECT_FALSE(bits.empty()) << name << " holds no values";
  return bits;
}

nlohmann::json read_fixture_json(const std::string& name) {
  return nlohmann::json::parse(read_text_file(shared_path(kFixtureDir + name)));
}

std::vector<std::uint64_t> to_bits(std::span<const double> values) {
  std::vector<std::uint64_t> bits(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) bits[i] = std::bit_cast<std::uint64_t>(values[i]);
  return bits;
}

::testing::AssertionResult bits_equal(std::span<const double> got,
                                      std::span<const std::uint64_t> want) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure() << "size " << got.size() << " != " << want.size();
  }
  std::size_t mismatches = 0, first = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::bit_cast<std::uint64_t>(got[i]) != want[i] && mismatches++ == 0) first = i;
  }
  if (mismatches == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << mismatches << " of " << got.size() << " bit mismatches; first at [" << first
         << "]: got " << hex64(std::bit_cast<std::uint64_t>(got[first])) << " (" << got[first]
         << "), want " << hex64(want[first]);
}

}  // namespace lorank::testing
