// Widening of stored floats to float and RNE narrowing back (see lorank/tensor.h); the
// float counterparts of convert.cc, for the merge's float arithmetic. The element loops
// are per-CPU kernels (core/convert_kernel.cc).
#include <cstring>

#include "core/convert_kernels.h"
#include "lorank/tensor.h"

namespace lorank {
namespace {

Status check_sizes(std::string_view name, DType dtype, std::size_t values, std::size_t bytes) {
  if (bytes != values * dtype_size(dtype)) {
    return invalid_data("tensor '{}': {} bytes of data for {} values of {}", name, bytes, values,
                        dtype_name(dtype));
  }
  return Status();
}

}  // namespace

Status to_float(const TensorView& tensor, std::span<float> out) {
  if (!is_convertible_float(tensor.dtype) || tensor.dtype == DType::kF64) {
    return not_supported("tensor '{}': cannot convert dtype {} to float exactly", tensor.name,
                         dtype_name(tensor.dtype));
  }
  if (out.size() != static_cast<std::size_t>(tensor.numel())) {
    return invalid_argument("tensor '{}': output holds {} values, tensor has {}", tensor.name,
                            out.size(), tensor.numel());
  }
  LORANK_RETURN_IF_ERROR(check_sizes(tensor.name, tensor.dtype, out.size(), tensor.data.size()));
  const std::byte* src = tensor.data.data();
  const std::size_t n = out.size();
  if (tensor.dtype == DType::kF32) {
    if (n != 0) std::memcpy(out.data(), src, n * sizeof(float));
    return Status();
  }
  if (tensor.dtype == DType::kBF16) {
    detail::kConvertKernels_active().widen_bf16_to_float(src, out.data(), n);
  } else {
    detail::kConvertKernels_active().widen_f16_to_float(src, out.data(), n);
  }
  return Status();
}

Status from_float(std::span<const float> in, DType dtype, std::span<std::byte> out) {
  if (!is_convertible_float(dtype)) {
    return not_supported("cannot convert float to dtype {}", dtype_name(dtype));
  }
  if (out.size() != in.size() * dtype_size(dtype)) {
    return invalid_argument("output holds {} bytes, {} values of {} need {}", out.size(), in.size(),
                            dtype_name(dtype), in.size() * dtype_size(dtype));
  }
  const std::size_t n = in.size();
  std::byte* dst = out.data();
  switch (dtype) {
    case DType::kF64:
      for (std::size_t i = 0; i < n; ++i) {
        const double v = in[i];
        std::memcpy(dst + 8 * i, &v, 8);
      }
      break;
    case DType::kF32:
      if (n != 0) std::memcpy(dst, in.data(), n * sizeof(float));
      break;
    case DType::kF16:
      detail::kConvertKernels_active().narrow_float_to_f16(in.data(), dst, n);
      break;
    case DType::kBF16:
      detail::kConvertKernels_active().narrow_float_to_bf16(in.data(), dst, n);
      break;
    default:
      break;  // unreachable: filtered by is_convertible_float()
  }
  return Status();
}

}  // namespace lorank
