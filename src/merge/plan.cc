// Matching adapter modules to base tensors: names, orientation, shapes, dtypes.
#include "merge/plan.h"

#include <fmt/format.h>

#include <unordered_map>

#include "adapter/base_tensor.h"
#include "adapter/widen_factor.h"

namespace lorank::merge {
namespace {

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

// Whether a merged tensor is computed in float (see MergeCompute in lorank/merge.h).
bool computed_in_float(const CheckpointTensor& base, DType out, bool dora, const MergeOptions& options) {
  if (dora || base.dtype == DType::kF64) return false;  // DoRA's row norms; F64 values
  switch (options.compute) {
    case MergeCompute::kF32: return true;
    case MergeCompute::kF64: return false;
    case MergeCompute::kAuto: break;
  }
  return out == DType::kF16 || out == DType::kBF16;
}

// The update of module `m` in W's layout (`match` says where W is and how it is oriented),
// in arithmetic T.
template <typename T>
LowRankUpdate<T> update_for(const LoraModule& m, const BaseTensorMatch& match, double scale,
                            std::vector<double> A, std::vector<double> B) {
  std::vector<double> left, right;
  if (match.transposed) {  // rows of W are columns of B·A: left = Aᵀ (in × r), right = Bᵀ (r × out)
    left = transpose(A, m.rank, m.in);
    right = transpose(B, m.out, m.rank);
  } else {
    left = std::move(B);
    right = std::move(A);
  }
  if (!match.row_order.empty()) {  // W's row i is ΔW's row delta_row(i) (llama GGUF q/k)
    const std::vector<double> in_delta_order = std::move(left);
    left.resize(in_delta_order.size());
    for (std::size_t i = 0; i < match.rows; ++i) {
      std::copy_n(in_delta_order.begin() + static_cast<std::ptrdiff_t>(match.delta_row(i) * m.rank),
                  m.rank, left.begin() + static_cast<std::ptrdiff_t>(i * m.rank));
    }
  }
  return make_low_rank_update<T>(left, right, m.rank, match.cols, m.scale * scale);
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
  for (std::size_t ai = 0; ai < adapters.size(); ++ai) {
    const Adapter& a = adapters[ai];
    const double scale = options.scale * (options.adapter_scales.empty() ? 1.0 : options.adapter_scales[ai]);
    if (a.format == AdapterFormat::kKohya) {
      return not_supported("adapter '{}': kohya adapters name modules by flattened paths that "
                           "lorank cannot map to a base checkpoint yet; merge PEFT, GGUF or mlx "
                           "adapters", a.weights_path.string());
    }
    for (const LoraModule& m : a.modules) {
      LORANK_ASSIGN_OR_RETURN(const BaseTensorMatch match, find_base_tensor(base, a, m));
      const CheckpointTensor* w = match.tensor;
      TensorJob& job = plan.jobs[job_of.at(w->name)];
      if (m.magnitude && match.transposed) {
        return not_supported("module '{}': merging DoRA into {} is not supported", m.name,
                             m.kind == ModuleKind::kEmbedding ? "an embedding" : "a fan_in_fan_out layer");
      }
      const bool merged_already = job.kind == TensorJob::Kind::kMerge;
      if (dora_owner[job_of.at(w->name)] != nullptr || (m.magnitude && merged_already)) {
        return invalid_data("module '{}': a DoRA update cannot be summed with another adapter's "
                            "update of '{}' (DoRA rescales the merged weight)", m.name, w->name);
      }
      std::vector<double> A, B;  // A: r × in, B: out × r (PEFT orientation)
      LORANK_RETURN_IF_ERROR(widen_factor_finite(a, m, Factor::kA, A));
      LORANK_RETURN_IF_ERROR(widen_factor_finite(a, m, Factor::kB, B));
      const std::size_t rows = match.rows, cols = match.cols;
      job.kind = TensorJob::Kind::kMerge;
      job.rows = rows;
      job.cols = cols;
      job.dtype = computed_dtype(*w, options);
      // The same for every update of the job: DoRA cannot share a tensor (checked above).
      if (computed_in_float(*w, job.dtype, static_cast<bool>(m.magnitude), options)) {
        job.float_updates.push_back(update_for<float>(m, match, scale, std::move(A), std::move(B)));
      } else {
        job.updates.push_back(update_for<double>(m, match, scale, std::move(A), std::move(B)));
      }
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
      const std::string name = replaced_base_name(t.name);
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
