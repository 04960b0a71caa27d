// Names, layouts and configs of the extracted adapter per output format (output_format.h).
#include "extract/output_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "adapter/mlx_config.h"
#include "adapter/peft_config.h"
#include "adapter/widen_factor.h"
#include "io/json_text.h"

namespace lorank::extract_internal {

std::span<const std::byte> own(ExtractStorage& st, std::span<const double> v, DType dtype,
                               Status& status) {
  std::vector<std::byte>& buf = st.buffers.emplace_back(v.size() * dtype_size(dtype));
  status = from_double(v, dtype, buf);
  return buf;
}

// The module for ΔW ≈ L·R (rows×k, k×cols) in `format`'s names and layout. The layer
// applies ΔW or, transposed (Conv1D, embeddings), ΔWᵀ = Rᵀ·Lᵀ: B·A is then B = Rᵀ, A = Lᵀ.
// mlx_lm stores lora_a = Aᵀ [in, k] and lora_b = Bᵀ [k, out]. The factors are held in
// `dtype` until every matrix is done.
Result<LoraModule> module_from_factors(const ExtractedMatrix& m, DeltaFactors f,
                                       AdapterFormat format, DType dtype, ExtractStorage& st) {
  const bool gguf = format == AdapterFormat::kGguf, mlx = format == AdapterFormat::kMlx;
  const std::size_t k = m.k;
  std::vector<double> bf, af;
  std::size_t out = m.rows, in = m.cols;
  if (!m.transposed) {
    bf = std::move(f.left);
    af = std::move(f.right);
  } else {
    if (mlx) {
      return invalid_data("--format mlx: tensor '{}' is stored [in, out] (GPT-2 Conv1D): use "
                          "--format peft", m.tensor);
    }
    std::swap(out, in);
    bf.resize(m.cols * k);
    af.resize(k * m.rows);
    for (std::size_t j = 0; j < k; ++j) {
      for (std::size_t c = 0; c < m.cols; ++c) bf[c * k + j] = f.right[j * m.cols + c];
      for (std::size_t r = 0; r < m.rows; ++r) af[j * m.rows + r] = f.left[r * k + j];
    }
  }
  LoraModule lm;
  lm.name = m.module;
  lm.kind = m.embedding ? ModuleKind::kEmbedding : ModuleKind::kLinear;
  lm.rank = k;
  lm.out = out;
  lm.in = in;
  lm.alpha = static_cast<double>(k);
  lm.scale = 1.0;
  lm.scale_rule = "alpha/r";
  const auto ki = static_cast<int64_t>(k), ini = static_cast<int64_t>(in), outi = static_cast<int64_t>(out);
  Shape a_shape{{ki, ini}}, b_shape{{outi, ki}};
  if (mlx) {
    lm.transposed = true;
    to_stored_order(lm, Factor::kA, af);
    to_stored_order(lm, Factor::kB, bf);
    a_shape = Shape{{ini, ki}};
    b_shape = Shape{{ki, outi}};
  }
  const char* a_suffix = gguf || mlx ? ".lora_a" : m.embedding ? ".lora_embedding_A" : ".lora_A.weight";
  const char* b_suffix = gguf || mlx ? ".lora_b" : m.embedding ? ".lora_embedding_B" : ".lora_B.weight";
  Status a_status, b_status;
  lm.A = TensorView{st.names.emplace_back(m.module + a_suffix), dtype, a_shape, own(st, af, dtype, a_status)};
  lm.B = TensorView{st.names.emplace_back(m.module + b_suffix), dtype, b_shape, own(st, bf, dtype, b_status)};
  LORANK_RETURN_IF_ERROR(a_status.with_context(fmt::format("tensor '{}'", lm.A.name)));
  LORANK_RETURN_IF_ERROR(b_status.with_context(fmt::format("tensor '{}'", lm.B.name)));
  return lm;
}

// The PEFT config resize wrote, plus what only extraction knows: the layers' orientation
// and the base model.
Status finish_peft_config(Adapter& out, bool fan_in_fan_out, const Checkpoint& base) {
  bool too_deep = false;
  auto config = io::parse_json_capped<nlohmann::ordered_json>(out.peft->raw_json, too_deep);
  if (!config.is_object()) return internal_error("extract: the PEFT config is not a JSON object");
  config["fan_in_fan_out"] = fan_in_fan_out;
  config["base_model_name_or_path"] = base.path().string();
  config["inference_mode"] = true;
  const std::string text = io::dump_json_shallow(config);
  LORANK_ASSIGN_OR_RETURN(PeftConfig parsed, adapter::parse_peft_config(text, "adapter_config.json"));
  parsed.raw_json = text;
  out.peft = std::move(parsed);
  return Status();
}

// The KVs llama.cpp checks on a LoRA: general.type, adapter.type and the model's
// general.architecture, taken from whichever checkpoint is a GGUF model.
Result<std::vector<GgufKv>> gguf_adapter_kvs(const Checkpoint& base, const Checkpoint& tuned) {
  for (const Checkpoint* c : {&base, &tuned}) {
    for (const GgufKv& kv : c->gguf_kvs()) {
      if (kv.key == "general.architecture" && kv.value.string_value()) {
        return std::vector<GgufKv>{{"general.architecture", kv.value},
                                   {"general.type", GgufValue::string("adapter")},
                                   {"adapter.type", GgufValue::string("lora")}};
      }
    }
  }
  return invalid_argument("--format gguf: neither '{}' nor '{}' is a GGUF model with a "
                          "general.architecture (llama.cpp matches an adapter by it and by GGUF "
                          "tensor names)", base.path().string(), tuned.path().string());
}

// mlx_lm builds LoRA layers per transformer block.
std::optional<LayerKey> layer_key(std::string_view name) {
  for (std::size_t at = name.find("layers."); at != std::string_view::npos; at = name.find("layers.", at + 1)) {
    if (at != 0 && name[at - 1] != '.') continue;
    std::size_t i = at + 7, layer = 0;
    const std::size_t digits = i;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9' && i - digits < 9) layer = layer * 10 + (name[i++] - '0');
    if (i == digits || i >= name.size() || name[i] != '.') continue;
    std::string key(name.substr(i + 1));
    if (key.ends_with(".weight")) key.resize(key.size() - 7);
    return LayerKey{layer, key};
  }
  return std::nullopt;
}

// adapter_config.json for mlx_lm: num_layers = the checkpoint's layer count (mlx_lm adapts
// the last num_layers blocks), the keys of the extracted modules, scale 1.
Result<MlxConfig> mlx_extract_config(const Checkpoint& base, const std::vector<std::string>& keys,
                                     std::size_t rank) {
  std::size_t layers = 0;
  for (const CheckpointTensor& t : base.tensors()) {
    if (auto lk = layer_key(t.name)) layers = std::max(layers, lk->layer + 1);
  }
  nlohmann::ordered_json j;
  j["fine_tune_type"] = "lora";
  j["num_layers"] = layers;
  j["lora_parameters"] = {{"rank", rank}, {"scale", 1.0}, {"dropout", 0.0}, {"keys", keys}};
  const std::string text = io::dump_json_shallow(j);
  LORANK_ASSIGN_OR_RETURN(MlxConfig parsed, adapter::parse_mlx_config(text, "adapter_config.json"));
  parsed.raw_json = text;
  return parsed;
}

}  // namespace lorank::extract_internal
