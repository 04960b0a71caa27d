// open_adapter: locate the weights, open them as a Checkpoint (the one reader of every
// tensor file: content decides the format), pair the factors by key scheme, and give every
// module the scale its format's own loader would use.
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <fstream>

#include "adapter/default_scale.h"
#include "adapter/gguf_layout.h"
#include "adapter/mlx_config.h"
#include "adapter/pairing.h"
#include "adapter/peft_config.h"
#include "lorank/adapter.h"
#include "lorank/checkpoint.h"
#include "lorank/gguf.h"
#include "lorank/module_names.h"

namespace lorank {

std::string_view format_name(AdapterFormat f) {
  switch (f) {
    case AdapterFormat::kPeft: return "peft";
    case AdapterFormat::kKohya: return "kohya";
    case AdapterFormat::kGguf: return "gguf";
    case AdapterFormat::kMlx: return "mlx";
  }
  return "?";
}

std::string_view container_name(Container c) {
  switch (c) {
    case Container::kSafetensors: return "safetensors";
    case Container::kPytorch: return "pytorch";
    case Container::kGguf: return "gguf";
  }
  return "?";
}

std::string_view module_kind_name(ModuleKind k) {
  switch (k) {
    case ModuleKind::kLinear: return "linear";
    case ModuleKind::kEmbedding: return "embedding";
    case ModuleKind::kConv: return "conv";
  }
  return "?";
}

namespace {

namespace fs = std::filesystem;

// The weights file inside a folder: PEFT's and mlx_lm's names first (mlx_lm's training
// folder also holds numbered checkpoints), else the only adapter-like file.
Result<fs::path> find_weights(const fs::path& dir) {
  std::error_code ec;
  // Whatever is at a PEFT name is the weights: opening it names the cause if it is a FIFO,
  // a folder or a symlink loop, instead of "no weights file".
  for (const char* name : {"adapter_model.safetensors", "adapter_model.bin", "adapters.safetensors"}) {
    if (fs::symlink_status(dir / name, ec).type() != fs::file_type::not_found && !ec) return dir / name;
  }
  std::vector<fs::path> candidates;
  // No range-for: its operator++ and the entry's status calls throw on errors.
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string ext = it->path().extension().string();
    std::error_code type_ec;
    if (!it->is_directory(type_ec) && (ext == ".safetensors" || ext == ".gguf")) {
      candidates.push_back(it->path());
    }
  }
  if (ec) return io_error("adapter folder '{}': cannot list: {}", dir.string(), ec.message());
  if (candidates.size() == 1) return candidates[0];
  if (candidates.empty()) {
    return not_found("adapter folder '{}': no adapter_model.safetensors, adapter_model.bin, "
                     "*.safetensors or *.gguf file", dir.string());
  }
  return invalid_argument("adapter folder '{}': {} weight files; name the one to use",
                          dir.string(), candidates.size());
}

double divide_rank(double alpha, std::size_t r, bool rslora) {
  return rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / static_cast<double>(r);
}

// --alpha applies only to modules whose file gives no alpha: say when the file overrides it,
// in one warning naming how many modules (the reading is still right: the file's α is).
void warn_if_alpha_ignored(Adapter& a, const AdapterOptions& options, std::size_t ignored,
                           std::string_view source) {
  if (!options.alpha || ignored == 0) return;
  a.warnings.push_back(fmt::format("--alpha {} ignored for {} of {} modules: the adapter has its "
                                   "own alpha ({})", *options.alpha, ignored, a.modules.size(),
                                   source));
}

Status apply_peft_scales(Adapter& a, const AdapterOptions& options) {
  if (!a.peft) {
    adapter::apply_configless_scales(a, options);
    return Status();
  }
  const PeftConfig& c = *a.peft;
  std::vector<std::pair<std::string, double>> ranks;
  for (const auto& [k, v] : c.rank_pattern) ranks.emplace_back(k, v);
  for (LoraModule& m : a.modules) {
    const std::string path = base_relative_name(m.name);
    LORANK_ASSIGN_OR_RETURN(std::optional<double> r_pat, match_peft_pattern(ranks, path));
    LORANK_ASSIGN_OR_RETURN(std::optional<double> a_pat, match_peft_pattern(c.alpha_pattern, path));
    const std::size_t r_cfg = static_cast<std::size_t>(r_pat.value_or(c.r));
    if (r_cfg != m.rank) {
      return corruption("adapter config '{}' gives module '{}' rank {} ({}), but its lora_A '{}' "
                        "has {} rows", a.config_path->string(), m.name, r_cfg,
                        r_pat ? "rank_pattern" : "r", m.A.name, m.rank);
    }
    m.alpha = a_pat.value_or(c.lora_alpha);
    m.scale = divide_rank(m.alpha, m.rank, c.use_rslora);
    m.scale_rule = c.use_rslora ? "alpha/sqrt(r) (rsLoRA)" : "alpha/r";
  }
  warn_if_alpha_ignored(a, options, a.modules.size(), "lora_alpha in adapter_config.json");
  return Status();
}

void apply_kohya_scales(Adapter& a, const adapter::Pairing& p, const AdapterOptions& options) {
  std::map<std::string, double> by_name(p.kohya_alphas.begin(), p.kohya_alphas.end());
  bool missing = false;
  std::size_t own_alpha = 0;
  for (LoraModule& m : a.modules) {
    auto it = by_name.find(m.name);
    if (auto t = p.kohya_alpha_tensors.find(m.name); t != p.kohya_alpha_tensors.end()) {
      m.alpha_tensor = t->second;
    }
    const double r = static_cast<double>(m.rank);
    if (it != by_name.end() && it->second != 0.0) {
      m.alpha = it->second;
      m.scale_rule = "alpha/r";
      ++own_alpha;
    } else {
      missing = true;
      m.alpha = options.alpha.value_or(r);
      m.scale_rule = options.alpha ? "alpha/r (alpha from --alpha)" : "1 (no .alpha: alpha = r)";
    }
    m.scale = m.alpha / r;
  }
  if (missing) {
    a.warnings.push_back(options.alpha ? "some modules have no .alpha tensor (or alpha 0): using --alpha"
                                       : "some modules have no .alpha tensor (or alpha 0): alpha = r, scale 1");
  }
  warn_if_alpha_ignored(a, options, own_alpha, ".alpha tensors");
}

// llama.cpp: scale = alpha / r per tensor pair with one global alpha; no alpha → 1.
void apply_gguf_scales(Adapter& a, const AdapterOptions& options) {
  const std::optional<double> alpha = a.global_alpha ? a.global_alpha : options.alpha;
  for (LoraModule& m : a.modules) {
    const double r = static_cast<double>(m.rank);
    m.alpha = alpha.value_or(r);
    m.scale = m.alpha / r;
    m.scale_rule = a.global_alpha ? "alpha/r (global adapter.lora.alpha)"
                   : options.alpha ? "alpha/r (alpha from --alpha)"
                                   : "1 (no adapter.lora.alpha)";
  }
  if (!a.global_alpha) {
    a.warnings.push_back(options.alpha ? "no adapter.lora.alpha in the GGUF file: using --alpha"
                                       : "no adapter.lora.alpha in the GGUF file: scale 1, as "
                                         "llama.cpp applies it");
  }
  warn_if_alpha_ignored(a, options, a.global_alpha ? a.modules.size() : 0, "adapter.lora.alpha");
}

Result<Adapter> pair_and_scale(Adapter a, const AdapterOptions& options);

// Pairs the factors among `a.tensors` and applies the format's scale rules; a scale that
// is NaN/Inf (a kohya .alpha or GGUF adapter.lora.alpha of NaN/Inf, say) is a lying file.
Result<Adapter> finish_adapter(Adapter a, const AdapterOptions& options) {
  LORANK_ASSIGN_OR_RETURN(Adapter done, pair_and_scale(std::move(a), options));
  for (const LoraModule& m : done.modules) {
    if (!std::isfinite(m.scale)) {
      return corruption("adapter file '{}': module '{}': scale is {} (alpha {}, {})",
                        done.weights_path.string(), m.name, m.scale, m.alpha, m.scale_rule);
    }
  }
  return done;
}

// The adapter_config.json beside `weights`. Anything at that name is the config: a folder
// or FIFO there is an error naming it, not "no config".
std::optional<fs::path> config_beside(const fs::path& weights) {
  const fs::path config = weights.parent_path() / "adapter_config.json";
  std::error_code ec;
  if (fs::symlink_status(config, ec).type() != fs::file_type::not_found && !ec) return config;
  return std::nullopt;
}

Result<Adapter> pair_and_scale(Adapter a, const AdapterOptions& options) {
  const fs::path& weights = a.weights_path;
  adapter::KeyScheme scheme = adapter::detect_key_scheme(a.tensors);
  // GGUF's lora_a / lora_b names in a safetensors file are mlx_lm's (transposed) factors.
  if (scheme == adapter::KeyScheme::kGguf && a.container == Container::kSafetensors) {
    scheme = adapter::KeyScheme::kMlx;
  }
  if (scheme == adapter::KeyScheme::kNone) {
    return corruption("adapter file '{}': no LoRA factors (no tensor named *.lora_A.weight, "
                      "*.lora_down.weight or *.lora_a)", weights.string());
  }
  LORANK_ASSIGN_OR_RETURN(adapter::Pairing p, adapter::pair_factors(a.tensors, scheme, weights));
  a.modules = std::move(p.modules);
  a.passthrough = std::move(p.passthrough);
  if (scheme == adapter::KeyScheme::kKohya) {
    a.format = AdapterFormat::kKohya;
    apply_kohya_scales(a, p, options);
    return a;
  }
  if (scheme == adapter::KeyScheme::kMlx) {
    a.format = AdapterFormat::kMlx;
    a.config_path = config_beside(weights);
    if (a.config_path) {
      LORANK_ASSIGN_OR_RETURN(a.mlx, adapter::read_mlx_config(*a.config_path));
    }
    LORANK_RETURN_IF_ERROR(adapter::apply_mlx_scales(a, options));
    return a;
  }
  if (scheme == adapter::KeyScheme::kGguf) {
    if (a.container != Container::kGguf) {
      return not_supported("adapter file '{}': GGUF-style tensor names outside a GGUF file",
                           weights.string());
    }
    a.format = AdapterFormat::kGguf;
    for (LoraModule& m : a.modules) {
      if (adapter::is_gguf_token_embedding(m.name)) m.kind = ModuleKind::kEmbedding;
    }
    apply_gguf_scales(a, options);
    return a;
  }
  if (a.container == Container::kGguf) {
    return corruption("adapter file '{}': GGUF adapter without *.lora_a / *.lora_b tensors",
                      weights.string());
  }
  a.format = AdapterFormat::kPeft;
  a.config_path = config_beside(weights);
  if (a.config_path) {
    LORANK_ASSIGN_OR_RETURN(a.peft, adapter::read_peft_config(*a.config_path));
  }
  LORANK_RETURN_IF_ERROR(apply_peft_scales(a, options));
  return a;
}

Container container_of(CheckpointFormat format) {
  switch (format) {
    case CheckpointFormat::kGguf: return Container::kGguf;
    case CheckpointFormat::kPytorch: return Container::kPytorch;
    default: return Container::kSafetensors;
  }
}

// The adapter's view of its weights file: every tensor as a TensorView (a quantised one is
// refused: LoRA factors are floats), the metadata, GGUF's KVs and LoRA metadata, and the
// factors llama.cpp stores flipped, transposed into heap copies the adapter owns.
Result<Adapter> read_weights(const fs::path& weights, const AdapterOptions& options) {
  LORANK_ASSIGN_OR_RETURN(Checkpoint file, Checkpoint::open(weights, CheckpointRole::kAdapterFile));
  Adapter a;
  a.container = container_of(file.format());
  a.weights_path = weights;
  a.metadata = file.metadata();
  if (const GgufFile* gguf = file.gguf_file()) {
    Result<GgufLoraMetadata> meta = gguf_lora_metadata(*gguf);
    if (!meta) return meta.error();  // not an adapter (a base model, say) is kNotSupported
    if (meta->alpha) a.global_alpha = *meta->alpha;
    a.gguf_kvs.assign(gguf->kvs().begin(), gguf->kvs().end());
    for (const GgufKv& kv : a.gguf_kvs) {
      if (const std::string* text = kv.value.string_value()) a.metadata[kv.key] = *text;
    }
  }
  struct Storage {
    Checkpoint file;
    std::deque<std::vector<std::byte>> flipped;
  };
  auto shared = std::make_shared<Storage>(Storage{std::move(file), {}});
  a.tensors.reserve(shared->file.tensors().size());
  for (const CheckpointTensor& t : shared->file.tensors()) {
    if (!t.dtype) {
      return not_supported("gguf file '{}': tensor '{}' has ggml type {} ({}), which has no dtype",
                           weights.string(), t.name, t.type_name, t.ggml_type);
    }
    TensorView v{t.name, *t.dtype, t.shape, t.data};
    if (a.container == Container::kGguf && adapter::is_flipped_gguf_a(v.name) &&
        v.shape.rank() == 2 && is_convertible_float(v.dtype)) {
      v = adapter::transposed(v, shared->flipped.emplace_back());
    }
    a.tensors.push_back(std::move(v));
  }
  a.page_releaser = [shared](std::span<const std::byte> b) { shared->file.release_pages(b); };
  a.storage = std::move(shared);
  return finish_adapter(std::move(a), options);
}

}  // namespace

void release_tensor_pages(const Adapter& adapter, const TensorView& view) {
  if (adapter.page_releaser) adapter.page_releaser(view.data);
}

Result<Adapter> open_adapter(const fs::path& path, const AdapterOptions& options) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    return not_found("'{}': no such file or folder", path.string());
  }
  if (ec) {  // a symlink loop, a name too long, permission denied, ...
    return io_error("'{}': {}", path.string(), ec.message());
  }
  fs::path weights = path;
  if (status.type() == fs::file_type::directory) {
    LORANK_ASSIGN_OR_RETURN(weights, find_weights(path));
  }
  if (options.alpha && !(std::isfinite(*options.alpha) && *options.alpha > 0)) {
    return invalid_argument("--alpha must be a positive finite number, got {}", *options.alpha);
  }
  return read_weights(weights, options);
}

}  // namespace lorank
