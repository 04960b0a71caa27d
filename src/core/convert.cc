// Widening of stored floats to double and RNE narrowing back (see lorank/tensor.h).
// The hot loops read through memcpy because mmapped tensor data need not be aligned;
// compilers turn these into plain (vector) loads.
#include <bit>
#include <cstring>

#include "core/float_bits.h"
#include "lorank/tensor.h"

namespace lorank {
namespace {

static_assert(std::endian::native == std::endian::little,
              "stored tensors are little-endian; a big-endian port needs byte swaps here");

template <typename Stored, typename Widen>
void widen(const std::byte* src, double* out, std::size_t n, Widen widen_one) {
  for (std::size_t i = 0; i < n; ++i) {
    Stored v;
    std::memcpy(&v, src + i * sizeof(Stored), sizeof(Stored));
    out[i] = widen_one(v);
  }
}

template <typename Stored, typename Narrow>
void narrow(const double* in, std::byte* dst, std::size_t n, Narrow narrow_one) {
  for (std::size_t i = 0; i < n; ++i) {
    const Stored v = narrow_one(in[i]);
    std::memcpy(dst + i * sizeof(Stored), &v, sizeof(Stored));
  }
}

}  // namespace

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
      widen<float>(src, dst, n, [](float v) { return static_cast<double>(v); });
      break;
    case DType::kF16:
      widen<uint16_t>(src, dst, n, detail::f16_to_double);
      break;
    case DType::kBF16:
      widen<uint16_t>(src, dst, n, detail::bf16_to_double);
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
    case DType::kF32:  // the hardware conversion rounds to nearest even
      narrow<float>(src, dst, n, [](double v) { return static_cast<float>(v); });
      break;
    case DType::kF16:
      narrow<uint16_t>(src, dst, n, detail::double_to_f16);
      break;
    case DType::kBF16:
      narrow<uint16_t>(src, dst, n, detail::double_to_bf16);
      break;
    default:
      break;  // unreachable: filtered by is_convertible_float()
  }
  return Status();
}

}  // namespace lorank
