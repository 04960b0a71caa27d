// DType table, Shape, and the exact F16/BF16/F32/F64 <-> double conversions.
#include "lorank/tensor.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/float_bits.h"
#include "support/seed.h"

namespace lorank {
namespace {

using detail::bf16_to_double;
using detail::double_to_bf16;
using detail::double_to_f16;
using detail::f16_to_double;

// Independent reference: the binary16 definition, spelled with ldexp.
double f16_reference(uint16_t h) {
  const int e = (h >> 10) & 0x1f;
  const int m = h & 0x3ff;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 0) return sign * std::ldexp(m, -24);
  if (e == 31) return m == 0 ? sign * std::numeric_limits<double>::infinity() : std::nan("");
  return sign * std::ldexp(1024 + m, e - 25);
}

// Independent reference: bfloat16 is the top half of a binary32.
double bf16_reference(uint16_t h) {
  return static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(h) << 16));
}

std::vector<std::byte> all_16bit_patterns() {
  std::vector<std::byte> bytes(65536 * 2);
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto v = static_cast<uint16_t>(i);
    std::memcpy(bytes.data() + 2 * i, &v, 2);
  }
  return bytes;
}

TEST(DType, NamesSizesAndParseRoundTrip) {
  for (DType d : {DType::kF64, DType::kF32, DType::kF16, DType::kBF16, DType::kF8E4M3,
                  DType::kF8E5M2, DType::kI64, DType::kI32, DType::kI16, DType::kI8, DType::kU64,
                  DType::kU32, DType::kU16, DType::kU8, DType::kBool}) {
    ASSERT_EQ(parse_dtype(dtype_name(d)), d) << dtype_name(d);
  }
  EXPECT_EQ(dtype_name(DType::kBF16), "BF16");
  EXPECT_EQ(dtype_size(DType::kF64), 8u);
  EXPECT_EQ(dtype_size(DType::kBF16), 2u);
  EXPECT_EQ(dtype_size(DType::kBool), 1u);
  EXPECT_EQ(parse_dtype("f32"), std::nullopt);  // case-sensitive, as in the format
  EXPECT_EQ(parse_dtype("Q4_0"), std::nullopt);
}

TEST(Shape, NumelAndText) {
  EXPECT_EQ(Shape{}.numel(), 1);
  EXPECT_EQ((Shape{{2, 768}}).numel(), 1536);
  EXPECT_EQ((Shape{{4, 0, 3}}).numel(), 0);
  // The zero wins even when the dims before it would overflow a running product.
  EXPECT_EQ((Shape{{int64_t{1} << 40, int64_t{1} << 40, 0}}).numel(), 0);
  EXPECT_EQ((Shape{{2, 768}}).to_string(), "[2, 768]");
  EXPECT_EQ(Shape{}.to_string(), "[]");
}

TEST(F16, AllPatternsWidenExactlyAndRoundTrip) {
  const std::vector<std::byte> bytes = all_16bit_patterns();
  std::vector<double> out(65536);
  ASSERT_TRUE(to_double(TensorView{"all", DType::kF16, Shape{{65536}}, bytes}, out).ok());
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const double ref = f16_reference(h);
    ASSERT_EQ(std::bit_cast<uint64_t>(out[i]), std::bit_cast<uint64_t>(f16_to_double(h))) << i;
    if (std::isnan(ref)) {
      ASSERT_TRUE(std::isnan(out[i])) << std::hex << h;
      ASSERT_EQ(std::signbit(out[i]), (h & 0x8000) != 0) << std::hex << h;
    } else {
      ASSERT_EQ(std::bit_cast<uint64_t>(out[i]), std::bit_cast<uint64_t>(ref)) << std::hex << h;
    }
    ASSERT_EQ(double_to_f16(out[i]), h) << std::hex << h;  // NaN payloads included
  }
  std::vector<std::byte> back(bytes.size());
  ASSERT_TRUE(from_double(out, DType::kF16, back).ok());
  EXPECT_EQ(back, bytes);
}

TEST(BF16, AllPatternsWidenExactlyAndRoundTrip) {
  const std::vector<std::byte> bytes = all_16bit_patterns();
  std::vector<double> out(65536);
  ASSERT_TRUE(to_double(TensorView{"all", DType::kBF16, Shape{{256, 256}}, bytes}, out).ok());
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const double ref = bf16_reference(h);
    if (std::isnan(ref)) {
      ASSERT_TRUE(std::isnan(out[i])) << std::hex << h;
      ASSERT_EQ(std::signbit(out[i]), (h & 0x8000) != 0) << std::hex << h;
    } else {
      ASSERT_EQ(std::bit_cast<uint64_t>(out[i]), std::bit_cast<uint64_t>(ref)) << std::hex << h;
    }
    ASSERT_EQ(double_to_bf16(out[i]), h) << std::hex << h;
  }
  std::vector<std::byte> back(bytes.size());
  ASSERT_TRUE(from_double(out, DType::kBF16, back).ok());
  EXPECT_EQ(back, bytes);
}

// For every pair of adjacent finite values (both signs), the exact midpoint rounds to the
// one with an even mantissa and anything a hair off the midpoint rounds to the nearer one.
template <typename Widen, typename Narrow>
void check_ties(uint16_t max_finite, Widen widen, Narrow narrow) {
  for (uint16_t sign : {uint16_t{0}, uint16_t{0x8000}}) {
    for (uint32_t m = 0; m <= max_finite; ++m) {
      const auto lo = static_cast<uint16_t>(m | sign);
      const double a = widen(lo);
      // The successor of max_finite is inf: its "midpoint" is max + half an ulp.
      const double b = m < max_finite ? widen(static_cast<uint16_t>((m + 1) | sign))
                                      : a + (a - widen(static_cast<uint16_t>((m - 1) | sign)));
      const auto hi = static_cast<uint16_t>((m + 1) | sign);
      const double mid = a / 2 + b / 2;  // exact: both halves and their sum are representable
      ASSERT_EQ(narrow(mid), (m & 1) ? hi : lo) << std::hex << lo;
      ASSERT_EQ(narrow(std::nextafter(mid, a)), lo) << std::hex << lo;
      ASSERT_EQ(narrow(std::nextafter(mid, b)), hi) << std::hex << lo;
    }
  }
}

TEST(F16, RoundsHalfToEvenAtEveryTie) { check_ties(0x7bff, f16_to_double, double_to_f16); }

TEST(BF16, RoundsHalfToEvenAtEveryTie) { check_ties(0x7f7f, bf16_to_double, double_to_bf16); }

TEST(F16, OverflowUnderflowAndNoDoubleRounding) {
  EXPECT_EQ(double_to_f16(65504.0), 0x7bff);
  EXPECT_EQ(double_to_f16(65519.99), 0x7bff);
  EXPECT_EQ(double_to_f16(65520.0), 0x7c00);
  EXPECT_EQ(double_to_f16(-1e300), 0xfc00);
  EXPECT_EQ(double_to_f16(std::numeric_limits<double>::infinity()), 0x7c00);
  EXPECT_EQ(double_to_f16(std::ldexp(1.0, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(double_to_f16(std::ldexp(1.0, -25)), 0x0000);  // tie with zero -> even (0)
  EXPECT_EQ(double_to_f16(std::ldexp(1.5, -25)), 0x0001);
  EXPECT_EQ(double_to_f16(-std::ldexp(1.0, -30)), 0x8000);    // signed zero
  EXPECT_EQ(double_to_f16(std::ldexp(1023.5, -24)), 0x0400);  // rounds up into the normals
  EXPECT_EQ(double_to_f16(5e-324), 0x0000);                   // double subnormal
  // Through float, 1 + 2^-11 + 2^-40 would first become the tie 1 + 2^-11 and then round
  // down to 1.0; the exact RNE result is 1 + 2^-10.
  EXPECT_EQ(double_to_f16(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)), 0x3c01);
  EXPECT_EQ(double_to_bf16(1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40)), 0x3f81);
  EXPECT_EQ(double_to_bf16(1e39), 0x7f80);
  EXPECT_EQ(double_to_bf16(std::ldexp(1.0, -133)), 0x0001);
  EXPECT_EQ(double_to_bf16(std::nan("")) & 0x7f80, 0x7f80);
  EXPECT_NE(double_to_bf16(std::nan("")) & 0x7f, 0);
}

TEST(Convert, RandomDoublesNarrowToANearestValue) {
  const uint64_t seed = testing::test_seed("RandomDoublesNarrowToANearestValue");
  SCOPED_TRACE(::testing::Message() << "LORANK_SEED=" << seed);
  std::mt19937_64 rng(seed);
  // Finite range only (|x| < 65504): beyond it "nearest" is inf, covered by the tie tests.
  std::uniform_real_distribution<double> exponent(-30, 15);
  std::uniform_real_distribution<double> mant(-1.99, 1.99);
  for (int i = 0; i < 200000; ++i) {
    const double x = mant(rng) * std::exp2(exponent(rng));
    const uint16_t h = double_to_f16(x);
    const double err = std::abs(f16_to_double(h) - x);
    const auto up = static_cast<uint16_t>(h + 1), down = static_cast<uint16_t>(h - 1);
    if ((up & 0x7fff) < 0x7c00) {
      ASSERT_LE(err, std::abs(f16_to_double(up) - x)) << x;
    }
    if ((h & 0x7fff) != 0) {
      ASSERT_LE(err, std::abs(f16_to_double(down) - x)) << x;
    }
  }
}

TEST(Convert, F32AndF64AreExactAndUnalignedDataWorks) {
  const std::vector<double> values = {0.0, -0.0, 1.5, -3.25e-40, 3.4e38, 1e-45, -7.0};
  std::vector<std::byte> f32(values.size() * 4 + 1);
  const std::span<std::byte> unaligned(f32.data() + 1, values.size() * 4);
  ASSERT_TRUE(from_double(values, DType::kF32, unaligned).ok());
  std::vector<double> back(values.size());
  ASSERT_TRUE(to_double(TensorView{"x", DType::kF32, Shape{{7}}, unaligned}, back).ok());
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(back[i], static_cast<double>(static_cast<float>(values[i])));
  }
  std::vector<std::byte> f64(values.size() * 8);
  ASSERT_TRUE(from_double(values, DType::kF64, f64).ok());
  ASSERT_TRUE(to_double(TensorView{"x", DType::kF64, Shape{{7}}, f64}, back).ok());
  EXPECT_EQ(back, values);
}

TEST(Convert, RejectsWrongSizesAndDtypes) {
  std::vector<std::byte> bytes(8);
  std::vector<double> out(2);
  EXPECT_EQ(to_double(TensorView{"i", DType::kI32, Shape{{2}}, bytes}, out).code(),
            StatusCode::kNotSupported);
  EXPECT_EQ(to_double(TensorView{"f", DType::kF32, Shape{{3}}, bytes}, out).code(),
            StatusCode::kInvalidData);
  EXPECT_EQ(to_double(TensorView{"f", DType::kF16, Shape{{4}}, bytes}, out).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(from_double(out, DType::kU8, bytes).code(), StatusCode::kNotSupported);
  EXPECT_EQ(from_double(out, DType::kF16, bytes).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(to_double(TensorView{"e", DType::kF16, Shape{{0}}, {}}, {}).ok());
}

}  // namespace
}  // namespace lorank
