// TEMPORARY until wip-dequant lands: floats only.
#include <vector>
#include "lorank/gguf.h"
namespace lorank {
bool ggml_type_dequantizable(uint32_t id) { return dtype_for_ggml_type(id) && is_convertible_float(*dtype_for_ggml_type(id)); }
Status gguf_dequantize_rows(const GgufTensorInfo& info, uint64_t row_begin, std::span<float> out) {
  const uint64_t row = info.ne.empty() ? 1 : info.ne[0];
  if (!ggml_type_dequantizable(info.ggml_type)) return not_supported("tensor '{}': no values", info.name);
  const auto dt = *info.dtype();
  const std::size_t es = dtype_size(dt);
  std::vector<double> tmp(out.size());
  TensorView v{info.name, dt, Shape{{static_cast<int64_t>(out.size())}}, info.data.subspan(row_begin * row * es, out.size() * es)};
  LORANK_RETURN_IF_ERROR(to_double(v, tmp));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(tmp[i]);
  return Status();
}
}
