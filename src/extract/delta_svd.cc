// ΔW's top-k directions by block Lanczos, the rank chosen by the rule while the basis grows,
// then one more streamed pass for the factors and the residual (see delta_svd.h).
#include "extract/delta_svd.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "linalg/singular_vectors.h"

namespace lorank::extract_internal {
namespace {

int to_int(std::size_t v) { return static_cast<int>(v); }

// Below this ‖ΔW − L·R‖²/‖ΔW‖², the subtraction ‖ΔW‖² − ‖ΔW·V‖² has lost more than half
// its digits to cancellation (each term carries ≈ 1e-16 relative rounding), so the error is
// computed from the residual rows instead.
constexpr double kCancellationLevel = 1e-6;

Status nonfinite_error(const Checkpoint& c, const CheckpointTensor& t, std::size_t row) {
  return invalid_data("tensor '{}' of '{}' holds NaN or Inf (row {})", t.name,
                      c.files()[t.shard].string(), row);
}

Status check_finite(const Checkpoint& c, const CheckpointTensor& t, std::size_t row0,
                    std::size_t cols, std::span<const double> v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) return nonfinite_error(c, t, row0 + i / cols);
  }
  return Status();
}

// The rule on the current Ritz values (all m of them, descending).
linalg::RankChoice choose_rank(const RankRule& rule, std::span<const double> theta,
                               double delta_sq, std::size_t dim, std::size_t cap) {
  const std::size_t m = theta.size();
  const bool complete = m >= dim;
  linalg::RankChoice c;
  if (rule.kind() == RankRule::Kind::kEnergy) {
    // Smallest k with Σ_{i≤k}θ² ≥ p·‖ΔW‖²_F (exact total): θ only grow as the basis does,
    // so a k found now can only shrink; none found means the basis must grow.
    const double want = rule.param() * delta_sq;
    double cum = 0.0;
    c.k = m;
    c.decided = complete;
    for (std::size_t i = 0; i < m; ++i) {
      cum += theta[i] * theta[i];
      if (cum >= want) {
        c.k = i + 1;
        c.decided = true;
        break;
      }
    }
    c.check = c.k;
  } else {  // threshold: #{θ_i ≥ T·θ_1}, with θ_{k+1} resolved below the line
    std::size_t k = 0;
    while (k < m && theta[k] >= rule.param() * theta[0]) ++k;
    c.k = std::max<std::size_t>(k, 1);
    c.decided = k < m || complete;
    c.check = std::min(m, c.k + 1);
  }
  if (c.k >= cap) {  // --max-rank: the cap decides
    c.k = cap;
    c.check = cap;
    c.decided = true;
  }
  return c;
}

}  // namespace

DeltaReader::DeltaReader(const Checkpoint& base, const CheckpointTensor& b, const Checkpoint& tuned,
                         const CheckpointTensor& t)
    : base_(base), b_(b), tuned_(tuned), t_(t), rows_(t.row_count()), cols_(t.row_length()) {}

Status DeltaReader::operator()(std::size_t row0, std::size_t n, double* dst) {
  scratch_.resize(n * cols_);
  std::span<double> out(dst, n * cols_);
  LORANK_RETURN_IF_ERROR(tuned_.read_rows(t_, row0, out));
  LORANK_RETURN_IF_ERROR(base_.read_rows(b_, row0, scratch_));
  LORANK_RETURN_IF_ERROR(check_finite(tuned_, t_, row0, cols_, out));
  LORANK_RETURN_IF_ERROR(check_finite(base_, b_, row0, cols_, scratch_));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] -= scratch_[i];
  return Status();
}

Result<DeltaNorms> delta_norms(const Checkpoint& base, const CheckpointTensor& b,
                               const Checkpoint& tuned, const CheckpointTensor& t) {
  DeltaReader reader(base, b, tuned, t);
  const std::size_t rows = t.row_count(), cols = t.row_length();
  const std::size_t per = linalg::rows_per_block(cols);
  std::vector<double> block, w;
  DeltaNorms norms;
  for (std::size_t row0 = 0; row0 < rows; row0 += per) {
    const std::size_t n = std::min(per, rows - row0);
    block.resize(n * cols);
    w.resize(n * cols);
    LORANK_RETURN_IF_ERROR(reader(row0, n, block.data()));
    LORANK_RETURN_IF_ERROR(base.read_rows(b, row0, w));
    for (double v : block) norms.delta_sq += v * v;
    for (double v : w) norms.base_sq += v * v;
  }
  return norms;
}

Result<DeltaFactors> delta_factors(DeltaReader& reader, double delta_sq,
                                   const ExtractOptions& options, ExtractedMatrix& matrix) {
  const auto start = std::chrono::steady_clock::now();
  const std::size_t rows = reader.rows(), cols = reader.cols();
  const std::size_t dim = std::min(rows, cols);
  const std::size_t cap = std::min(dim, options.max_rank.value_or(dim));
  const bool fixed = options.rule.kind() == RankRule::Kind::kFixed;
  const std::size_t guess =
      std::min(cap, fixed ? static_cast<std::size_t>(options.rule.param()) : std::size_t{16});
  linalg::TopSingularValuesOptions lanczos;
  // The residual test ‖r_i‖ ≤ tol'·θ_i² bounds |σ_i − θ_i|/θ_i by tol'/2 (first order).
  lanczos.tolerance = 2.0 * options.tolerance;
  lanczos.vectors = true;
  if (!fixed) {
    lanczos.choose = [&](std::span<const double> theta) {
      return choose_rank(options.rule, theta, delta_sq, dim, cap);
    };
  }
  DefaultRngNormal rng(options.seed);
  const linalg::RowBlockReader read = reader.as_reader();
  LORANK_ASSIGN_OR_RETURN(linalg::TopSingularValues top,
                          linalg::top_singular_values(rows, cols, std::max<std::size_t>(guess, 1),
                                                      read, rng, lanczos));
  const std::size_t k = top.sigma.size();
  matrix.k = k;
  matrix.sigma = top.sigma;
  matrix.passes = top.passes + 1;  // + the Frobenius pass
  matrix.bound = top.relative_error_bound;
  matrix.certified = top.relative_error_bound <= options.tolerance && top.decided;
  DeltaFactors f;
  f.left.assign(rows * k, 0.0);
  f.right.assign(k * cols, 0.0);
  const std::size_t per = linalg::rows_per_block(cols);
  std::vector<double> block(per * cols), t(per * k), back(per * cols);
  double projected_sq = 0.0, residual_sq = 0.0;
  const std::vector<double>& vec = top.vectors;
  if (!top.left) {  // V cols×k: L = ΔW·V block by block, and the residual ΔW_blk(I − VVᵀ)
    for (std::size_t row0 = 0; row0 < rows; row0 += per) {
      const std::size_t n = std::min(per, rows - row0);
      LORANK_RETURN_IF_ERROR(read(row0, n, block.data()));
      linalg::gemm(true, false, to_int(n), to_int(k), to_int(cols), block.data(), to_int(cols),
                   vec.data(), to_int(cols), t.data(), to_int(n));
      linalg::gemm(false, true, to_int(cols), to_int(n), to_int(k), vec.data(), to_int(cols),
                   t.data(), to_int(n), back.data(), to_int(cols));
      for (std::size_t i = 0; i < n * cols; ++i) {
        const double r = block[i] - back[i];
        residual_sq += r * r;
      }
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < k; ++j) f.left[(row0 + i) * k + j] = t[j * n + i];
      }
    }
    for (std::size_t j = 0; j < k; ++j) {
      for (std::size_t c = 0; c < cols; ++c) f.right[j * cols + c] = vec[j * cols + c];
    }
    for (double v : f.left) projected_sq += v * v;
    matrix.passes += 1;
    matrix.error_direct = true;
  } else {  // U rows×k: R = Uᵀ·ΔW in one pass; the residual (I − UUᵀ)ΔW in another if needed
    std::vector<double> yt(cols * k, 0.0);  // Rᵀ, column-major cols×k
    for (std::size_t row0 = 0; row0 < rows; row0 += per) {
      const std::size_t n = std::min(per, rows - row0);
      LORANK_RETURN_IF_ERROR(read(row0, n, block.data()));
      linalg::gemm(false, false, to_int(cols), to_int(k), to_int(n), block.data(), to_int(cols),
                   vec.data() + row0, to_int(rows), yt.data(), to_int(cols), 1.0);
    }
    matrix.passes += 1;
    for (std::size_t j = 0; j < k; ++j) {
      for (std::size_t i = 0; i < rows; ++i) f.left[i * k + j] = vec[j * rows + i];
      for (std::size_t c = 0; c < cols; ++c) f.right[j * cols + c] = yt[j * cols + c];
    }
    for (double v : yt) projected_sq += v * v;
    if (delta_sq - projected_sq <= kCancellationLevel * delta_sq) {
      for (std::size_t row0 = 0; row0 < rows; row0 += per) {
        const std::size_t n = std::min(per, rows - row0);
        LORANK_RETURN_IF_ERROR(read(row0, n, block.data()));
        linalg::gemm(false, true, to_int(cols), to_int(n), to_int(k), yt.data(), to_int(cols),
                     vec.data() + row0, to_int(rows), back.data(), to_int(cols));
        for (std::size_t i = 0; i < n * cols; ++i) {
          const double r = block[i] - back[i];
          residual_sq += r * r;
        }
      }
      matrix.passes += 1;
      matrix.error_direct = true;
    }
  }
  double ritz_sq = 0.0;
  for (double v : top.sigma) ritz_sq += v * v;
  matrix.retained_energy = delta_sq > 0.0 ? std::min(1.0, projected_sq / delta_sq) : 1.0;
  const double subtracted = std::max(0.0, delta_sq - projected_sq);
  const bool cancelled = subtracted <= kCancellationLevel * delta_sq;
  const double error_sq = matrix.error_direct ? residual_sq : subtracted;
  matrix.error = std::sqrt(error_sq);
  // Eckart–Young: the optimum is sqrt(‖ΔW‖² − Σσ_i²) ≤ the error, and since θ_i ≤ σ_i ≤
  // θ_i(1 + δ) (δ the bound), error² − optimum² = Σ(σ_i² − θ_i²) ≤ Σθ_i²((1+δ)² − 1).
  // The estimate uses σ̂ = θ unless the subtraction has cancelled, where the error itself is
  // the estimate (the two differ by less than the lower bound's margin).
  const double d = top.relative_error_bound;
  matrix.optimum = cancelled ? matrix.error : std::sqrt(std::max(0.0, delta_sq - ritz_sq));
  matrix.optimum_lower = std::sqrt(std::max(0.0, error_sq - ritz_sq * ((1.0 + d) * (1.0 + d) - 1.0)));
  matrix.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return f;
}

}  // namespace lorank::extract_internal
