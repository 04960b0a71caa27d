// llama.cpp stores the LoRA of the token embedding with lora_a transposed: numpy shape
// (n_vocab, r) instead of the (r, in) of every other lora_a, because the embedding lookup
// gathers rows of lora_a by token id (src/llama-adapter.cpp checks "A and B are flipped"
// for names ending in token_embd.weight). lorank's model wants every A as r×in, so the
// reader swaps that tensor's layout on the way in and the writer swaps it back: the
// round trip stays byte for byte.
#ifndef LORANK_ADAPTER_GGUF_LAYOUT_H_
#define LORANK_ADAPTER_GGUF_LAYOUT_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "lorank/tensor.h"

namespace lorank::adapter {

// The base tensor whose LoRA llama.cpp stores flipped.
bool is_gguf_token_embedding(std::string_view module_name);
// A tensor of a GGUF adapter stored as (n_vocab, r): "<…>token_embd.weight.lora_a".
bool is_flipped_gguf_a(std::string_view tensor_name);

// `t` (2-D, any dtype) transposed into `buffer`, element bytes moved as they are.
TensorView transposed(const TensorView& t, std::vector<std::byte>& buffer);

}  // namespace lorank::adapter

#endif  // LORANK_ADAPTER_GGUF_LAYOUT_H_
