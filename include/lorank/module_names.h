// Readable names for adapter modules, for every command and every report, built here only:
// display names for tables, natural order, layer groups, the layer index and the module type
// (the name without its layer prefix), for PEFT, kohya and GGUF names alike.
//
// The rules (docs/audit.md, "Module names"):
//  - Text tables, HTML and the per-layer/per-type views show display_names(); CSV and JSON
//    keep every full name as in the file (audit CSV has both columns).
//  - Every list of modules is in natural order (natural_less): "h.2" before "h.10".
//  - Display names are never cut inside a segment; two modules never share a display name.
#ifndef LORANK_MODULE_NAMES_H_
#define LORANK_MODULE_NAMES_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lorank {

// PEFT checkpoints prefix every module with this; PEFT's own patterns match names without it.
inline constexpr std::string_view kPeftModelPrefix = "base_model.model.";

// `name` without a leading "base_model.model." (the path relative to the base model, which
// rank_pattern/alpha_pattern keys are matched against). Other names are returned unchanged.
std::string base_relative_name(std::string_view name);

// Natural order: runs of digits compare as numbers ("h.2" < "h.10", "blk.9" < "blk.10");
// everything else byte by byte. A strict weak ordering, so it can sort and key maps.
bool natural_less(std::string_view a, std::string_view b);
struct NaturalLess {
  bool operator()(std::string_view a, std::string_view b) const { return natural_less(a, b); }
};

// The indices of `names` in natural order (equal names keep their relative order).
std::vector<std::size_t> natural_order(const std::vector<std::string>& names);

// Names for tables and views, element i for names[i]. Names are split into segments at '.'
// (or at '_' when no name has a '.', as in kohya names); "base_model.model." is dropped, then
// the segments every name shares at its start, but never so far that a name starts with a
// bare layer number ("layers.0.q", not "0.q") or splits a kohya word ("down_blocks_0", not
// "blocks_0"), and every name keeps at least one segment. Nothing is cut inside a segment, so
// the parts that tell modules apart (down/mid/up, encoder/decoder, te1/te2) stay. Two
// different names never get the same display name: if dropping would merge any two, the
// names are returned relative to the base model, or in full.
std::vector<std::string> display_names(const std::vector<std::string>& names);

// The layer a module belongs to, as the full path up to and including the layer index, so
// unrelated blocks stay apart: "down_blocks.1" and "up_blocks.1" (SD), "encoder.block.3"
// and "decoder.block.3" (T5), "model.layers.3", "blk.3" (GGUF),
// "lora_unet_down_blocks_0" and "lora_te1_text_model_encoder_layers_3" (kohya). The path
// ends at the first segment named (or, dotted, ending in "_") layers, layer, h, blocks, block
// or blk, with the integer after it if there is one ("mid_block"); else at the first integer
// segment. "base_model.model." is dropped. Empty for a name with neither.
std::string layer_group(std::string_view name);

// The layer index in a module name: the first integer segment right after a segment named
// (or ending in "_") layers, layer, h, blocks, block or blk; else the first integer segment;
// else -1. Segments are split at '.', or at '_' for names without a '.' (kohya names such
// as lora_unet_down_blocks_0_attentions_1_..._attn1_to_k give 0). Only a number: the
// views group by layer_group, which keeps down_blocks.0 and up_blocks.0 apart.
int layer_index(std::string_view name);

// The module's type: the segments after the last integer segment that is not the final
// one, e.g. "self_attn.q_proj" (model.layers.3.self_attn.q_proj), "attn1.to_out.0",
// "SelfAttention.q" (T5), "attn1_to_k" (kohya). A trailing ".weight" (GGUF) is dropped.
// A name without such a segment is its own type (base_model.model. dropped).
std::string module_type(std::string_view name);

}  // namespace lorank

#endif  // LORANK_MODULE_NAMES_H_
