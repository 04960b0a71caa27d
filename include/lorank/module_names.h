// Readable names for adapter modules: short names for tables, the layer index and the
// module type (the name without its layer prefix), for PEFT, kohya and GGUF names alike.
#ifndef LORANK_MODULE_NAMES_H_
#define LORANK_MODULE_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

namespace lorank {

// PEFT checkpoints prefix every module with this; PEFT's own patterns match names without it.
inline constexpr std::string_view kPeftModelPrefix = "base_model.model.";

// `name` without a leading "base_model.model." (the path relative to the base model, which
// rank_pattern/alpha_pattern keys are matched against). Other names are returned unchanged.
std::string base_relative_name(std::string_view name);

// Names for tables, element i for names[i]: "base_model.model." dropped, then the longest
// common prefix (cut at a separator, never in front of a layer number) if it is at least 8
// characters long. Two different names never get the same short name: if shortening would
// merge any two (or empty one), every name is returned in full.
std::vector<std::string> short_names(const std::vector<std::string>& names);

// The layer index in a module name: the first integer segment right after a segment named
// (or ending in "_") layers, layer, h, blocks, block or blk; else the first integer segment;
// else -1. Segments are split at '.', or at '_' for names without a '.' (kohya names such
// as lora_unet_down_blocks_0_attentions_1_..._attn1_to_k give 0).
int layer_index(std::string_view name);

// The module's type: the segments after the last integer segment that is not the final
// one, e.g. "self_attn.q_proj" (model.layers.3.self_attn.q_proj), "attn1.to_out.0",
// "SelfAttention.q" (T5), "attn1_to_k" (kohya). A trailing ".weight" (GGUF) is dropped.
// A name without such a segment is its own type (base_model.model. dropped).
std::string module_type(std::string_view name);

}  // namespace lorank

#endif  // LORANK_MODULE_NAMES_H_
