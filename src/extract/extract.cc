// extract_adapter: which tensors are compared and extracted, each ΔW's factors
// (delta_svd.cc), and the adapter built from them, balanced and written by resize's code.
#include "lorank/extract.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <regex>

#include "adapter/peft_config.h"
#include "extract/delta_svd.h"
#include "extract/output_format.h"
#include "io/file.h"
#include "io/json_text.h"
#include "io/replaceable.h"

namespace lorank {
namespace {

using extract_internal::DeltaReader;
using extract_internal::ExtractStorage;

// Names longer than this are not searched by --include/--exclude (a bound on the work per
// name; real tensor names are under 200): such a name matches neither.
constexpr std::size_t kMaxSearchedName = 1024;

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
  v.data = extract_internal::own(st, values, DType::kF32, status);
  LORANK_RETURN_IF_ERROR(status);
  return v;
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
    LORANK_ASSIGN_OR_RETURN(stacked.gguf_kvs, extract_internal::gguf_adapter_kvs(base, tuned));
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
        const auto lk = extract_internal::layer_key(b.name);
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
      LORANK_ASSIGN_OR_RETURN(LoraModule lm, extract_internal::module_from_factors(m, std::move(*factors),
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
    LORANK_ASSIGN_OR_RETURN(stacked.mlx, extract_internal::mlx_extract_config(base, mlx_keys, 1));
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
    LORANK_RETURN_IF_ERROR(extract_internal::finish_peft_config(result.adapter.adapter, fan_in_fan_out, base));
  }
  if (options.progress) options.progress(total, total);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace lorank
