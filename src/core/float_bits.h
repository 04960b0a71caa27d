// Scalar bit-level conversions between the 16-bit float formats (IEEE binary16 "F16" and
// bfloat16 "BF16") and double. Branch-free where it matters, table-free, so that the loops
// in convert.cc vectorise. Private: the public entry points are in lorank/tensor.h.
#ifndef LORANK_CORE_FLOAT_BITS_H_
#define LORANK_CORE_FLOAT_BITS_H_

#include <bit>
#include <cstdint>

namespace lorank::detail {
// Internal linkage: every object, including each instruction-set variant of a kernel
// (core/kernel_variant.h), keeps its own copy, so that the linker never hands the generic
// variant an AVX-512 copy of these functions.
namespace {

// A 16-bit format with one sign bit, kExpBits exponent bits and kMantBits mantissa bits
// (F16: 5/10, BF16: 8/7), mapped onto binary64 (11/52).
template <int kExpBits, int kMantBits>
struct Small16 {
  static_assert(1 + kExpBits + kMantBits == 16);
  static constexpr int kBias = (1 << (kExpBits - 1)) - 1;
  static constexpr int kShift = 52 - kMantBits;  // mantissa bits dropped when narrowing
  static constexpr uint32_t kExpMask = ((1u << kExpBits) - 1) << kMantBits;
  static constexpr uint32_t kMantMask = (1u << kMantBits) - 1;
  static constexpr uint64_t kRebias = uint64_t(1023 - kBias) << 52;
  static constexpr uint64_t kDoubleInf = 0x7ff0'0000'0000'0000;
  // 2^(1 - bias - mant_bits): the value of the smallest subnormal, and its inverse.
  static constexpr double kSubUnit =
      std::bit_cast<double>(uint64_t(1023 + 1 - kBias - kMantBits) << 52);
  static constexpr double kSubUnitInv =
      std::bit_cast<double>(uint64_t(1023 - 1 + kBias + kMantBits) << 52);

  // Exact widening. Normals are rebiased in the integer domain, subnormals are an integer
  // count of kSubUnit (exact in double), inf/NaN keep their payload bits. All three are
  // computed and one is selected, which keeps the loop free of branches.
  static double to_double(uint16_t h) {
    const uint32_t em = h & 0x7fffu;
    const uint64_t sign = uint64_t(h & 0x8000u) << 48;
    const uint64_t normal = (uint64_t(em) << kShift) + kRebias;
    const uint64_t special = (uint64_t(em) << kShift) | kDoubleInf;
    const uint64_t subnormal = std::bit_cast<uint64_t>(double(int32_t(em)) * kSubUnit);
    // Selects via masks: GCC 12 leaves ?: here as branches and then refuses to vectorise.
    const uint64_t is_special = uint64_t(0) - uint64_t(em >= kExpMask);
    const uint64_t is_subnormal = uint64_t(0) - uint64_t(em < (1u << kMantBits));
    uint64_t bits = normal ^ ((normal ^ special) & is_special);
    bits ^= (bits ^ subnormal) & is_subnormal;
    return std::bit_cast<double>(bits | sign);
  }

  // Round-to-nearest-even narrowing straight from double (narrowing through float first
  // would round twice and break ties).
  static uint16_t from_double(double x) {
    const uint64_t bits = std::bit_cast<uint64_t>(x);
    const auto sign = uint16_t((bits >> 48) & 0x8000u);
    const uint64_t abs = bits & 0x7fff'ffff'ffff'ffffu;
    if (abs > kDoubleInf) {  // NaN: keep the leading payload bits, never produce inf
      uint32_t payload = uint32_t(abs >> kShift) & kMantMask;
      if (payload == 0) payload = 1u << (kMantBits - 1);
      return uint16_t(sign | kExpMask | payload);
    }
    // max finite + half an ulp: at or above it RNE gives inf (the tie goes to the even inf).
    constexpr uint64_t kOverflow = (uint64_t(1023 + kBias) << 52) |
                                   (((uint64_t(1) << (kMantBits + 1)) - 1) << (51 - kMantBits));
    if (abs >= kOverflow) return uint16_t(sign | kExpMask);
    constexpr uint64_t kMinNormal = uint64_t(1023 + 1 - kBias) << 52;
    if (abs < kMinNormal) {
      // Scaling by a power of two is exact; adding and removing 2^52 rounds to an integer
      // under the default RNE mode. A result of 1 << kMantBits is the smallest normal.
      const double scaled = std::bit_cast<double>(abs) * kSubUnitInv;
      const double rounded = (scaled + 0x1p52) - 0x1p52;
      return uint16_t(sign | uint32_t(rounded));
    }
    const uint64_t rebased = abs - kRebias;
    const uint64_t half_minus_one = (uint64_t(1) << (kShift - 1)) - 1;
    const uint64_t round = half_minus_one + ((rebased >> kShift) & 1);  // ties to even
    return uint16_t(sign | uint32_t((rebased + round) >> kShift));
  }
};

using F16Bits = Small16<5, 10>;
using BF16Bits = Small16<8, 7>;

inline double f16_to_double(uint16_t h) { return F16Bits::to_double(h); }
// BF16 is the top half of a binary32, so the hardware float->double conversion widens it
// exactly, subnormals included; only NaNs need the bit path (the conversion would set the
// quiet bit of a signalling NaN). About twice as fast as the generic path.
inline double bf16_to_double(uint16_t h) {
  const uint32_t em = h & 0x7fffu;
  uint64_t bits = std::bit_cast<uint64_t>(double(std::bit_cast<float>(uint32_t(h) << 16)));
  const uint64_t nan_bits = (uint64_t(h) << 48 & 0x8000'0000'0000'0000u) |
                            (uint64_t(em) << BF16Bits::kShift) | BF16Bits::kDoubleInf;
  const uint64_t is_nan = uint64_t(0) - uint64_t(em > BF16Bits::kExpMask);
  bits ^= (bits ^ nan_bits) & is_nan;
  return std::bit_cast<double>(bits);
}
inline uint16_t double_to_f16(double x) { return F16Bits::from_double(x); }

// BF16 -> float is exact bit for bit (NaN payloads included): BF16 is the top half.
inline float bf16_to_float(uint16_t h) { return std::bit_cast<float>(uint32_t(h) << 16); }
// Round-to-nearest-even float -> BF16, equal to double_to_bf16(double(x)) for every x: a
// carry out of the 16 dropped bits rounds up (to inf past the largest finite value); NaNs
// keep their leading payload bits with the quiet bit set, as the double route gives.
inline uint16_t float_to_bf16(float x) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  const auto rounded = uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  const auto nan = uint16_t((u >> 16) | 0x0040u);
  return (u & 0x7fff'ffffu) > 0x7f80'0000u ? nan : rounded;
}
inline uint16_t double_to_bf16(double x) { return BF16Bits::from_double(x); }

}  // namespace
}  // namespace lorank::detail

#endif  // LORANK_CORE_FLOAT_BITS_H_
