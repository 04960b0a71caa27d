// The top-k singular values of a matrix too large to hold in double, read a block of rows
// at a time: block Lanczos (block Krylov subspace iteration with full reorthogonalisation)
// on WᵀW with Rayleigh–Ritz, stopped by a residual bound. For `audit --base`'s
// projection_w_top (docs/base-audit.md, "Accuracy of σ(W)").
//
// Method (Golub & Van Loan 4th ed. §10.3; Halko, Martinsson & Tropp, SIAM Rev. 53, 2011,
// §4.4; Musco & Musco, NeurIPS 2015): an orthonormal basis Q (cols×m) of the block Krylov
// space span{X, WᵀW·X, (WᵀW)²·X, …} of a Gaussian start block X, with Z = WᵀW·Q computed
// in one streamed pass of W per block (W_blk·X, then W_blkᵀ·(W_blk·X)). The Ritz values θ_i²
// are the eigenvalues of G = QᵀZ; θ_i ≤ σ_i(W) (Cauchy interlacing) and, with s_i G's
// eigenvector, r_i = Z·s_i − θ_i²·Q·s_i bounds the error: some eigenvalue of WᵀW lies within
// ‖r_i‖ of θ_i² (Parlett, The Symmetric Eigenvalue Problem, Thm 4.5.1). The iteration stops
// when ‖r_i‖ ≤ tolerance·θ_i² for every i ≤ k, so |σ − θ_i|/θ_i ≤ tolerance/2 to first order,
// or when the basis spans the whole space (then the values are exact up to rounding). A
// wide W (cols > rows) is done as W·Wᵀ in the rows-dimensional space instead (two passes
// per block: Wᵀ·X, then W·(Wᵀ·X)), so the basis is always in the smaller dimension.
#ifndef LORANK_LINALG_TOP_SINGULAR_VALUES_H_
#define LORANK_LINALG_TOP_SINGULAR_VALUES_H_

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "lorank/random.h"
#include "lorank/status.h"

namespace lorank::linalg {

// Reads rows [row0, row0 + n) of a rows×cols matrix into dst, row-major (n·cols doubles).
using RowBlockReader = std::function<Status(std::size_t row0, std::size_t n, double* dst)>;

// Rows per streamed block so that one block holds about 4 MiB of doubles (at least 1).
std::size_t rows_per_block(std::size_t cols);

// An n×k matrix with orthonormal columns spanning the columns of a Gaussian n×k draw
// G[i][j] = the (i·k + j)-th standard normal of `rng` (NumPy's `standard_normal((n, k))`),
// column-major into `out` (ld n). REQUIRES k ≤ n.
Status random_orthonormal_frame(std::size_t n, std::size_t k, DefaultRngNormal& rng,
                                std::vector<double>& out);

// How many values a rule wants, decided from the current Ritz values θ_1 ≥ … ≥ θ_m (all of
// them, descending) while the basis grows (`lorank extract`'s --energy / --threshold).
struct RankChoice {
  std::size_t k = 1;      // values to return, 1 ≤ k ≤ m
  std::size_t check = 1;  // leading values whose residual must reach the tolerance (≥ k:
                          // k + 1 resolves the boundary σ_k vs σ_{k+1} of a threshold)
  bool decided = true;    // false: the rule cannot be met from these values yet (the
                          // basis must grow), so the iteration may not stop on the bound
};
using RankChooser = std::function<RankChoice(std::span<const double> theta)>;

struct TopSingularValuesOptions {
  double tolerance = 1e-10;  // on max_i ‖r_i‖/θ_i² (see above)
  // Q and Z together may take this much (caps the basis size m; at least one block).
  std::size_t max_basis_bytes = std::size_t{64} << 20;
  // Also return the Ritz vectors of the k values (TopSingularValues::vectors).
  bool vectors = false;
  // Set: k is decided by the rule on every iteration (the k argument then only sizes the
  // Krylov block, k + 8 wide); the values returned are the rule's last k.
  RankChooser choose;
};

struct TopSingularValues {
  std::vector<double> sigma;  // k values, descending
  std::size_t passes = 0;     // streamed passes over the matrix
  // max_i ‖r_i‖/(2·θ_i²): the relative error bound of each σ to first order (0 for a
  // zero matrix or an invariant subspace).
  double relative_error_bound = 0.0;
  // With options.vectors: the k unit Ritz vectors, column-major, in the iteration's space:
  // right singular vectors (cols×k) for a tall or square matrix, left ones (rows×k) for a
  // wide one (`left`). For Rayleigh–Ritz vectors ‖W·v_i‖ = θ_i and W·v_i ⟂ W·v_j exactly,
  // so ‖W·V‖²_F = Σθ_i² whatever the convergence.
  std::vector<double> vectors;
  bool left = false;
  bool decided = true;  // the chooser's last `decided` (true without a chooser)
};

// σ_1..σ_k of the rows×cols matrix that `read` returns, 1 ≤ k ≤ min(rows, cols), the
// start block drawn from `rng` (k chosen by options.choose when set). Errors: `read`'s; kNumerical if LAPACK fails or a value
// is NaN/Inf. When the basis reaches its size cap first, the values are returned with
// the bound reached (which may exceed the tolerance).
Result<TopSingularValues> top_singular_values(std::size_t rows, std::size_t cols, std::size_t k,
                                              const RowBlockReader& read, DefaultRngNormal& rng,
                                              const TopSingularValuesOptions& options = {});

}  // namespace lorank::linalg

#endif  // LORANK_LINALG_TOP_SINGULAR_VALUES_H_
