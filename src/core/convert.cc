// Widening of stored floats to double and RNE narrowing back (see lorank/tensor.h). The
// loops are in convert_kernel.cc, one variant per instruction set.
#include <cstring>

#include "core/convert_kernels.h"
#include "lorank/tensor.h"

namespace lorank {

Status to_double(const TensorView& tensor, std::span<double> out) {
  if (!is_convertible_float(tensor.dtype)) {
    return not_supported("tensor '{}': cannot convert dtype {} to double", tensor.name,
                         dtype_name(tensor.dtype));
  }
  const auto n = static_cast<std::size_t>(tensor.numel());
  if (tensor.data.size() != n * dtype_size(tensor.dtype)) {
    return invalid_data("tensor '{}': {} bytes of data for shape {} of {}", tensor.name,
                            tensor.data.size(), tensor.shape.to_string(), dtype_name(tensor.dtype));
  }
  if (out.size() != n) {
    return invalid_argument("tensor '{}': output holds {} values, tensor has {}", tensor.name,
                            out.size(), n);
  }
  const std::byte* src = tensor.data.data();
  double* dst = out.data();
  switch (tensor.dtype) {
    case DType::kF64:
      if (n != 0) std::memcpy(dst, src, n * sizeof(double));
      break;
    case DType::kF32:
      detail::kConvertKernels_active().widen_f32(src, dst, n);
      break;
    case DType::kF16:
      detail::kConvertKernels_active().widen_f16(src, dst, n);
      break;
    case DType::kBF16:
      detail::kConvertKernels_active().widen_bf16(src, dst, n);
      break;
    default:
      break;  // unreachable: filtered by is_convertible_float()
  }
  return Status();
}

Status from_double(std::span<const double> in, DType dtype, std::span<std::byte> out) {
  if (!is_convertible_float(dtype)) {
    return not_supported("cannot convert double to dtype {}", dtype_name(dtype));
  }
  if (out.size() != in.size() * dtype_size(dtype)) {
    return invalid_argument("output holds {} bytes, {} values of {} need {}", out.size(), in.size(),
                            dtype_name(dtype), in.size() * dtype_size(dtype));
  }
  const double* src = in.data();
  std::byte* dst = out.data();
  const std::size_t n = in.size();
  switch (dtype) {
    case DType::kF64:
      if (n != 0) std::memcpy(dst, src, n * sizeof(double));
      break;
    case DType::kF32:
      detail::kConvertKernels_active().narrow_f32(src, dst, n);
      break;
    case DType::kF16:
      detail::kConvertKernels_active().narrow_f16(src, dst, n);
      break;
    case DType::kBF16:
      detail::kConvertKernels_active().narrow_bf16(src, dst, n);
      break;
    default:
      break;  // unreachable: filtered by is_convertible_float()
  }
  return Status();
}

}  // namespace lorank
