// Block Lanczos on WᵀW for the top singular values of a streamed matrix (see the header).
#include "linalg/top_singular_values.h"

#include <algorithm>
#include <cmath>

#include "linalg/lapack.h"
#include "linalg/singular_vectors.h"

namespace lorank::linalg {
namespace {

int to_int(std::size_t v) { return static_cast<int>(v); }

// Oversampling of the Krylov block beyond k: a block at least as wide as a cluster of
// nearly equal σ converges on all of it.
constexpr std::size_t kOversample = 8;

// X (n×b, ld n) := X − Q·(Qᵀ·X) for Q n×m (ld n): one classical Gram–Schmidt sweep.
void project_out(std::size_t n, std::size_t m, std::size_t b, const double* q, double* x,
                 std::vector<double>& coeff) {
  if (m == 0) return;
  coeff.resize(m * b);
  gemm(true, false, to_int(m), to_int(b), to_int(n), q, to_int(n), x, to_int(n), coeff.data(),
       to_int(m));
  std::vector<double> qc(n * b);
  gemm(false, false, to_int(n), to_int(b), to_int(m), q, to_int(n), coeff.data(), to_int(m),
       qc.data(), to_int(n));
  for (std::size_t i = 0; i < n * b; ++i) x[i] -= qc[i];
}

// Orthonormal columns for X (n×b) in place, Householder QR then explicit Q.
Status orthonormalise(std::size_t n, std::size_t b, double* x, std::vector<double>& tau,
                      std::vector<double>& work) {
  tau.resize(b);
  LORANK_RETURN_IF_ERROR(geqrf(to_int(n), to_int(b), x, to_int(n), tau.data(), work));
  return orgqr(to_int(n), to_int(b), to_int(b), x, to_int(n), tau.data(), work);
}

double frobenius(const double* x, std::size_t count) {
  double s = 0.0;
  for (std::size_t i = 0; i < count; ++i) s += x[i] * x[i];
  return std::sqrt(s);
}

// Z := WᵀW·X for X cols×b (ld cols), one streamed pass over W's rows.
Status gram_times(std::size_t rows, std::size_t cols, std::size_t b, const RowBlockReader& read,
                  const double* x, double* z, std::vector<double>& block, std::vector<double>& t) {
  const std::size_t per = rows_per_block(cols);
  block.resize(per * cols);
  t.resize(per * b);
  std::fill(z, z + cols * b, 0.0);
  for (std::size_t row0 = 0; row0 < rows; row0 += per) {
    const std::size_t n = std::min(per, rows - row0);
    LORANK_RETURN_IF_ERROR(read(row0, n, block.data()));
    // The row-major n×cols block is the column-major cols×n matrix W_blkᵀ.
    gemm(true, false, to_int(n), to_int(b), to_int(cols), block.data(), to_int(cols), x,
         to_int(cols), t.data(), to_int(n));
    gemm(false, false, to_int(cols), to_int(b), to_int(n), block.data(), to_int(cols), t.data(),
         to_int(n), z, to_int(cols), 1.0);
  }
  return Status();
}

// Z := W·Wᵀ·X for X rows×b (ld rows), two streamed passes: T = Wᵀ·X, then Z = W·T.
Status outer_gram_times(std::size_t rows, std::size_t cols, std::size_t b,
                        const RowBlockReader& read, const double* x, double* z,
                        std::vector<double>& block, std::vector<double>& t) {
  const std::size_t per = rows_per_block(cols);
  block.resize(per * cols);
  t.assign(cols * b, 0.0);
  for (std::size_t row0 = 0; row0 < rows; row0 += per) {
    const std::size_t n = std::min(per, rows - row0);
    LORANK_RETURN_IF_ERROR(read(row0, n, block.data()));
    gemm(false, false, to_int(cols), to_int(b), to_int(n), block.data(), to_int(cols), x + row0,
         to_int(rows), t.data(), to_int(cols), 1.0);
  }
  for (std::size_t row0 = 0; row0 < rows; row0 += per) {
    const std::size_t n = std::min(per, rows - row0);
    LORANK_RETURN_IF_ERROR(read(row0, n, block.data()));
    gemm(true, false, to_int(n), to_int(b), to_int(cols), block.data(), to_int(cols), t.data(),
         to_int(cols), z + row0, to_int(rows));
  }
  return Status();
}

}  // namespace

std::size_t rows_per_block(std::size_t cols) {
  constexpr std::size_t kBlockDoubles = (std::size_t{4} << 20) / sizeof(double);
  return std::max<std::size_t>(1, kBlockDoubles / std::max<std::size_t>(cols, 1));
}

Status random_orthonormal_frame(std::size_t n, std::size_t k, DefaultRngNormal& rng,
                                std::vector<double>& out) {
  std::vector<double> draw(n * k);
  rng.fill(draw);
  out.resize(n * k);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < k; ++j) out[j * n + i] = draw[i * k + j];
  }
  std::vector<double> tau, work;
  return orthonormalise(n, k, out.data(), tau, work);
}

Result<TopSingularValues> top_singular_values(std::size_t rows, std::size_t cols, std::size_t k,
                                              const RowBlockReader& read, DefaultRngNormal& rng,
                                              const TopSingularValuesOptions& options) {
  // k may change under options.choose; the block is sized by the k asked for.
  if (k == 0 || k > std::min(rows, cols) || !fits_lapack_int(rows) || !fits_lapack_int(cols)) {
    return invalid_argument("top_singular_values: k = {} for a {}x{} matrix", k, rows, cols);
  }
  // The basis lives in the smaller of the two spaces: WᵀW (cols) for a tall W, one pass per
  // block; W·Wᵀ (rows) for a wide one, two passes per block but a basis that can span it all.
  const bool wide = cols > rows;
  const std::size_t dim = wide ? rows : cols;
  const std::size_t b = std::min(dim, k + kOversample);
  const std::size_t by_memory = options.max_basis_bytes / (2 * sizeof(double) * dim);
  const std::size_t cap = std::min(dim, std::max(b, by_memory));
  std::vector<double> q(dim * cap), z(dim * cap), g(cap * cap);
  std::vector<double> x, block, t, coeff, tau, work, eig, gm, u, vt, qs, zs, theta;
  std::vector<int> iwork;
  LORANK_RETURN_IF_ERROR(random_orthonormal_frame(dim, b, rng, x));
  TopSingularValues result;
  result.left = wide;
  std::size_t m = 0, width = b;
  // The Ritz vectors of the values returned, Q·s_i (already in qs), when asked for.
  auto finish = [&](std::size_t kept) {
    if (options.vectors) result.vectors.assign(qs.begin(), qs.begin() + static_cast<std::ptrdiff_t>(dim * kept));
    return result;
  };
  while (true) {
    // Append the orthonormal block X and its image Z_x = WᵀW·X.
    std::copy(x.begin(), x.end(), q.begin() + static_cast<std::ptrdiff_t>(m * dim));
    double* zx = z.data() + m * dim;
    if (wide) {
      LORANK_RETURN_IF_ERROR(outer_gram_times(rows, cols, width, read, x.data(), zx, block, t));
      result.passes += 2;
    } else {
      LORANK_RETURN_IF_ERROR(gram_times(rows, cols, width, read, x.data(), zx, block, t));
      ++result.passes;
    }
    for (std::size_t i = 0; i < dim * width; ++i) {
      if (!std::isfinite(zx[i])) return numerical_error("the matrix holds NaN or Inf");
    }
    // G's new columns Qᵀ·Z_x (m+width rows), mirrored into the new rows: G = QᵀWᵀWQ.
    const std::size_t m_new = m + width;
    coeff.resize(m_new * width);
    gemm(true, false, to_int(m_new), to_int(width), to_int(dim), q.data(), to_int(dim), zx,
         to_int(dim), coeff.data(), to_int(m_new));
    for (std::size_t j = 0; j < width; ++j) {
      for (std::size_t i = 0; i < m_new; ++i) g[(m + j) * cap + i] = coeff[j * m_new + i];
    }
    for (std::size_t i = m; i < m_new; ++i) {  // new row i: old columns mirror new column i
      for (std::size_t j = 0; j < m; ++j) g[j * cap + i] = g[i * cap + j];
    }
    for (std::size_t j = m; j < m_new; ++j) {  // the new diagonal block, symmetrised
      for (std::size_t i = j + 1; i < m_new; ++i) {
        const double s = 0.5 * (g[j * cap + i] + g[i * cap + j]);
        g[j * cap + i] = g[i * cap + j] = s;
      }
    }
    m = m_new;
    // Rayleigh–Ritz: G is symmetric positive semi-definite, so its SVD is its eigensystem.
    gm.resize(m * m);
    u.resize(m * m);
    vt.resize(m * m);
    for (std::size_t j = 0; j < m; ++j) {
      std::copy_n(g.begin() + static_cast<std::ptrdiff_t>(j * cap), m,
                  gm.begin() + static_cast<std::ptrdiff_t>(j * m));
    }
    eig.resize(m);
    LORANK_RETURN_IF_ERROR(gesdd_vectors(to_int(m), to_int(m), gm.data(), to_int(m), eig.data(),
                                         u.data(), to_int(m), vt.data(), to_int(m), work, iwork));
    RankChoice choice{k, k, true};
    if (options.choose) {
      theta.resize(m);
      for (std::size_t i = 0; i < m; ++i) theta[i] = std::sqrt(std::max(eig[i], 0.0));
      choice = options.choose(theta);
      choice.k = std::clamp<std::size_t>(choice.k, 1, m);
      choice.check = std::clamp<std::size_t>(choice.check, choice.k, m);
    }
    k = choice.k;
    result.decided = choice.decided;
    const std::size_t check = std::min(choice.check, m);
    // Residuals of the top `check` Ritz pairs: Z·s_i − θ_i²·Q·s_i.
    qs.resize(dim * check);
    zs.resize(dim * check);
    gemm(false, false, to_int(dim), to_int(check), to_int(m), q.data(), to_int(dim), u.data(),
         to_int(m), qs.data(), to_int(dim));
    gemm(false, false, to_int(dim), to_int(check), to_int(m), z.data(), to_int(dim), u.data(),
         to_int(m), zs.data(), to_int(dim));
    double bound = 0.0;
    for (std::size_t i = 0; i < check; ++i) {
      double r2 = 0.0;
      for (std::size_t l = 0; l < dim; ++l) {
        const double r = zs[i * dim + l] - eig[i] * qs[i * dim + l];
        r2 += r * r;
      }
      if (eig[i] > 0.0) bound = std::max(bound, std::sqrt(r2) / eig[i]);
    }
    result.relative_error_bound = 0.5 * bound;
    result.sigma.assign(k, 0.0);
    for (std::size_t i = 0; i < k; ++i) result.sigma[i] = std::sqrt(std::max(eig[i], 0.0));
    if (eig[0] == 0.0) {  // W = 0: every σ is 0, exactly
      result.relative_error_bound = 0.0;
      return finish(k);
    }
    if ((bound <= options.tolerance && choice.decided) || m >= cap) return finish(k);
    // The next block: Z_x made orthogonal to the basis (twice, then QR, then once more).
    width = std::min(b, cap - m);
    x.assign(zx, zx + dim * width);
    const double before = frobenius(x.data(), x.size());
    project_out(dim, m, width, q.data(), x.data(), coeff);
    project_out(dim, m, width, q.data(), x.data(), coeff);
    if (frobenius(x.data(), x.size()) <= 1e-13 * before) {
      return finish(k);  // the basis is an invariant subspace: the Ritz values are exact
    }
    LORANK_RETURN_IF_ERROR(orthonormalise(dim, width, x.data(), tau, work));
    project_out(dim, m, width, q.data(), x.data(), coeff);
    LORANK_RETURN_IF_ERROR(orthonormalise(dim, width, x.data(), tau, work));
  }
}

}  // namespace lorank::linalg
