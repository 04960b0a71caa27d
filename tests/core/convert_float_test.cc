// to_float / from_float (lorank/tensor.h) against the double conversions they must agree
// with: widening is exact, and narrowing a float writes what narrowing its exact double
// writes, over every BF16/F16 pattern and float patterns chosen to hit every rounding case
// (ties both ways, carries into the exponent, overflow to inf, subnormals, NaN payloads).
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "lorank/kernels.h"
#include "lorank/tensor.h"

namespace lorank {
namespace {

std::vector<float> hostile_floats() {
  std::vector<float> out;
  // Every upper half (sign, exponent, 7 mantissa bits) with the lower halves that decide
  // BF16 rounding: exact, just below / at / above the tie, and the largest.
  for (uint32_t hi = 0; hi < 0x10000; ++hi) {
    for (uint32_t lo : {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu}) {
      out.push_back(std::bit_cast<float>(hi << 16 | lo));
    }
  }
  std::mt19937 g(7);  // and random patterns, which also exercise F16's 13 dropped bits
  for (int i = 0; i < 200000; ++i) out.push_back(std::bit_cast<float>(static_cast<uint32_t>(g())));
  return out;
}

// Under every kernel level the CPU has (the loops are per-CPU kernels).
TEST(ConvertFloat, NarrowingAFloatWritesWhatNarrowingItsDoubleWrites) {
  for (KernelLevel level : kAllKernelLevels) {
    if (!cpu_supports(level)) continue;
    const ScopedKernelLevel forced(level);
    SCOPED_TRACE(kernel_level_name(level));
    const std::vector<float> in = hostile_floats();
    std::vector<double> wide(in.begin(), in.end());
    for (DType dtype : {DType::kBF16, DType::kF16, DType::kF64}) {
      SCOPED_TRACE(dtype_name(dtype));
      std::vector<std::byte> got(in.size() * dtype_size(dtype)), want(got.size());
      ASSERT_TRUE(from_float(in, dtype, got).ok());
      ASSERT_TRUE(from_double(wide, dtype, want).ok());
      for (std::size_t i = 0; i < in.size(); ++i) {
        const std::size_t w = dtype_size(dtype);
        ASSERT_EQ(std::memcmp(got.data() + i * w, want.data() + i * w, w), 0)
            << "float bits 0x" << std::hex << std::bit_cast<uint32_t>(in[i]);
      }
    }
    std::vector<std::byte> f32(in.size() * 4);  // F32 output is the float itself
    ASSERT_TRUE(from_float(in, DType::kF32, f32).ok());
    EXPECT_EQ(std::memcmp(f32.data(), in.data(), f32.size()), 0);
  }
}

TEST(ConvertFloat, WideningIsExactForEverySixteenBitPattern) {
  for (KernelLevel level : kAllKernelLevels) {
    if (!cpu_supports(level)) continue;
    const ScopedKernelLevel forced(level);
    SCOPED_TRACE(kernel_level_name(level));
    std::vector<uint16_t> all(0x10000);
    for (uint32_t h = 0; h < 0x10000; ++h) all[h] = static_cast<uint16_t>(h);
    const std::span<const std::byte> bytes = std::as_bytes(std::span<const uint16_t>(all));
    for (DType dtype : {DType::kBF16, DType::kF16}) {
      SCOPED_TRACE(dtype_name(dtype));
      const TensorView t{"t", dtype, Shape{{0x10000}}, bytes};
      std::vector<float> f(all.size());
      std::vector<double> d(all.size());
      ASSERT_TRUE(to_float(t, f).ok());
      ASSERT_TRUE(to_double(t, d).ok());
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (d[i] != d[i]) {
          EXPECT_NE(f[i], f[i]) << i;  // NaN stays NaN
          EXPECT_EQ(std::signbit(f[i]), std::signbit(d[i])) << i;
        } else {
          EXPECT_EQ(std::bit_cast<uint64_t>(static_cast<double>(f[i])),
                    std::bit_cast<uint64_t>(d[i]))
              << i;
        }
      }
    }
  }
}

TEST(ConvertFloat, RefusesWhatFloatCannotHoldAndWrongSizes) {
  const std::vector<double> one{1.0};
  const TensorView f64{"w", DType::kF64, Shape{{1}}, std::as_bytes(std::span<const double>(one))};
  std::vector<float> out(1);
  EXPECT_EQ(to_float(f64, out).code(), StatusCode::kNotSupported);
  std::vector<float> two(2);
  const TensorView f32{"w", DType::kF32, Shape{{2}}, std::as_bytes(std::span<const double>(one))};
  EXPECT_EQ(to_float(f32, out).code(), StatusCode::kInvalidArgument);  // 1 slot for 2 values
  std::vector<std::byte> small(3);
  EXPECT_EQ(from_float(two, DType::kBF16, small).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lorank
