// The element loops of to_double/from_double (lorank/tensor.h) per instruction-set variant
// (convert_kernel.cc; core/kernel_variant.h). n values; bytes little-endian, any alignment.
#ifndef LORANK_CORE_CONVERT_KERNELS_H_
#define LORANK_CORE_CONVERT_KERNELS_H_

#include <cstddef>

#include "core/kernel_variant.h"

namespace lorank::detail {

struct ConvertKernels {
  void (*widen_f32)(const std::byte* src, double* out, std::size_t n);
  void (*widen_f16)(const std::byte* src, double* out, std::size_t n);
  void (*widen_bf16)(const std::byte* src, double* out, std::size_t n);
  void (*narrow_f32)(const double* in, std::byte* dst, std::size_t n);
  void (*narrow_f16)(const double* in, std::byte* dst, std::size_t n);
  void (*narrow_bf16)(const double* in, std::byte* dst, std::size_t n);
  // The float counterparts (convert_float.cc): exact widening, narrowing as from_double
  // of the exact double would.
  void (*widen_f16_to_float)(const std::byte* src, float* out, std::size_t n);
  void (*widen_bf16_to_float)(const std::byte* src, float* out, std::size_t n);
  void (*narrow_float_to_f16)(const float* in, std::byte* dst, std::size_t n);
  void (*narrow_float_to_bf16)(const float* in, std::byte* dst, std::size_t n);
};
LORANK_DECLARE_KERNEL_VARIANTS(ConvertKernels, kConvertKernels)

}  // namespace lorank::detail

#endif  // LORANK_CORE_CONVERT_KERNELS_H_
