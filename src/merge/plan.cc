// Matching adapter modules to base tensors: names, orientation, shapes, dtypes.
#include "merge/plan.h"

#include <fmt/format.h>

#include <unordered_map>

#include "adapter/widen_factor.h"

namespace lorank::merge {
namespace {

constexpr std::string_view kPeftPrefix = "base_model.model.";

std::string_view strip_prefix(std::string_view name) {
  return name.starts_with(kPeftPrefix) ? name.substr(kPeftPrefix.size()) : name;
}

// The base tensor names a module's weight may have, most likely first. PEFT and mlx name
// the module (`model.layers.0.self_attn.q_proj`), the base the parameter (`….weight`);
// GGUF adapters use the base tensor's name itself. A base saved without the task head's
// wrapper lacks the leading `model.`, so that spelling is tried too.
std::vector<std::string> weight_names(const Adapter& a, const LoraModule& m) {
  if (a.format == AdapterFormat::kGguf) return {m.name};
  const std::string path(strip_prefix(m.name));
  std::vector<std::string> names = {path + ".weight"};
  if (const auto dot = path.find('.'); dot != std::string::npos) {
    names.push_back(path.substr(dot + 1) + ".weight");
  }
  return names;
}

// The base tensor an adapter's whole tensor (modules_to_save, a trained bias) stands for:
// PEFT saves `base_model.model.<module>.<param>`; a wrapped module keeps `.base_layer`.
std::string replaced_name(std::string_view adapter_name) {
  std::string name(strip_prefix(adapter_name));
  for (std::string_view wrapper : {".base_layer.", ".modules_to_save.default."}) {
    for (auto at = name.find(wrapper); at != std::string::npos; at = name.find(wrapper)) {
      name.replace(at, wrapper.size(), ".");
    }
  }
  return name;
}

// The output dtype of a tensor whose values lorank computes (merged or replaced).
DType computed_dtype(const CheckpointTensor& base, const MergeOptions& options) {
  if (options.dtype) return *options.dtype;
  if (base.dtype && is_convertible_float(*base.dtype)) return *base.dtype;
  return kMergedDtypeForQuantised;
}

std::vector<double> transpose(const std::vector<double>& m, std::size_t rows, std::size_t cols) {
  std::vector<double> t(m.size());
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) t[j * rows + i] = m[i * cols + j];
  }
  return t;
}

// The update of module `m` in W's layout, after checking W's shape against it.
Result<LowRankUpdate> update_for(const Adapter& a, const LoraModule& m, const CheckpointTensor& w,
                                 bool transposed, double scale, std::size_t& rows,
                                 std::size_t& cols) {
  const std::size_t out = transposed ? m.in : m.out, in = transposed ? m.out : m.in;
  const auto& d = w.shape.dims;
  const bool fits = m.kind == ModuleKind::kConv
                        ? d.size() >= 2 && static_cast<std::size_t>(d[0]) == out &&
                              static_cast<uint64_t>(w.shape.numel()) == uint64_t{out} * in
                        : d.size() == 2 && static_cast<std::size_t>(d[0]) == out &&
                              static_cast<std::size_t>(d[1]) == in;
  if (!fits) {
    return invalid_data("module '{}': base tensor '{}' has shape {}, the adapter's update is [{}, {}]",
                        m.name, w.name, w.shape.to_string(), out, in);
  }
  if (!w.has_values()) {
    return not_supported("module '{}': base tensor '{}' of type {} has no values lorank can read",
                         m.name, w.name, w.type_name);
  }
  LowRankUpdate u;
  u.rank = m.rank;
  u.cols = in;
  u.scale = m.scale * scale;
  std::vector<double> A, B;  // A: r × in, B: out × r (PEFT orientation)
  LORANK_RETURN_IF_ERROR(widen_factor_finite(a, m, Factor::kA, A));
  LORANK_RETURN_IF_ERROR(widen_factor_finite(a, m, Factor::kB, B));
  if (transposed) {  // rows of W are columns of B·A: left = Aᵀ (in × r), right = Bᵀ (r × out)
    u.left = transpose(A, m.rank, m.in);
    u.right = transpose(B, m.out, m.rank);
  } else {
    u.left = std::move(B);
    u.right = std::move(A);
  }
  rows = out;
  cols = in;
  return u;
}

}  // namespace

uint64_t TensorJob::bytes() const {
  if (kind == Kind::kCopy) return base->data.size();
  return static_cast<uint64_t>(shape.numel()) * dtype_size(dtype);
}

Result<MergePlan> plan_merge(const Checkpoint& base, std::span<const Adapter> adapters,
                             const MergeOptions& options) {
  MergePlan plan;
  std::unordered_map<std::string, std::size_t> job_of;  // output name → job index
  for (const CheckpointTensor& t : base.tensors()) {
    job_of.emplace(t.name, plan.jobs.size());
    TensorJob job;
    job.base = &t;
    job.name = t.name;
    job.shape = t.shape;
    job.dtype = t.dtype.value_or(DType::kU8);
    job.shard = t.shard;
    plan.jobs.push_back(std::move(job));
  }
  std::vector<const Adapter*> dora_owner(plan.jobs.size(), nullptr);
  for (const Adapter& a : adapters) {
    if (a.format == AdapterFormat::kKohya) {
      return not_supported("adapter '{}': kohya adapters name modules by flattened paths that "
                           "lorank cannot map to a base checkpoint yet; merge PEFT, GGUF or mlx "
                           "adapters", a.weights_path.string());
    }
    const bool fan_in_fan_out = a.peft && a.peft->fan_in_fan_out;
    for (const LoraModule& m : a.modules) {
      const CheckpointTensor* w = nullptr;
      const std::vector<std::string> names = weight_names(a, m);
      for (const std::string& n : names) {
        if ((w = base.find(n)) != nullptr) break;
      }
      if (w == nullptr) {
        return invalid_data("module '{}' of '{}': the base has no tensor '{}'", m.name,
                            a.weights_path.string(), names.front());
      }
      TensorJob& job = plan.jobs[job_of.at(w->name)];
      const bool transposed = m.kind == ModuleKind::kEmbedding || (fan_in_fan_out && m.kind == ModuleKind::kLinear);
      if (m.magnitude && transposed) {
        return not_supported("module '{}': merging DoRA into {} is not supported", m.name,
                             m.kind == ModuleKind::kEmbedding ? "an embedding" : "a fan_in_fan_out layer");
      }
      if (dora_owner[job_of.at(w->name)] != nullptr || (m.magnitude && !job.updates.empty())) {
        return invalid_data("module '{}': a DoRA update cannot be summed with another adapter's "
                            "update of '{}' (DoRA rescales the merged weight)", m.name, w->name);
      }
      std::size_t rows = 0, cols = 0;
      LORANK_ASSIGN_OR_RETURN(LowRankUpdate u,
                              update_for(a, m, *w, transposed, options.scale, rows, cols));
      job.kind = TensorJob::Kind::kMerge;
      job.rows = rows;
      job.cols = cols;
      job.dtype = computed_dtype(*w, options);
      job.updates.push_back(std::move(u));
      if (m.magnitude) {
        LORANK_RETURN_IF_ERROR(widen_finite(*m.magnitude, a, job.dora_magnitude));
        if (job.dora_magnitude.size() != rows) {
          return invalid_data("module '{}': DoRA magnitude has {} values, the base tensor '{}' {} "
                              "rows", m.name, job.dora_magnitude.size(), w->name, rows);
        }
        dora_owner[job_of.at(w->name)] = &a;
      }
    }
    for (const TensorView& t : a.passthrough) {
      if (t.name.ends_with(".lora_magnitude_vector")) continue;  // used by its module
      if (t.name.find("lora_") != std::string_view::npos) {
        plan.warnings.push_back(fmt::format("adapter tensor '{}' of '{}' looks like a LoRA factor "
                                            "lorank does not know; it is left out of the merge",
                                            t.name, a.weights_path.string()));
        continue;
      }
      if (!is_convertible_float(t.dtype)) {
        return not_supported("adapter tensor '{}' of '{}' has dtype {}, which lorank cannot "
                             "merge", t.name, a.weights_path.string(), dtype_name(t.dtype));
      }
      const std::string name = replaced_name(t.name);
      const auto it = job_of.find(name);
      if (it == job_of.end()) {
        TensorJob job;
        job.kind = TensorJob::Kind::kAdd;
        job.source = &t;
        job.name = name;
        job.shape = t.shape;
        job.dtype = options.dtype.value_or(t.dtype);
        job_of.emplace(job.name, plan.jobs.size());
        plan.jobs.push_back(std::move(job));
        dora_owner.push_back(nullptr);
        continue;
      }
      TensorJob& job = plan.jobs[it->second];
      if (job.kind != TensorJob::Kind::kCopy) {
        return invalid_data("adapter tensor '{}' of '{}' replaces base tensor '{}', which another "
                            "tensor already changes", t.name, a.weights_path.string(), name);
      }
      if (t.shape != job.base->shape) {
        return invalid_data("adapter tensor '{}': shape {}, the base tensor '{}' has {}", t.name,
                            t.shape.to_string(), name, job.base->shape.to_string());
      }
      job.kind = TensorJob::Kind::kReplace;
      job.source = &t;
      job.dtype = computed_dtype(*job.base, options);
    }
  }
  for (const TensorJob& job : plan.jobs) {
    switch (job.kind) {
      case TensorJob::Kind::kCopy: ++plan.copied; break;
      case TensorJob::Kind::kMerge: ++plan.merged; break;
      case TensorJob::Kind::kReplace: ++plan.replaced; break;
      case TensorJob::Kind::kAdd: ++plan.added; break;
    }
  }
  if (plan.merged == 0 && plan.replaced == 0 && plan.added == 0) {
    return invalid_data("the adapters change no tensor of the base");
  }
  if (plan.added > 0) {
    plan.warnings.push_back(fmt::format("{} adapter tensor(s) the base lacks (a new head?) are "
                                        "added to the output", plan.added));
  }
  return plan;
}

}  // namespace lorank::merge
