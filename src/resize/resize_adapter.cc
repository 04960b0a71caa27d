// resize_adapter: every module truncated under a rank rule, the result a new Adapter in the
// input's format whose modules point at owned buffers.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "adapter/module_order.h"
#include "adapter/widen_factor.h"
#include "linalg/lapack.h"
#include "lorank/parallel.h"
#include "lorank/resize.h"
#include "resize/format_config.h"
#include "resize/truncate.h"

namespace lorank {
namespace {

using resize_internal::module_svd;
using resize_internal::scaled_sigma;
using resize_internal::truncate_svd;
using resize_internal::TruncateWorkspace;

// The new tensors' bytes and names; `base` keeps the input's views (passthrough tensors,
// names) alive. deque: growing never moves an element, so spans into them stay valid.
struct OwnedStorage {
  std::shared_ptr<const void> base;
  std::deque<std::vector<std::byte>> buffers;
  std::deque<std::string> names;
};

struct ModuleOutcome {
  TruncatedFactors factors;  // b and a emptied once converted into the bytes below
  std::vector<std::byte> a_bytes, b_bytes;
  double new_scale = 1.0;
  double new_alpha = 0.0;
  bool above_rank = false;       // fixed:k with k above min(r, out, in): capped
  bool snapped_to_full = false;  // the snap raised a smaller k to min(r, out, in)
};

// α as the format stores it rounded to `dtype` (kohya's .alpha tensor).
Result<double> stored_alpha(double alpha, DType dtype) {
  std::vector<std::byte> bytes(dtype_size(dtype));
  LORANK_RETURN_IF_ERROR(from_double(std::span<const double>(&alpha, 1), dtype, bytes));
  double back = 0.0;
  LORANK_RETURN_IF_ERROR(to_double(TensorView{"alpha", dtype, Shape{}, bytes}, std::span<double>(&back, 1)));
  return back;
}

// The scale the format's loader will give a module of rank k, and the α behind it.
Result<std::pair<double, double>> format_scale(const Adapter& a, const LoraModule& m, std::size_t k) {
  const double kd = static_cast<double>(k);
  switch (a.format) {
    case AdapterFormat::kPeft:  // preserved through rank_pattern / alpha_pattern
      return std::pair{m.scale, a.peft && a.peft->use_rslora ? m.scale * std::sqrt(kd) : m.scale * kd};
    case AdapterFormat::kKohya: {
      const DType dtype = m.alpha_tensor ? m.alpha_tensor->dtype : DType::kF32;
      LORANK_ASSIGN_OR_RETURN(double alpha, stored_alpha(m.scale * kd, dtype));
      if (!std::isfinite(alpha) || alpha == 0.0) {
        return invalid_data("module '{}': alpha {} is not representable in {}", m.name,
                                m.scale * kd, dtype_name(dtype));
      }
      return std::pair{alpha / kd, alpha};
    }
    case AdapterFormat::kGguf:  // llama.cpp: α/k with the one global α, else 1
      if (a.global_alpha && *a.global_alpha != 0.0) return std::pair{*a.global_alpha / kd, *a.global_alpha};
      return std::pair{1.0, kd};
    case AdapterFormat::kMlx:  // mlx_lm: lora_parameters.scale whatever the rank; no config: 1
      if (a.mlx) return std::pair{m.scale, m.scale * kd};
      return std::pair{1.0, kd};
  }
  return internal_error("unknown adapter format");
}

// One module, on a worker thread: SVD, rule, truncation, and the new factors already in
// their output dtype, so that at most one module's float64 factors per thread exist.
Result<ModuleOutcome> resize_one(const Adapter& a, const LoraModule& m, const ResizeOptions& o,
                                 TruncateWorkspace& ws) {
  if (Status s = module_svd(m, ws); !s.ok()) return name_nonfinite(a, m, std::move(s));
  const std::vector<double> sigma = scaled_sigma(ws.svd, m.scale);
  const std::size_t max_rank = std::min({m.rank, m.out, m.in});
  // 0 means untrained: truncate_svd then keeps a zero module of rank 1.
  const int chosen = o.rule.apply(sigma, max_rank, m.scale);
  const int k = std::max(1, chosen == 0 ? 0 : snap_rank(chosen, o.snap, max_rank));
  ModuleOutcome out;
  out.above_rank = o.rule.kind() == RankRule::Kind::kFixed &&
                   o.rule.param() > static_cast<double>(max_rank);
  out.snapped_to_full = chosen > 0 && static_cast<std::size_t>(chosen) < max_rank &&
                        static_cast<std::size_t>(k) == max_rank;
  LORANK_ASSIGN_OR_RETURN(auto scale_alpha, format_scale(a, m, static_cast<std::size_t>(k)));
  std::tie(out.new_scale, out.new_alpha) = scale_alpha;
  const double s = m.scale == 0.0 ? 1.0 : out.new_scale;  // a zero update: any s' will do
  LORANK_ASSIGN_OR_RETURN(out.factors, truncate_svd(m, ws, k, o.sigma_in_b, s));
  for (auto [factors, bytes, view, which] :
       {std::tuple{&out.factors.a, &out.a_bytes, &m.A, Factor::kA},
        std::tuple{&out.factors.b, &out.b_bytes, &m.B, Factor::kB}}) {
    to_stored_order(m, which, *factors);  // mlx_lm's lora_a / lora_b are Aᵀ / Bᵀ
    const DType dtype = o.dtype.value_or(view->dtype);
    bytes->resize(factors->size() * dtype_size(dtype));
    LORANK_RETURN_IF_ERROR(from_double(*factors, dtype, *bytes)
                               .with_context(fmt::format("tensor '{}'", view->name)));
    std::vector<double>().swap(*factors);
  }
  return out;
}

std::span<const std::byte> own_bytes(OwnedStorage& st, std::span<const double> v, DType dtype,
                                     Status& status) {
  std::vector<std::byte>& buf = st.buffers.emplace_back(v.size() * dtype_size(dtype));
  status = from_double(v, dtype, buf);
  return buf;
}

std::uint64_t bytes_of(const std::vector<TensorView>& ts) {
  std::uint64_t n = 0;
  for (const TensorView& t : ts) n += t.data.size();
  return n;
}

}  // namespace

bool ResizeResult::keeps_every_rank() const {
  return std::all_of(modules.begin(), modules.end(),
                     [](const ResizeModule& m) { return m.new_rank == m.old_rank; });
}

Result<ResizeResult> resize_adapter(const Adapter& in, const ResizeOptions& options) {
  if (options.dtype && !is_convertible_float(*options.dtype)) {
    return invalid_argument("cannot write factors as {}: choose F64, F32, F16 or BF16",
                            dtype_name(*options.dtype));
  }
  const std::size_t n = in.modules.size();
  std::vector<std::optional<Result<ModuleOutcome>>> outcomes(n);
  {
    const std::vector<std::size_t> order = largest_modules_first(in.modules);
    std::vector<TruncateWorkspace> workspaces(worker_count(options.threads, n));
    std::mutex progress_mutex;
    std::size_t done = 0;
    // Many small factorisations: parallel across modules, one BLAS thread each.
    const linalg::SingleThreadedBlas single_blas;
    parallel_for_workers(n, options.threads, [&](std::size_t worker, std::size_t j) {
      const std::size_t i = order[j];
      const LoraModule& m = in.modules[i];
      outcomes[i].emplace(resize_one(in, m, options, workspaces[worker]));
      // Read for the last time: dropping the mapped pages bounds the resident set.
      release_tensor_pages(in, m.A);
      release_tensor_pages(in, m.B);
      if (options.progress) {
        const std::lock_guard<std::mutex> lock(progress_mutex);
        options.progress(++done, n);
      }
    });
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!outcomes[i]->has_value()) return outcomes[i]->status();
  }

  ResizeResult result;
  result.adapter = in;
  Adapter& out = result.adapter;
  auto storage = std::make_shared<OwnedStorage>();
  storage->base = in.storage;
  std::map<std::string_view, TensorView> replaced;  // by tensor name
  std::size_t zeros = 0, above_rank = 0, snapped_to_full = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const LoraModule& old = in.modules[i];
    LoraModule& m = out.modules[i];
    ModuleOutcome& o = **outcomes[i];
    const TruncatedFactors& f = o.factors;
    Status status;
    m.A.dtype = options.dtype.value_or(old.A.dtype);
    m.B.dtype = options.dtype.value_or(old.B.dtype);
    m.A.data = storage->buffers.emplace_back(std::move(o.a_bytes));
    m.B.data = storage->buffers.emplace_back(std::move(o.b_bytes));
    // Conv keeps its layout: A k×in×kh×kw, B out×k×1×1 (embedding and linear likewise).
    if (m.A.shape.rank() < 2 || m.B.shape.rank() < 2) {
      return internal_error("module '{}': factors of shapes {} and {}", m.name,
                            m.A.shape.to_string(), m.B.shape.to_string());
    }
    // The rank dim: A's rows and B's columns, or lora_a's columns and lora_b's rows (mlx_lm).
    m.A.shape.dims.at(m.transposed ? 1 : 0) = static_cast<int64_t>(f.k);
    m.B.shape.dims.at(m.transposed ? 0 : 1) = static_cast<int64_t>(f.k);
    m.rank = f.k;
    m.scale = o.new_scale;
    m.alpha = o.new_alpha;
    replaced[m.A.name] = m.A;
    replaced[m.B.name] = m.B;
    if (in.format == AdapterFormat::kKohya) {
      TensorView alpha;
      if (old.alpha_tensor) {
        alpha = *old.alpha_tensor;
      } else {
        alpha.name = storage->names.emplace_back(m.name + ".alpha");
        alpha.dtype = DType::kF32;
        alpha.shape = Shape{};
      }
      alpha.data = own_bytes(*storage, std::span<const double>(&o.new_alpha, 1), alpha.dtype, status);
      LORANK_RETURN_IF_ERROR(status.with_context(fmt::format("tensor '{}'", alpha.name)));
      m.alpha_tensor = alpha;
      if (old.alpha_tensor) replaced[alpha.name] = alpha;
      m.scale_rule = "alpha/r";
    }
    zeros += f.zero ? 1 : 0;
    above_rank += o.above_rank ? 1 : 0;
    snapped_to_full += o.snapped_to_full ? 1 : 0;
    ResizeModule& r = result.modules.emplace_back();
    r.name = m.name;
    r.old_rank = old.rank;
    r.new_rank = f.k;
    r.scale = old.scale;
    r.new_scale = o.new_scale;
    r.retained_energy = f.retained_energy;
    r.relative_error = f.relative_error;
    r.condition = f.condition;
    r.zero = f.zero;
    r.singular_values = f.singular_values;
    result.totals.params_before += old.rank * (old.out + old.in);
    result.totals.params_after += f.k * (old.out + old.in);
  }
  result.totals.bytes_before = bytes_of(in.tensors);
  for (TensorView& t : out.tensors) {
    if (auto it = replaced.find(t.name); it != replaced.end()) t = it->second;
  }
  for (const LoraModule& m : out.modules) {  // kohya alphas that did not exist before
    if (m.alpha_tensor && !replaced.count(m.alpha_tensor->name)) out.tensors.push_back(*m.alpha_tensor);
  }
  result.totals.bytes_after = bytes_of(out.tensors);
  out.storage = storage;
  if (zeros > 0) {
    result.notes.push_back(fmt::format(
        "{} module(s) with an all-zero update kept as zero modules of rank 1", zeros));
  }
  // One line per situation, not per module: each names how many modules it concerns.
  if (above_rank > 0) {
    result.warnings.push_back(fmt::format(
        "rank rule {} asks for more than the rank of {} of {} module(s): they keep their rank "
        "(a full-rank copy)", options.rule.to_string(), above_rank, n));
  }
  if (snapped_to_full > 0) {
    result.warnings.push_back(fmt::format(
        "--snap {} rounded the new rank of {} of {} module(s) up to their old rank "
        "(a full-rank copy)", snap_name(options.snap), snapped_to_full, n));
  }
  switch (in.format) {
    case AdapterFormat::kPeft:
      LORANK_RETURN_IF_ERROR(resize_internal::rewrite_peft_config(in, result.modules, out, result.notes));
      break;
    case AdapterFormat::kKohya:
      resize_internal::rewrite_kohya_metadata(result.modules, out, out.metadata);
      break;
    case AdapterFormat::kGguf:
      break;
    case AdapterFormat::kMlx:
      LORANK_RETURN_IF_ERROR(resize_internal::rewrite_mlx_config(in, result.modules, out, result.notes));
      break;
  }
  return result;
}

}  // namespace lorank
