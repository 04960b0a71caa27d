// Adapter module → base tensor: names, orientation and shape checks.
#include "adapter/base_tensor.h"

#include "lorank/module_names.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

namespace lorank {
namespace {

std::string_view strip_prefix(std::string_view name) {
  return name.starts_with(kPeftModelPrefix) ? name.substr(kPeftModelPrefix.size()) : name;
}

// llama.cpp's names (gguf-py's tensor map for the llama architecture) of the Hugging Face
// parameters a LoRA adapts, or "" for a name it does not map.
std::string llama_gguf_name(std::string_view hf) {
  if (hf.starts_with("model.")) hf.remove_prefix(6);
  if (hf == "embed_tokens") return "token_embd.weight";
  if (hf == "lm_head") return "output.weight";
  constexpr std::string_view kLayers = "layers.";
  if (!hf.starts_with(kLayers)) return "";
  hf.remove_prefix(kLayers.size());
  const std::size_t dot = hf.find('.');
  if (dot == 0 || dot == std::string_view::npos ||
      hf.substr(0, dot).find_first_not_of("0123456789") != std::string_view::npos) {
    return "";
  }
  static constexpr std::pair<std::string_view, std::string_view> kModules[] = {
      {"self_attn.q_proj", "attn_q"},  {"self_attn.k_proj", "attn_k"},
      {"self_attn.v_proj", "attn_v"},  {"self_attn.o_proj", "attn_output"},
      {"mlp.gate_proj", "ffn_gate"},   {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"}};
  for (const auto& [from, to] : kModules) {
    if (hf.substr(dot + 1) == from) {
      return fmt::format("blk.{}.{}.weight", hf.substr(0, dot), to);
    }
  }
  return "";
}

std::optional<uint64_t> gguf_u32(const Checkpoint& base, std::string_view key) {
  for (const GgufKv& kv : base.gguf_kvs()) {
    if (kv.key == key) {
      if (const auto v = kv.value.get<uint32_t>()) return *v;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

bool is_llama_gguf(const Checkpoint& base) {
  for (const GgufKv& kv : base.gguf_kvs()) {
    if (kv.key == "general.architecture") {
      const std::string* arch = kv.value.string_value();
      return arch != nullptr && *arch == "llama";
    }
  }
  return false;
}

// convert_hf_to_gguf.py's LlamaModel.permute for q (heads) and k (kv heads): within each
// head of h rows, GGUF row 2j + half holds Hugging Face row half·h/2 + j.
Status llama_row_order(const Checkpoint& base, const LoraModule& module, const std::string& gguf,
                       BaseTensorMatch& match) {
  const bool q = gguf.ends_with(".attn_q.weight"), k = gguf.ends_with(".attn_k.weight");
  if (!q && !k) return Status();
  const std::optional<uint64_t> heads = gguf_u32(base, "llama.attention.head_count");
  const std::optional<uint64_t> kv_heads = gguf_u32(base, "llama.attention.head_count_kv");
  const char* key = q || !kv_heads ? "llama.attention.head_count" : "llama.attention.head_count_kv";
  const std::optional<uint64_t> n = q ? heads : (kv_heads ? kv_heads : heads);
  if (!n) {
    return invalid_data("module '{}': base tensor '{}' of '{}' needs llama.cpp's q/k row order, "
                        "but the base has no u32 {}", module.name, gguf, base.path().string(), key);
  }
  if (*n == 0 || match.rows % (2 * *n) != 0) {
    return invalid_data("module '{}': base tensor '{}' of '{}' needs llama.cpp's q/k row order, "
                        "but {} = {} does not split its {} rows into heads of an even size",
                        module.name, gguf, base.path().string(), key, *n, match.rows);
  }
  const std::size_t h = match.rows / *n;
  match.row_order.resize(match.rows);
  for (std::size_t head = 0; head < *n; ++head) {
    for (std::size_t j = 0; j < h / 2; ++j) {
      for (std::size_t half = 0; half < 2; ++half) {
        match.row_order[head * h + 2 * j + half] = head * h + half * (h / 2) + j;
      }
    }
  }
  return Status();
}

}  // namespace

// A base saved without the task head's wrapper lacks the leading `model.`, so that
// spelling is tried too.
std::vector<std::string> base_tensor_names(const Adapter& adapter, const LoraModule& module) {
  if (adapter.format == AdapterFormat::kGguf) return {module.name};
  const std::string path(strip_prefix(module.name));
  std::vector<std::string> names = {path + ".weight"};
  if (const auto dot = path.find('.'); dot != std::string::npos) {
    names.push_back(path.substr(dot + 1) + ".weight");
  }
  return names;
}

// PEFT saves `base_model.model.<module>.<param>`; a wrapped module keeps `.base_layer`.
std::string replaced_base_name(std::string_view adapter_tensor_name) {
  std::string_view rest = strip_prefix(adapter_tensor_name);
  std::string name;  // built forward (string::replace trips a GCC 12 -Wrestrict false alarm)
  while (!rest.empty()) {
    std::size_t at = std::string_view::npos, length = 0;
    for (std::string_view wrapper : {".base_layer.", ".modules_to_save.default."}) {
      const std::size_t found = rest.find(wrapper);
      if (found < at) at = found, length = wrapper.size();
    }
    if (at == std::string_view::npos) {
      name += rest;
      break;
    }
    name += rest.substr(0, at);
    name += '.';
    rest.remove_prefix(at + length);
  }
  return name;
}

Result<BaseTensorMatch> find_base_tensor(const Checkpoint& base, const Adapter& adapter,
                                         const LoraModule& module) {
  BaseTensorMatch match;
  const std::vector<std::string> names = base_tensor_names(adapter, module);
  for (const std::string& n : names) {
    if ((match.tensor = base.find(n)) != nullptr) break;
  }
  std::string gguf_name;  // the llama.cpp name a Hugging Face module was mapped to
  if (match.tensor == nullptr && base.format() == CheckpointFormat::kGguf &&
      adapter.format != AdapterFormat::kGguf && is_llama_gguf(base)) {
    gguf_name = llama_gguf_name(strip_prefix(module.name));
    if (!gguf_name.empty()) match.tensor = base.find(gguf_name);
  }
  if (match.tensor == nullptr) {
    return invalid_data("module '{}' of '{}': the base has no tensor '{}'", module.name,
                        adapter.weights_path.string(), names.front());
  }
  const bool fan_in_fan_out = adapter.peft && adapter.peft->fan_in_fan_out;
  match.transposed = module.kind == ModuleKind::kEmbedding ||
                     (fan_in_fan_out && module.kind == ModuleKind::kLinear);
  match.rows = match.transposed ? module.in : module.out;
  match.cols = match.transposed ? module.out : module.in;
  const CheckpointTensor& w = *match.tensor;
  const auto& d = w.shape.dims;
  const bool fits =
      module.kind == ModuleKind::kConv
          ? d.size() >= 2 && static_cast<std::size_t>(d[0]) == match.rows &&
                static_cast<uint64_t>(w.shape.numel()) == uint64_t{match.rows} * match.cols
          : d.size() == 2 && static_cast<std::size_t>(d[0]) == match.rows &&
                static_cast<std::size_t>(d[1]) == match.cols;
  if (!fits) {
    return invalid_data("module '{}': base tensor '{}' has shape {}, the adapter's update is [{}, {}]",
                        module.name, w.name, w.shape.to_string(), match.rows, match.cols);
  }
  if (!w.has_values()) {
    return not_supported("module '{}': base tensor '{}' of type {} has no values lorank can read",
                         module.name, w.name, w.type_name);
  }
  if (!gguf_name.empty() && !match.transposed) {
    LORANK_RETURN_IF_ERROR(llama_row_order(base, module, gguf_name, match));
  }
  return match;
}

}  // namespace lorank
