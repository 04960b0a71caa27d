#include "adapter/pairing.h"

#include <map>
#include <string_view>

namespace lorank::adapter {
namespace {

enum class Role { kA, kB, kMagnitude, kAlpha };

struct Suffix {
  std::string_view text;
  Role role;
  ModuleKind kind;
};

// Suffixes per scheme: PEFT's Linear/Conv and Embedding factors and the DoRA magnitude;
// kohya's factors (also the underscore-joined "kohya-like" variant some converters write)
// and its per-module alpha; GGUF's factors.
constexpr Suffix kPeftSuffixes[] = {
    {".lora_A.weight", Role::kA, ModuleKind::kLinear},
    {".lora_B.weight", Role::kB, ModuleKind::kLinear},
    {".lora_embedding_A", Role::kA, ModuleKind::kEmbedding},
    {".lora_embedding_B", Role::kB, ModuleKind::kEmbedding},
    {".lora_magnitude_vector", Role::kMagnitude, ModuleKind::kLinear},
};
constexpr Suffix kKohyaSuffixes[] = {
    {".lora_down.weight", Role::kA, ModuleKind::kLinear},
    {".lora_up.weight", Role::kB, ModuleKind::kLinear},
    {"_lora_down.weight", Role::kA, ModuleKind::kLinear},
    {"_lora_up.weight", Role::kB, ModuleKind::kLinear},
    {".alpha", Role::kAlpha, ModuleKind::kLinear},
};
constexpr Suffix kGgufSuffixes[] = {
    {".lora_a", Role::kA, ModuleKind::kLinear},
    {".lora_b", Role::kB, ModuleKind::kLinear},
};
// mlx_lm's LoRALinear / DoRALinear parameters: lora_a, lora_b and DoRA's magnitude m.
constexpr Suffix kMlxSuffixes[] = {
    {".lora_a", Role::kA, ModuleKind::kLinear},
    {".lora_b", Role::kB, ModuleKind::kLinear},
    {".m", Role::kMagnitude, ModuleKind::kLinear},
};

std::span<const Suffix> suffixes(KeyScheme scheme) {
  switch (scheme) {
    case KeyScheme::kPeft: return kPeftSuffixes;
    case KeyScheme::kKohya: return kKohyaSuffixes;
    case KeyScheme::kGguf: return kGgufSuffixes;
    case KeyScheme::kMlx: return kMlxSuffixes;
    case KeyScheme::kNone: break;
  }
  return {};
}

const Suffix* match_suffix(std::string_view name, KeyScheme scheme) {
  for (const Suffix& s : suffixes(scheme)) {
    if (name.size() > s.text.size() && name.ends_with(s.text)) return &s;
  }
  return nullptr;
}

int count_factors(const std::vector<TensorView>& tensors, KeyScheme scheme) {
  int n = 0;
  for (const TensorView& t : tensors) {
    const Suffix* s = match_suffix(t.name, scheme);
    n += (s && s->role == Role::kA) ? 1 : 0;
  }
  return n;
}

std::size_t dim(const TensorView& t, std::size_t i) { return static_cast<std::size_t>(t.shape.dims[i]); }

// A module whose factor shapes cannot be a LoRA pair, naming both tensors and shapes.
Status bad_shapes(const LoraModule& m, const std::filesystem::path& file, std::string_view why) {
  return corruption("adapter file '{}': module '{}': {} (A '{}' {}, B '{}' {})", file.string(),
                    m.name, why, m.A.name, m.A.shape.to_string(), m.B.name, m.B.shape.to_string());
}

// What every scheme checks once rank/out/in are known.
Status check_rank_magnitude_dtype(const LoraModule& m, const std::filesystem::path& file) {
  if (m.rank == 0) return bad_shapes(m, file, "rank 0");
  // PEFT's DoRA keeps one norm per output feature (Linear, Conv as 1×out×1×1, Embedding);
  // so does mlx_lm's DoRALinear (its `m`).
  if (m.magnitude && static_cast<std::size_t>(m.magnitude->numel()) != m.out) {
    return invalid_data("adapter file '{}': module '{}': DoRA magnitude '{}' has {} elements, "
                        "expected {} (the module's out features)", file.string(), m.name,
                        m.magnitude->name, m.magnitude->numel(), m.out);
  }
  for (const TensorView* t : {&m.A, &m.B}) {
    if (!is_convertible_float(t->dtype)) {
      return not_supported("adapter file '{}': tensor '{}' has dtype {}; LoRA factors must be "
                           "F64, F32, F16 or BF16", file.string(), t->name, dtype_name(t->dtype));
    }
  }
  return Status();
}

// mlx_lm: A holds Aᵀ [in, r] and B holds Bᵀ [r, out].
Status check_transposed_shapes(LoraModule& m, const std::filesystem::path& file) {
  if (m.A.shape.rank() == 3 && m.B.shape.rank() == 3) {
    return not_supported("adapter file '{}': module '{}': 3-D factors (mlx_lm's LoRASwitchLinear, "
                         "one LoRA per expert) are not supported (A '{}' {}, B '{}' {})",
                         file.string(), m.name, m.A.name, m.A.shape.to_string(), m.B.name,
                         m.B.shape.to_string());
  }
  if (m.A.shape.rank() != 2 || m.B.shape.rank() != 2) return bad_shapes(m, file, "factors must be 2-D");
  m.in = dim(m.A, 0);
  m.rank = dim(m.A, 1);
  m.out = dim(m.B, 1);
  if (dim(m.B, 0) != m.rank) {
    return bad_shapes(m, file, fmt::format("rank disagreement: lora_a has {} columns but lora_b "
                                           "has {} rows", m.rank, dim(m.B, 0)));
  }
  return check_rank_magnitude_dtype(m, file);
}

// Fills rank/out/in and the kind from the factors' shapes, or explains what is wrong.
Status check_shapes(LoraModule& m, const std::filesystem::path& file) {
  if (m.transposed) return check_transposed_shapes(m, file);
  const Shape& a = m.A.shape;
  const Shape& b = m.B.shape;
  if (a.rank() == 4 && b.rank() == 4 && m.kind == ModuleKind::kLinear) m.kind = ModuleKind::kConv;
  if (m.kind == ModuleKind::kConv) {
    if (a.rank() != 4 || b.rank() != 4) return bad_shapes(m, file, "conv factors must both be 4-D");
    if (b.dims[2] != 1 || b.dims[3] != 1) return bad_shapes(m, file, "conv B must be out×r×1×1");
    m.in = dim(m.A, 1) * dim(m.A, 2) * dim(m.A, 3);
  } else {
    if (a.rank() != 2 || b.rank() != 2) return bad_shapes(m, file, "factors must be 2-D");
    m.in = dim(m.A, 1);
  }
  m.rank = dim(m.A, 0);
  m.out = dim(m.B, 0);
  if (dim(m.B, 1) != m.rank) {
    return bad_shapes(m, file, fmt::format("rank disagreement: A has {} rows but B has {} columns",
                                           m.rank, dim(m.B, 1)));
  }
  return check_rank_magnitude_dtype(m, file);
}

Result<double> read_scalar_alpha(const TensorView& t, const std::filesystem::path& file) {
  if (t.numel() != 1 || !is_convertible_float(t.dtype)) {
    return corruption("adapter file '{}': alpha tensor '{}' must hold one float, has shape {} "
                      "dtype {}", file.string(), t.name, t.shape.to_string(), dtype_name(t.dtype));
  }
  double v = 0.0;
  LORANK_RETURN_IF_ERROR(to_double(t, std::span<double>(&v, 1)));
  return v;
}

}  // namespace

KeyScheme detect_key_scheme(const std::vector<TensorView>& tensors) {
  for (KeyScheme s : {KeyScheme::kPeft, KeyScheme::kKohya, KeyScheme::kGguf}) {
    if (count_factors(tensors, s) > 0) return s;
  }
  return KeyScheme::kNone;
}

Result<Pairing> pair_factors(const std::vector<TensorView>& tensors, KeyScheme scheme,
                             const std::filesystem::path& file) {
  Pairing p;
  std::map<std::string, std::size_t> index;  // module name → position in p.modules
  std::map<std::string, const TensorView*> b_of, magnitude_of;
  for (const TensorView& t : tensors) {
    const Suffix* s = match_suffix(t.name, scheme);
    const std::string base = s ? std::string(t.name.substr(0, t.name.size() - s->text.size())) : "";
    if (!s) {
      p.passthrough.push_back(t);
    } else if (s->role == Role::kA) {
      if (index.count(base)) {
        return corruption("adapter file '{}': module '{}' has two A factors", file.string(), base);
      }
      index[base] = p.modules.size();
      LoraModule m;
      m.name = base;
      m.kind = s->kind;
      m.transposed = scheme == KeyScheme::kMlx;
      m.A = t;
      p.modules.push_back(std::move(m));
    } else if (s->role == Role::kB) {
      if (!b_of.emplace(base, &t).second) {
        return corruption("adapter file '{}': module '{}' has two B factors", file.string(), base);
      }
    } else if (s->role == Role::kMagnitude) {
      magnitude_of[base] = &t;
    } else {
      LORANK_ASSIGN_OR_RETURN(double alpha, read_scalar_alpha(t, file));
      p.kohya_alphas.emplace_back(base, alpha);
      p.kohya_alpha_tensors.emplace(base, t);
    }
  }
  for (const auto& [base, b] : b_of) {
    if (!index.count(base)) {
      return corruption("adapter file '{}': B factor '{}' has no matching A factor", file.string(),
                        b->name);
    }
  }
  for (LoraModule& m : p.modules) {
    auto b = b_of.find(m.name);
    if (b == b_of.end()) {
      return corruption("adapter file '{}': A factor '{}' has no matching B factor", file.string(),
                        m.A.name);
    }
    m.B = *b->second;
    if (auto mag = magnitude_of.find(m.name); mag != magnitude_of.end()) {
      m.magnitude = *mag->second;
      magnitude_of.erase(mag);
    }
    LORANK_RETURN_IF_ERROR(check_shapes(m, file));
  }
  for (const auto& [base, t] : magnitude_of) p.passthrough.push_back(*t);  // orphan: keep it
  return p;
}

}  // namespace lorank::adapter
