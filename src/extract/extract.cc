// extract_adapter: which tensors are compared and extracted, each ΔW's factors
// (delta_svd.cc), and the adapter built from them, balanced and written by resize's code.
#include "lorank/extract.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <regex>

#include "adapter/mlx_config.h"
#include "adapter/peft_config.h"
#include "adapter/widen_factor.h"
#include "extract/delta_svd.h"
#include "io/file.h"
#include "io/json_text.h"
#include "io/replaceable.h"

namespace lorank {
namespace {

using extract_internal::DeltaReader;

// Names longer than this are not searched by --include/--exclude (a bound on the work per
// name; real tensor names are under 200): such a name matches neither.
constexpr std::size_t kMaxSearchedName = 1024;

// The bytes the extracted adapter's views point into (deque: growing never moves them).
struct ExtractStorage {
  std::deque<std::vector<std::byte>> buffers;
  std::deque<std::string> names;
};

std::string last_segment(std::string_view name) {
  std::string_view n = name;
  if (n.ends_with(".weight")) n.remove_suffix(7);
  const std::size_t dot = n.rfind('.');
  return std::string(dot == std::string_view::npos ? n : n.substr(dot + 1));
}

// Embeddings (PEFT's Embedding layer: ΔW = (B·A)ᵀ) and LM heads (Linear), by the names
// Hugging Face models and GGUF give them.
enum class Role { kLinear, kEmbedding, kHead };
Role role_of(std::string_view name) {
  static const char* const kEmbeddings[] = {"embed_tokens",        "wte",          "wpe",
                                            "tok_embeddings",      "token_embd",   "word_embeddings",
                                            "position_embeddings", "embed_positions", "embed_in",
                                            "token_type_embeddings", "shared"};
  static const char* const kHeads[] = {"lm_head", "output", "embed_out"};
  const std::string seg = last_segment(name);
  for (const char* e : kEmbeddings) {
    if (seg == e) return Role::kEmbedding;
  }
  for (const char* h : kHeads) {
    if (seg == h) return Role::kHead;
  }
  return Role::kLinear;
}

// GPT-2's Conv1D stores W as [in, out]: its layers are c_attn, c_proj, c_fc (and q_attn),
// recognised only when config.json beside either checkpoint says model_type "gpt2". A
// config.json that cannot be read (a FIFO, too large, not JSON) counts as none, with a warning.
constexpr std::uint64_t kMaxModelConfigBytes = std::uint64_t{16} << 20;
std::filesystem::path config_dir(const Checkpoint& c) {
  std::error_code ec;
  return std::filesystem::is_directory(c.path(), ec) ? c.path() : c.path().parent_path();
}

bool is_gpt2(const std::filesystem::path& dir, std::vector<std::string>& warnings) {
  std::error_code ec;
  const std::filesystem::path config = dir / "config.json";
  if (!std::filesystem::exists(std::filesystem::symlink_status(config, ec))) return false;
  Result<std::string> text = io::read_small_text_file(config, kMaxModelConfigBytes, "model config");
  bool too_deep = false;
  const auto j = text ? io::parse_json_capped<nlohmann::json>(*text, too_deep) : nlohmann::json();
  if (!j.is_object()) {
    warnings.push_back(fmt::format("'{}' is not a readable JSON object: ignored (GPT-2 Conv1D layers "
                                   "are recognised by its model_type)", config.string()));
    return false;
  }
  return j.contains("model_type") && j["model_type"] == "gpt2";
}

bool is_conv1d_name(std::string_view name) {
  const std::string seg = last_segment(name);
  return seg == "c_attn" || seg == "c_proj" || seg == "c_fc" || seg == "q_attn";
}

Result<std::optional<std::regex>> compile(const std::string& pattern, std::string_view flag) {
  if (pattern.empty()) return std::optional<std::regex>();
  // libstdc++ compiles a regex by recursing once per term: the cap of PEFT pattern keys.
  if (pattern.size() > adapter::kMaxPatternKeyChars) {
    return invalid_argument("{} is {} characters long: at most {}", flag, pattern.size(),
                            adapter::kMaxPatternKeyChars);
  }
  try {
    return std::optional<std::regex>(
        std::regex(pattern, std::regex::ECMAScript | std::regex_constants::__polynomial));
  } catch (const std::regex_error&) {
    return invalid_argument("{} '{}' is not a valid regular expression", flag, pattern);
  }
}

bool searched(const std::optional<std::regex>& re, const std::string& name) {
  return re && name.size() <= kMaxSearchedName && std::regex_search(name, *re);
}

bool same_bytes(const CheckpointTensor& a, const CheckpointTensor& b) {
  return a.type_name == b.type_name && a.data.size() == b.data.size() &&
         (a.data.empty() || std::memcmp(a.data.data(), b.data.data(), a.data.size()) == 0);
}

std::span<const std::byte> own(ExtractStorage& st, std::span<const double> v, DType dtype,
                               Status& status) {
  std::vector<std::byte>& buf = st.buffers.emplace_back(v.size() * dtype_size(dtype));
  status = from_double(v, dtype, buf);
  return buf;
}

Status check_options(const ExtractOptions& o) {
  const RankRule::Kind kind = o.rule.kind();
  if (kind != RankRule::Kind::kFixed && kind != RankRule::Kind::kEnergy &&
      kind != RankRule::Kind::kThreshold) {
    return invalid_argument("extract chooses ranks by --rank, --energy or --threshold, not {}",
                            o.rule.to_string());
  }
  if (!(o.tolerance > 0.0 && o.tolerance < 0.5)) {
    return invalid_argument("--tolerance must be in (0, 0.5), got {}", o.tolerance);
  }
  if (o.max_rank && *o.max_rank == 0) return invalid_argument("--max-rank must be at least 1");
  if (o.format == AdapterFormat::kKohya) {
    return invalid_argument("extract writes PEFT, GGUF or mlx adapters, not kohya");
  }
  if (o.format != AdapterFormat::kPeft && (o.embeddings || o.keep_full)) {
    return invalid_argument("--format {}: its adapters hold linear modules only (no "
                            "--embeddings or --keep-full)", format_name(o.format));
  }
  if (!is_convertible_float(o.dtype)) {
    return invalid_argument("cannot write factors as {}: choose F64, F32, F16 or BF16", dtype_name(o.dtype));
  }
  return Status();
}

// The fine-tuned tensor whole, in its own float dtype (F32 for quantised GGUF types), for
// --keep-full.
Result<TensorView> full_tensor(const Checkpoint& tuned, const CheckpointTensor& t,
                               ExtractStorage& st, const std::string& name) {
  TensorView v;
  v.name = st.names.emplace_back(name);
  v.shape = t.shape;
  if (t.dtype && is_convertible_float(*t.dtype)) {
    v.dtype = *t.dtype;
    v.data = st.buffers.emplace_back(t.data.begin(), t.data.end());
    return v;
  }
  std::vector<double> values(static_cast<std::size_t>(t.shape.numel()));
  LORANK_RETURN_IF_ERROR(tuned.read_rows(t, 0, values));
  v.dtype = DType::kF32;
  Status status;
  v.data = own(st, values, DType::kF32, status);
  LORANK_RETURN_IF_ERROR(status);
  return v;
}

// The module for ΔW ≈ L·R (rows×k, k×cols) in `format`'s names and layout. The layer
// applies ΔW or, transposed (Conv1D, embeddings), ΔWᵀ = Rᵀ·Lᵀ: B·A is then B = Rᵀ, A = Lᵀ.
// mlx_lm stores lora_a = Aᵀ [in, k] and lora_b = Bᵀ [k, out]. The factors are held in
// `dtype` until every matrix is done.
Result<LoraModule> module_from_factors(const ExtractedMatrix& m, extract_internal::DeltaFactors f,
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

// mlx_lm builds LoRA layers per transformer block: `model.layers.N.<key>` gives N and the
// key (`self_attn.q_proj`) that lora_parameters.keys lists.
struct LayerKey {
  std::size_t layer = 0;
  std::string key;
};
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

}  // namespace

Status check_not_extract_input(const Checkpoint& base, const Checkpoint& finetuned,
                               const std::filesystem::path& out) {
  std::vector<std::filesystem::path> inputs;
  for (const Checkpoint* c : {&base, &finetuned}) {
    inputs.push_back(c->path());
    for (const auto& f : c->files()) inputs.push_back(f);
  }
  return io::check_not_input(inputs, out);
}

Status verify_extracted(const std::filesystem::path& out, const ExtractResult& result) {
  return verify_resized(out, result.adapter);
}

Result<ExtractResult> extract_adapter(const Checkpoint& base, const Checkpoint& tuned,
                                      const ExtractOptions& options) {
  LORANK_RETURN_IF_ERROR(check_options(options));
  LORANK_ASSIGN_OR_RETURN(auto include, compile(options.include, "--include"));
  LORANK_ASSIGN_OR_RETURN(auto exclude, compile(options.exclude, "--exclude"));
  const auto start = std::chrono::steady_clock::now();
  const std::string base_file = base.path().string(), tuned_file = tuned.path().string();
  ExtractResult result;
  const bool gpt2 = is_gpt2(config_dir(tuned), result.warnings) ||
                    (config_dir(base) != config_dir(tuned) && is_gpt2(config_dir(base), result.warnings));
  result.base_path = base_file;
  result.finetuned_path = tuned_file;
  result.rule = options.rule;
  result.tolerance = options.tolerance;
  auto storage = std::make_shared<ExtractStorage>();
  const bool gguf = options.format == AdapterFormat::kGguf;
  const bool mlx = options.format == AdapterFormat::kMlx;
  std::vector<std::string> mlx_keys;
  // Factors are held until every matrix is done: F32 unless the output is F64 (half the
  // memory; the output dtype rounds as much anyway).
  const DType stack_dtype = options.dtype == DType::kF64 ? DType::kF64 : DType::kF32;
  Adapter stacked;
  stacked.format = options.format;
  stacked.container = gguf ? Container::kGguf : Container::kSafetensors;
  if (gguf) {
    LORANK_ASSIGN_OR_RETURN(stacked.gguf_kvs, gguf_adapter_kvs(base, tuned));
  }
  stacked.weights_path = tuned.files().empty() ? tuned.path() : tuned.files().front();
  if (options.format == AdapterFormat::kPeft) stacked.peft = PeftConfig{};
  bool fan_in_fan_out = false;
  std::vector<TensorView> kept;
  const std::size_t total = base.tensors().size();
  std::size_t done = 0;
  for (const CheckpointTensor& b : base.tensors()) {
    if (options.progress) options.progress(done++, total);
    const CheckpointTensor* t = tuned.find(b.name);
    if (t == nullptr) {
      result.warnings.push_back(fmt::format("tensor '{}' is in the base '{}' but not in the fine-tune "
                                            "'{}': skipped", b.name, base_file, tuned_file));
      continue;
    }
    if (t->shape != b.shape) {
      return invalid_data("tensor '{}': the base '{}' has shape {}, the fine-tune '{}' has {}",
                          b.name, base_file, b.shape.to_string(), tuned_file, t->shape.to_string());
    }
    if (same_bytes(b, *t)) {
      ++result.identical;
      continue;
    }
    const Role role = role_of(b.name);
    std::string reason;
    if (b.shape.rank() != 2 || b.shape.numel() == 0) {
      reason = "not 2-D";
    } else if ((include && !searched(include, b.name)) || searched(exclude, b.name)) {
      reason = "excluded";
    } else if (role != Role::kLinear && !options.embeddings) {
      reason = "embedding or LM head";
    }
    LORANK_ASSIGN_OR_RETURN(extract_internal::DeltaNorms norms,
                            extract_internal::delta_norms(base, b, tuned, *t));
    if (norms.delta_sq == 0.0) {  // differing bytes, equal values (-0 vs 0, another dtype)
      ++result.identical;
    } else if (!reason.empty()) {
      DifferingTensor& d = result.not_extracted.emplace_back();
      d.name = b.name;
      d.shape = b.shape;
      d.reason = reason;
      d.delta_norm = std::sqrt(norms.delta_sq);
      if (options.keep_full) {
        LORANK_ASSIGN_OR_RETURN(TensorView v, full_tensor(tuned, *t, *storage, "base_model.model." + b.name));
        kept.push_back(v);
        d.kept = true;
      }
    } else {
      ExtractedMatrix& m = result.matrices.emplace_back();
      m.tensor = b.name;
      std::string path = b.name;
      if (path.ends_with(".weight")) path.resize(path.size() - 7);
      // GGUF: the base tensor's name; mlx_lm: the module path.
      m.module = gguf ? b.name : mlx ? path : "base_model.model." + path;
      if (mlx) {
        const std::optional<LayerKey> lk = layer_key(b.name);
        if (!lk) {
          return invalid_data("--format mlx: tensor '{}' is not in a 'layers.N.' block (mlx_lm adds "
                              "LoRA layers per transformer block); use --include or --format peft",
                              b.name);
        }
        if (std::find(mlx_keys.begin(), mlx_keys.end(), lk->key) == mlx_keys.end()) mlx_keys.push_back(lk->key);
      }
      m.rows = static_cast<std::size_t>(b.shape.dims[0]);
      m.cols = static_cast<std::size_t>(b.shape.dims[1]);
      m.embedding = role == Role::kEmbedding;
      m.transposed = m.embedding || (gpt2 && is_conv1d_name(b.name));
      fan_in_fan_out = fan_in_fan_out || (gpt2 && is_conv1d_name(b.name));
      m.delta_norm = std::sqrt(norms.delta_sq);
      m.weight_norm = std::sqrt(norms.base_sq);
      DeltaReader reader(base, b, tuned, *t);
      Result<extract_internal::DeltaFactors> factors =
          extract_internal::delta_factors(reader, norms.delta_sq, options, m);
      if (!factors) {
        return factors.error().code() == StatusCode::kInvalidData
                   ? factors.error()  // the reader's own line names the tensor and file
                   : factors.error().with_context(fmt::format("tensor '{}' of '{}' and '{}'",
                                                              b.name, base_file, tuned_file));
      }
      LORANK_ASSIGN_OR_RETURN(LoraModule lm, module_from_factors(m, std::move(*factors),
                                                                 options.format, stack_dtype, *storage));
      stacked.tensors.push_back(lm.A);
      stacked.tensors.push_back(lm.B);
      stacked.modules.push_back(std::move(lm));
      result.params += m.k * (m.rows + m.cols);
      result.delta_params += m.rows * m.cols;
      if (!m.certified) {
        result.warnings.push_back(fmt::format(
            "tensor '{}': the basis reached its size cap before the tolerance (bound {:.3g})",
            b.name, m.bound));
      }
    }
    base.release_pages(b);
    tuned.release_pages(*t);
  }
  for (const CheckpointTensor& t : tuned.tensors()) {
    if (base.find(t.name) == nullptr) {
      result.warnings.push_back(fmt::format("tensor '{}' is in the fine-tune '{}' but not in the base "
                                            "'{}': skipped", t.name, tuned_file, base_file));
    }
  }
  for (const TensorView& v : kept) {
    stacked.passthrough.push_back(v);
    stacked.tensors.push_back(v);
  }
  if (stacked.modules.empty()) {
    return invalid_data("'{}' and '{}': no 2-D weight differs (identical: {}, not extracted: {}), "
                        "nothing to extract", base_file, tuned_file, result.identical,
                        result.not_extracted.size());
  }
  stacked.storage = storage;
  if (mlx) {
    LORANK_ASSIGN_OR_RETURN(stacked.mlx, mlx_extract_config(base, mlx_keys, 1));
  }
  // Every module already has its k: resize's truncation at the largest k keeps it whole and
  // gives balanced factors (√σ in each), the PEFT config and the dtype.
  ResizeOptions resize;
  std::size_t largest = 1;
  for (const LoraModule& m : stacked.modules) largest = std::max(largest, m.rank);
  LORANK_ASSIGN_OR_RETURN(resize.rule, RankRule::parse(fmt::format("fixed:{}", largest)));
  resize.dtype = options.dtype;
  LORANK_ASSIGN_OR_RETURN(result.adapter, resize_adapter(stacked, resize));
  std::erase_if(result.adapter.warnings, [](const std::string& s) {
    return s.find("asks for more than the rank") != std::string::npos;
  });
  std::erase_if(result.adapter.notes, [](const std::string& s) {
    return s.find("no adapter_config.json") != std::string::npos;
  });
  if (options.format == AdapterFormat::kPeft) {
    LORANK_RETURN_IF_ERROR(finish_peft_config(result.adapter.adapter, fan_in_fan_out, base));
  }
  if (options.progress) options.progress(total, total);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace lorank
