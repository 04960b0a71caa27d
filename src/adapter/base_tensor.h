// Where an adapter module's update lands in its base checkpoint: the tensor, and whether
// ΔW is stored transposed against it. One owner for the naming and orientation rules, so
// that `merge` and `audit --base` can never disagree about which W a module adapts.
#ifndef LORANK_ADAPTER_BASE_TENSOR_H_
#define LORANK_ADAPTER_BASE_TENSOR_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/checkpoint.h"
#include "lorank/status.h"

namespace lorank {

struct BaseTensorMatch {
  const CheckpointTensor* tensor = nullptr;
  // W's rows are the columns of B·A: PEFT embeddings (ΔW = (B·A)ᵀ) and fan_in_fan_out
  // linears (GPT-2 Conv1D stores W as [in, out]).
  bool transposed = false;
  std::size_t rows = 0, cols = 0;  // W as a matrix (conv kernels flattened after dim 0)
  // Row i of W is row delta_row(i) of ΔW (in W's layout). Not the identity only for a
  // Hugging Face adapter on a llama GGUF base: llama.cpp's converter reorders q and k rows
  // per head (rotary pairs interleaved), so ΔW's rows must follow.
  std::vector<std::size_t> row_order;
  std::size_t delta_row(std::size_t w_row) const {
    return row_order.empty() ? w_row : row_order[w_row];
  }
};

// The base tensor names a module's weight may have, most likely first (PEFT and mlx name
// the module, the base the parameter; GGUF adapters use the base tensor's own name).
std::vector<std::string> base_tensor_names(const Adapter& adapter, const LoraModule& module);

// The base tensor an adapter's whole tensor (modules_to_save, a trained bias) replaces.
std::string replaced_base_name(std::string_view adapter_tensor_name);

// Finds module's W in `base` and checks its shape against the update. A PEFT or mlx_lm
// adapter on a GGUF base of architecture "llama" is mapped to llama.cpp's names
// (model.layers.N.self_attn.q_proj → blk.N.attn_q.weight, …) with the q/k row order above. kInvalidData when
// the base lacks the tensor or the shapes differ (one line naming the module and both
// shapes); kNotSupported when W has no values lorank can read (an unknown GGUF type).
Result<BaseTensorMatch> find_base_tensor(const Checkpoint& base, const Adapter& adapter,
                                         const LoraModule& module);

}  // namespace lorank

#endif  // LORANK_ADAPTER_BASE_TENSOR_H_
