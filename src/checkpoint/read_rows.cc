// Values of checkpoint tensors, a block of rows at a time (merge and audit --base stream
// W through this; a whole tensor in double could be larger than memory allows).
#include <type_traits>
#include <vector>

#include "checkpoint/state.h"
#include "lorank/checkpoint.h"
#include "lorank/gguf.h"

namespace lorank {

namespace {

Status widen_view(const TensorView& v, std::span<double> out) { return to_double(v, out); }
Status widen_view(const TensorView& v, std::span<float> out) { return to_float(v, out); }

}  // namespace

template <typename T>
Status Checkpoint::read_rows_as(const CheckpointTensor& t, uint64_t row_begin,
                                std::span<T> out) const {
  const uint64_t len = t.row_length();
  const uint64_t rows = len == 0 ? 0 : out.size() / len;
  if (len == 0 ? !out.empty() : out.size() % len != 0 || row_begin > t.row_count() ||
                                    rows > t.row_count() - row_begin) {
    return invalid_argument("tensor '{}': {} values from row {} are not whole rows of its shape {}",
                            t.name, out.size(), row_begin, t.shape.to_string());
  }
  if (t.dtype && is_convertible_float(*t.dtype)) {
    const std::size_t bytes = dtype_size(*t.dtype);
    const TensorView rows_view{t.name, *t.dtype,
                               Shape{{static_cast<int64_t>(rows), static_cast<int64_t>(len)}},
                               t.data.subspan(row_begin * len * bytes, out.size() * bytes)};
    return widen_view(rows_view, out);
  }
  if (!t.has_values()) {
    return not_supported("tensor '{}' of type {} has no values lorank can read", t.name,
                         t.type_name);
  }
  // A quantised GGUF tensor: ggml's float32 dequantisation (widened exactly to double).
  const GgufTensorInfo* info = state_->gguf ? state_->gguf->find_tensor_info(t.name) : nullptr;
  if (info == nullptr) return internal_error("tensor '{}': no GGUF info", t.name);
  if constexpr (std::is_same_v<T, float>) {
    return gguf_dequantize_rows(*info, row_begin, out);
  } else {
    std::vector<float> values(out.size());
    LORANK_RETURN_IF_ERROR(gguf_dequantize_rows(*info, row_begin, values));
    for (std::size_t i = 0; i < values.size(); ++i) out[i] = values[i];
    return Status();
  }
}

Status Checkpoint::read_rows(const CheckpointTensor& t, uint64_t row_begin,
                             std::span<double> out) const {
  return read_rows_as(t, row_begin, out);
}

Status Checkpoint::read_rows(const CheckpointTensor& t, uint64_t row_begin,
                             std::span<float> out) const {
  return read_rows_as(t, row_begin, out);
}

}  // namespace lorank
