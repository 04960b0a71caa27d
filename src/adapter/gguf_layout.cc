#include "adapter/gguf_layout.h"

#include <cstring>

namespace lorank::adapter {

bool is_gguf_token_embedding(std::string_view module_name) {
  return module_name.ends_with("token_embd.weight");
}

bool is_flipped_gguf_a(std::string_view tensor_name) {
  constexpr std::string_view kSuffix = ".lora_a";
  return tensor_name.ends_with(kSuffix) &&
         is_gguf_token_embedding(tensor_name.substr(0, tensor_name.size() - kSuffix.size()));
}

TensorView transposed(const TensorView& t, std::vector<std::byte>& buffer) {
  const std::size_t rows = static_cast<std::size_t>(t.shape.dims.at(0));
  const std::size_t cols = static_cast<std::size_t>(t.shape.dims.at(1));
  const std::size_t item = t.data.size() / std::max<std::size_t>(rows * cols, 1);
  buffer.resize(t.data.size());
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      std::memcpy(buffer.data() + (j * rows + i) * item, t.data.data() + (i * cols + j) * item, item);
    }
  }
  TensorView out = t;
  out.shape = Shape{{static_cast<int64_t>(cols), static_cast<int64_t>(rows)}};
  out.data = buffer;
  return out;
}

}  // namespace lorank::adapter
