// Element types, shapes and non-owning tensor views, plus exact conversions between the
// stored floating-point formats (F16, BF16, F32, F64) and double.
//
// Shapes are row-major: dims are listed slowest-first, as in safetensors and NumPy. A PEFT
// lora_A of rank r over `in` features is Shape{{r, in}}. See docs/formats.md.
#ifndef LORANK_TENSOR_H_
#define LORANK_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lorank/status.h"

namespace lorank {

// The element types lorank can carry. Names and sizes follow the safetensors dtype
// strings ("F64", "BF16", "F8_E4M3", ...). Only the floating types F64/F32/F16/BF16 can be
// converted to and from double; the others can be read, copied and written unchanged.
enum class DType {
  kF64,
  kF32,
  kF16,
  kBF16,
  kF8E4M3,
  kF8E5M2,
  kI64,
  kI32,
  kI16,
  kI8,
  kU64,
  kU32,
  kU16,
  kU8,
  kBool,
};

// Returns the safetensors spelling of `dtype` ("F32", "BF16", "F8_E4M3", "BOOL", ...).
std::string_view dtype_name(DType dtype);

// Returns the size of one element in bytes (1, 2, 4 or 8).
std::size_t dtype_size(DType dtype);

// Returns the DType spelled `name` (exact, case-sensitive safetensors spelling), or
// std::nullopt when the name is unknown.
std::optional<DType> parse_dtype(std::string_view name);

// True for the dtypes that to_double()/from_double() convert: F64, F32, F16, BF16.
bool is_convertible_float(DType dtype);

// A row-major shape: dims[0] is the slowest-varying dimension. An empty `dims` is a
// scalar (one element). Dims are non-negative.
struct Shape {
  std::vector<int64_t> dims;

  // Returns the number of dims (0 for a scalar).
  std::size_t rank() const { return dims.size(); }
  // Returns the product of the dims (1 for a scalar, 0 if any dim is 0).
  // REQUIRES: if no dim is 0, the product fits in int64_t (readers validate this before
  // building a Shape).
  int64_t numel() const;
  // Returns "[2, 768]" style text for messages.
  std::string to_string() const;

  friend bool operator==(const Shape&, const Shape&) = default;
};

// A non-owning view of one tensor's bytes, as stored (little-endian, row-major).
// Lifetime: `name` and `data` borrow from whoever produced the view (for example a
// SafetensorsFile); the view is valid only while that owner is alive.
// Invariant kept by every lorank reader: data.size() == shape.numel() * dtype_size(dtype).
// `data` need not be aligned to the element size.
struct TensorView {
  std::string_view name;
  DType dtype = DType::kF32;
  Shape shape;
  std::span<const std::byte> data;

  // Returns shape.numel().
  int64_t numel() const { return shape.numel(); }
};

// Widens every element of `tensor` to double, exactly: every F16, BF16, F32 and F64 value
// is representable in double. F16/BF16 subnormals, signed zeros and infinities map to the
// same values; NaNs stay NaN with sign and payload kept (F32 signalling NaNs come back
// quiet). Runs at memory speed (branch-free, vectorisable loops, no lookup tables).
// Returns kNotSupported if the dtype is not F64/F32/F16/BF16, kInvalidArgument if
// out.size() != tensor.numel(), and kInvalidData if tensor.data.size() does not match its shape.
Status to_double(const TensorView& tensor, std::span<double> out);

// Narrows each value of `in` to `dtype` with round-to-nearest-even, directly from double
// (no double rounding through float), and writes the little-endian bytes to `out`.
// Values beyond the format's range round to +-inf (F16 >= 65520 becomes inf); tiny values
// round to subnormals or signed zero; NaNs stay NaN (sign and the leading payload bits kept).
// Returns kNotSupported if the dtype is not F64/F32/F16/BF16, and kInvalidArgument if
// out.size() != in.size() * dtype_size(dtype).
Status from_double(std::span<const double> in, DType dtype, std::span<std::byte> out);

// The same two conversions with float: to_float widens F32, F16 and BF16 exactly (F64 is
// refused with kNotSupported: its values need not fit a float), and from_float(x) writes
// exactly what from_double(double(x)) writes, for every x (one rounding; BF16 by a faster
// bit path), except that F32 output copies x as it is (a signalling NaN stays signalling). Used where float arithmetic is chosen (lorank/merge.h, MergeCompute).
Status to_float(const TensorView& tensor, std::span<float> out);
Status from_float(std::span<const float> in, DType dtype, std::span<std::byte> out);

}  // namespace lorank

#endif  // LORANK_TENSOR_H_
