// The output-format parts of `lorank extract`: each module's names and factor layout,
// and the PEFT config, GGUF KVs and mlx_lm config of the extracted adapter. Internal to
// src/extract.
#ifndef LORANK_EXTRACT_OUTPUT_FORMAT_H_
#define LORANK_EXTRACT_OUTPUT_FORMAT_H_

#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "extract/delta_svd.h"
#include "lorank/adapter.h"
#include "lorank/checkpoint.h"
#include "lorank/extract.h"

namespace lorank::extract_internal {

// The bytes the extracted adapter's views point into (deque: growing never moves them).
struct ExtractStorage {
  std::deque<std::vector<std::byte>> buffers;
  std::deque<std::string> names;
};

// `v` converted to `dtype` in a new buffer of `st`; `status` says whether it converted.
std::span<const std::byte> own(ExtractStorage& st, std::span<const double> v, DType dtype,
                               Status& status);

// The module for ΔW ≈ L·R (rows×k, k×cols) in `format`'s names and layout, its factors held
// in `dtype`. kInvalidData for mlx_lm and a Conv1D tensor.
Result<LoraModule> module_from_factors(const ExtractedMatrix& m, DeltaFactors f,
                                       AdapterFormat format, DType dtype, ExtractStorage& st);

// The PEFT config resize wrote, plus what only extraction knows: fan_in_fan_out, the base
// model's path, inference_mode.
Status finish_peft_config(Adapter& out, bool fan_in_fan_out, const Checkpoint& base);

// general.architecture (from whichever checkpoint is a GGUF model), general.type "adapter",
// adapter.type "lora"; kInvalidArgument when neither is a GGUF model.
Result<std::vector<GgufKv>> gguf_adapter_kvs(const Checkpoint& base, const Checkpoint& tuned);

// `model.layers.N.<key>` → N and the key (`self_attn.q_proj`) mlx_lm's lora_parameters.keys
// lists; nullopt outside a `layers.N.` block.
struct LayerKey {
  std::size_t layer = 0;
  std::string key;
};
std::optional<LayerKey> layer_key(std::string_view name);

// mlx_lm's adapter_config.json: num_layers = the checkpoint's layer count, `keys`, `rank`,
// scale 1.
Result<MlxConfig> mlx_extract_config(const Checkpoint& base, const std::vector<std::string>& keys,
                                     std::size_t rank);

}  // namespace lorank::extract_internal

#endif  // LORANK_EXTRACT_OUTPUT_FORMAT_H_
