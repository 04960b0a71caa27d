// The widening and narrowing loops of convert.cc, compiled once per instruction-set
// variant (core/kernel_variant.h). The conversions are exact (or correctly rounded, RNE)
// by construction, and this file is compiled without FMA contraction, so every variant
// gives the same bits (tested). The loops read through memcpy because mmapped tensor data
// need not be aligned; compilers turn these into plain (vector) loads.
#include <bit>
#include <cstring>

#include "core/convert_kernels.h"
#include "core/float_bits.h"

#ifndef LORANK_KERNEL_VARIANT
#error "compiled once per variant by CMakeLists.txt with -DLORANK_KERNEL_VARIANT=..."
#endif

namespace lorank::detail::LORANK_KERNEL_VARIANT {
namespace {

static_assert(std::endian::native == std::endian::little,
              "stored tensors are little-endian; a big-endian port needs byte swaps here");

template <typename Stored, typename Widen, typename Out>
void widen(const std::byte* src, Out* out, std::size_t n, Widen widen_one) {
  for (std::size_t i = 0; i < n; ++i) {
    Stored v;
    std::memcpy(&v, src + i * sizeof(Stored), sizeof(Stored));
    out[i] = widen_one(v);
  }
}

template <typename Stored, typename Narrow, typename In>
void narrow(const In* in, std::byte* dst, std::size_t n, Narrow narrow_one) {
  for (std::size_t i = 0; i < n; ++i) {
    const Stored v = narrow_one(in[i]);
    std::memcpy(dst + i * sizeof(Stored), &v, sizeof(Stored));
  }
}

void widen_f32(const std::byte* src, double* out, std::size_t n) {
  widen<float>(src, out, n, [](float v) { return static_cast<double>(v); });
}
void widen_f16(const std::byte* src, double* out, std::size_t n) {
  widen<uint16_t>(src, out, n, [](uint16_t v) { return f16_to_double(v); });
}
void widen_bf16(const std::byte* src, double* out, std::size_t n) {
  widen<uint16_t>(src, out, n, [](uint16_t v) { return bf16_to_double(v); });
}
// The hardware conversion rounds to nearest even.
void narrow_f32(const double* in, std::byte* dst, std::size_t n) {
  narrow<float>(in, dst, n, [](double v) { return static_cast<float>(v); });
}
void narrow_f16(const double* in, std::byte* dst, std::size_t n) {
  narrow<uint16_t>(in, dst, n, [](double v) { return double_to_f16(v); });
}
void narrow_bf16(const double* in, std::byte* dst, std::size_t n) {
  narrow<uint16_t>(in, dst, n, [](double v) { return double_to_bf16(v); });
}

void widen_f16_to_float(const std::byte* src, float* out, std::size_t n) {
  widen<uint16_t>(src, out, n, [](uint16_t v) { return static_cast<float>(f16_to_double(v)); });
}
void widen_bf16_to_float(const std::byte* src, float* out, std::size_t n) {
  widen<uint16_t>(src, out, n, [](uint16_t v) { return bf16_to_float(v); });
}
void narrow_float_to_f16(const float* in, std::byte* dst, std::size_t n) {
  narrow<uint16_t>(in, dst, n, [](float v) { return double_to_f16(v); });
}
void narrow_float_to_bf16(const float* in, std::byte* dst, std::size_t n) {
  narrow<uint16_t>(in, dst, n, [](float v) { return float_to_bf16(v); });
}

}  // namespace

extern const ConvertKernels kConvertKernels = {
    widen_f32,          widen_f16,           widen_bf16,          narrow_f32,
    narrow_f16,         narrow_bf16,         widen_f16_to_float,  widen_bf16_to_float,
    narrow_float_to_f16, narrow_float_to_bf16};

}  // namespace lorank::detail::LORANK_KERNEL_VARIANT
