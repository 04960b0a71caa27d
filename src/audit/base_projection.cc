// Hu et al. §7.3 per module: ‖UᵀWV‖_F for ΔW's top directions, W's own and random ones.
//
// U, V come from the QR core of the factors (B = Q_B·R_B, Aᵀ = Q_A·R_A, R_B·R_Aᵀ = U_M·Σ·V_Mᵀ,
// so U = Q_B·U_M and V = Q_A·V_M; out×k and in×k, never the out×in product). W is read a
// block of rows at a time: one pass gives ‖W‖_F, Uᵀ·W·V and U_rᵀ·W·V_r together; σ(W)
// comes from LAPACK on the whole W when it is small, else from block Lanczos
// (linalg/top_singular_values.h) over further streamed passes.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>

#include "adapter/base_tensor.h"
#include "adapter/module_order.h"
#include "adapter/widen_factor.h"
#include "audit/base_projection.h"
#include "linalg/lapack.h"
#include "linalg/lora_svd.h"
#include "linalg/singular_vectors.h"
#include "linalg/top_singular_values.h"
#include "lorank/parallel.h"
#include "lorank/random.h"

namespace lorank {

std::string_view w_svd_route_name(WSvdRoute route) {
  switch (route) {
    case WSvdRoute::kAuto: return "auto";
    case WSvdRoute::kDense: return "dense";
    case WSvdRoute::kKrylov: return "krylov";
  }
  return "auto";
}

namespace audit_internal {
namespace {

int to_int(std::size_t v) { return static_cast<int>(v); }

double frobenius(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// The generator of a module's random subspaces and Krylov start block: NumPy's
// default_rng([seed, w_1, …, w_n]) with w the UTF-8 bytes of the module name (as in the
// file), four per word little-endian, the last zero-padded. The stream thus depends on the
// module alone, not on which other modules the adapter has or on thread scheduling.
DefaultRngNormal module_rng(std::uint64_t seed, const std::string& name) {
  std::vector<std::uint32_t> words = {static_cast<std::uint32_t>(seed)};
  for (std::size_t i = 0; i < name.size(); i += 4) {
    std::uint32_t w = 0;
    for (std::size_t j = 0; j < 4 && i + j < name.size(); ++j) {
      w |= static_cast<std::uint32_t>(static_cast<unsigned char>(name[i + j])) << (8 * j);
    }
    words.push_back(w);
  }
  return DefaultRngNormal(SeedSequence(std::move(words)));
}

// ΔW's top-k directions in W's layout: left (rows×k) and right (cols×k), column-major.
struct Directions {
  std::size_t k = 0;
  std::vector<double> left, right;
};

// k = #σ_i(B·A) above max(out, in, r)·ε·‖B‖_F·‖A‖_F, the rounding level of the QR core
// (as `lorank compare`): the directions of smaller values are arbitrary.
Status delta_directions(const Adapter& adapter, const LoraModule& m, const BaseTensorMatch& match,
                        Directions& d) {
  const bool transposed = match.transposed;
  std::vector<double> b, a;
  LORANK_RETURN_IF_ERROR(widen_factor_finite(adapter, m, Factor::kB, b));
  LORANK_RETURN_IF_ERROR(widen_factor_finite(adapter, m, Factor::kA, a));
  linalg::LoraSvdWorkspace workspace;
  linalg::LoraSvd svd;
  LORANK_RETURN_IF_ERROR(
      workspace.compute(b, a, LoraShape{m.out, m.rank, m.in}, true, true, svd));
  const double tol = static_cast<double>(std::max({m.out, m.in, m.rank})) *
                     std::numeric_limits<double>::epsilon() * frobenius(b) * frobenius(a);
  d.k = 0;
  while (d.k < static_cast<std::size_t>(svd.count) && svd.sigma[d.k] > tol) ++d.k;
  if (d.k == 0) return Status();
  const int k = to_int(d.k);
  std::vector<double> u(m.out * d.k), v(m.in * d.k);
  linalg::gemm(false, false, svd.out, k, svd.kb, svd.qb.data(), svd.out, svd.u.data(), svd.kb,
               u.data(), svd.out);
  linalg::gemm(false, true, svd.in, k, svd.ka, svd.qa.data(), svd.in, svd.vt.data(), svd.count,
               v.data(), svd.in);
  // In W's layout ΔW_W = (s·B·A)ᵀ = V·Σ·Uᵀ when W is stored transposed.
  d.left = transposed ? std::move(v) : std::move(u);
  d.right = transposed ? std::move(u) : std::move(v);
  if (!match.row_order.empty()) {  // W's row i is ΔW's row delta_row(i) (llama GGUF q/k)
    const std::vector<double> left = d.left;
    for (std::size_t j = 0; j < d.k; ++j) {
      for (std::size_t i = 0; i < match.rows; ++i) {
        d.left[j * match.rows + i] = left[j * match.rows + match.delta_row(i)];
      }
    }
  }
  return Status();
}

// Rows [row0, row0 + n) of W as a matrix (conv kernels: one matrix row is several of the
// tensor's rows, which are its last dim).
linalg::RowBlockReader w_reader(const Checkpoint& base, const BaseTensorMatch& match,
                                const LoraModule& m) {
  const std::uint64_t per_row = match.cols / std::max<std::uint64_t>(match.tensor->row_length(), 1);
  return [&base, &match, &m, per_row](std::size_t row0, std::size_t n, double* dst) {
    LORANK_RETURN_IF_ERROR(
        base.read_rows(*match.tensor, row0 * per_row, std::span<double>(dst, n * match.cols))
            .with_context(fmt::format("module '{}'", m.name)));
    // After each whole pass the mapped pages go: a Krylov run keeps at most one pass of W
    // resident (the page cache still holds it for the next pass).
    if (row0 + n == match.rows) base.release_pages(*match.tensor);
    return Status();
  };
}

// One pass over W: ‖W‖_F, ‖Uᵀ·W·V‖_F and ‖U_rᵀ·W·V_r‖_F. With `keep`, W is read in one
// block that is left in `block` (row-major) for the dense SVD.
Status projection_pass(const linalg::RowBlockReader& read, std::size_t rows, std::size_t cols,
                       const Directions& d, const std::vector<double>& ur,
                       const std::vector<double>& vr, bool keep, std::vector<double>& block,
                       BaseComparison& c) {
  const std::size_t k = d.k, per = keep ? rows : linalg::rows_per_block(cols);
  std::vector<double> right(cols * 2 * k), y, p(k * k, 0.0), pr(k * k, 0.0);
  std::copy(d.right.begin(), d.right.end(), right.begin());
  std::copy(vr.begin(), vr.end(), right.begin() + static_cast<std::ptrdiff_t>(cols * k));
  block.resize(per * cols);
  y.resize(per * 2 * k);
  double sum = 0.0;
  for (std::size_t row0 = 0; row0 < rows; row0 += per) {
    const std::size_t n = std::min(per, rows - row0);
    LORANK_RETURN_IF_ERROR(read(row0, n, block.data()));
    for (std::size_t i = 0; i < n * cols; ++i) sum += block[i] * block[i];
    if (k == 0) continue;
    // Y = W_blk·[V | V_r] (n×2k); P += U_blkᵀ·Y_V, P_r += U_r,blkᵀ·Y_r.
    linalg::gemm(true, false, to_int(n), to_int(2 * k), to_int(cols), block.data(), to_int(cols),
                 right.data(), to_int(cols), y.data(), to_int(n));
    linalg::gemm(true, false, to_int(k), to_int(k), to_int(n), d.left.data() + row0, to_int(rows),
                 y.data(), to_int(n), p.data(), to_int(k), 1.0);
    linalg::gemm(true, false, to_int(k), to_int(k), to_int(n), ur.data() + row0, to_int(rows),
                 y.data() + n * k, to_int(n), pr.data(), to_int(k), 1.0);
  }
  if (!std::isfinite(sum)) {
    return numerical_error("base tensor '{}' holds NaN or Inf", c.tensor);
  }
  c.weight_norm = std::sqrt(sum);
  if (k > 0) {
    c.projection_delta = frobenius(p);
    c.projection_random = frobenius(pr);
  }
  return Status();
}

Status w_top_singular_values(const linalg::RowBlockReader& read, std::size_t k, bool dense,
                             std::vector<double>& block, DefaultRngNormal& rng,
                             BaseComparison& c) {
  if (dense) {
    // The row-major rows×cols block is the column-major cols×rows Wᵀ: same σ.
    std::vector<double> s(std::min(c.rows, c.cols)), work;
    std::vector<int> iwork;
    LORANK_RETURN_IF_ERROR(linalg::gesdd_values(to_int(c.cols), to_int(c.rows), block.data(),
                                                to_int(c.cols), s.data(), work, iwork));
    c.w_singular_values.assign(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(k));
    c.w_svd = WSvdRoute::kDense;
    c.w_passes = 1;
    c.w_relative_error_bound = 0.0;
    return Status();
  }
  LORANK_ASSIGN_OR_RETURN(linalg::TopSingularValues top,
                          linalg::top_singular_values(c.rows, c.cols, k, read, rng));
  c.w_singular_values = std::move(top.sigma);
  c.w_svd = WSvdRoute::kKrylov;
  c.w_passes = top.passes + 1;  // + the projection pass
  c.w_relative_error_bound = top.relative_error_bound;
  return Status();
}

Result<BaseComparison> compare_module(const Adapter& adapter, const LoraModule& m,
                                      const std::vector<double>& spectrum,
                                      const AuditOptions& options) {
  const Checkpoint& base = *options.base;
  LORANK_ASSIGN_OR_RETURN(BaseTensorMatch match, find_base_tensor(base, adapter, m));
  BaseComparison c;
  c.tensor = match.tensor->name;
  c.tensor_type = match.tensor->type_name;
  c.transposed = match.transposed;
  c.rows = match.rows;
  c.cols = match.cols;
  if (!linalg::fits_lapack_int(c.rows) || !linalg::fits_lapack_int(c.cols)) {
    return not_supported("module '{}': base tensor '{}' ({}x{}) exceeds LAPACK's 32-bit dimensions",
                         m.name, c.tensor, c.rows, c.cols);
  }
  double sum = 0.0;
  for (double s : spectrum) sum += s * s;
  c.delta_norm = std::sqrt(sum);
  Directions d;
  LORANK_RETURN_IF_ERROR(delta_directions(adapter, m, match, d).with_context(
      fmt::format("module '{}'", m.name)));
  c.directions = d.k;
  DefaultRngNormal rng = module_rng(options.base_seed, m.name);
  std::vector<double> ur, vr;
  if (d.k > 0) {
    LORANK_RETURN_IF_ERROR(linalg::random_orthonormal_frame(c.rows, d.k, rng, ur));
    LORANK_RETURN_IF_ERROR(linalg::random_orthonormal_frame(c.cols, d.k, rng, vr));
  }
  const bool dense =
      options.w_svd == WSvdRoute::kDense ||
      (options.w_svd == WSvdRoute::kAuto &&
       static_cast<std::uint64_t>(c.rows) * c.cols <= options.dense_w_svd_max_elements);
  const linalg::RowBlockReader read = w_reader(base, match, m);
  std::vector<double> block;
  LORANK_RETURN_IF_ERROR(projection_pass(read, c.rows, c.cols, d, ur, vr, dense, block, c)
                             .with_context(fmt::format("module '{}'", m.name)));
  if (c.weight_norm > 0.0) c.relative_change = c.delta_norm / c.weight_norm;
  if (d.k > 0) {
    LORANK_RETURN_IF_ERROR(w_top_singular_values(read, d.k, dense, block, rng, c)
                               .with_context(fmt::format("module '{}': the SVD of '{}'", m.name, c.tensor)));
    double top = 0.0;
    for (double s : c.w_singular_values) top += s * s;
    c.projection_w_top = std::sqrt(top);
    if (c.projection_delta > 0.0) c.amplification = c.delta_norm / c.projection_delta;
  }
  base.release_pages(*match.tensor);
  return c;
}

}  // namespace

Result<std::vector<BaseComparison>> compare_with_base(
    const Adapter& adapter, const std::vector<std::vector<double>>& spectra,
    const AuditOptions& options) {
  if (adapter.format == AdapterFormat::kKohya) {
    return not_supported(
        "'{}' is a kohya adapter: lorank has no mapping from kohya module names (lora_unet_..., "
        "lora_te_...) to base tensor names, so it cannot be audited against a base",
        adapter.weights_path.string());
  }
  const std::size_t n = adapter.modules.size();
  std::vector<BaseComparison> out(n);
  std::vector<Status> failures(n);
  const std::vector<std::size_t> order = largest_modules_first(adapter.modules);
  std::mutex progress_mutex;
  std::size_t done = 0;
  // Modules in parallel, one BLAS thread each (as module_spectra).
  const linalg::SingleThreadedBlas single_blas;
  parallel_for(n, options.threads, [&](std::size_t job) {
    const std::size_t i = order[job];
    Result<BaseComparison> c = compare_module(adapter, adapter.modules[i], spectra[i], options);
    if (c) {
      out[i] = std::move(*c);
    } else {
      failures[i] = c.error();
    }
    if (options.progress) {  // after the spectra's n steps: n + done of 2n
      const std::lock_guard<std::mutex> lock(progress_mutex);
      options.progress(n + ++done, 2 * n);
    }
  });
  for (Status& s : failures) LORANK_RETURN_IF_ERROR(std::move(s));
  return out;
}

}  // namespace audit_internal
}  // namespace lorank
