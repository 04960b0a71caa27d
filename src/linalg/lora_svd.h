// The thin SVD of a LoRA product B·A from its factors, never forming the out×in product:
// B = Q_B·R_B, Aᵀ = Q_A·R_A, M = R_B·R_Aᵀ = U_M·Σ·V_Mᵀ, so
// B·A = (Q_B·U_M)·Σ·(Q_A·V_M)ᵀ (Golub & Van Loan 4th ed., §5.2, §8.6). Shared by
// `lorank compare` (singular directions) and `lorank resize` (truncated factors).
#ifndef LORANK_LINALG_LORA_SVD_H_
#define LORANK_LINALG_LORA_SVD_H_

#include <span>
#include <vector>

#include "linalg/factor_source.h"
#include "linalg/r_factor.h"
#include "lorank/spectrum.h"
#include "lorank/status.h"

namespace lorank::linalg {

// Column-major throughout. kb = min(out, r), ka = min(in, r), count = min(out, in, r).
struct LoraSvd {
  int out = 0, in = 0, r = 0, kb = 0, ka = 0, count = 0;
  std::vector<double> rb;     // R_B, kb×r upper trapezoidal, ld kb
  std::vector<double> ra;     // R_A, ka×r upper trapezoidal, ld ka
  std::vector<double> qb;     // out×kb, ld out, orthonormal columns (only if asked for)
  std::vector<double> qa;     // in×ka, ld in (only if asked for)
  std::vector<double> u;      // U_M, kb×count, ld kb
  std::vector<double> vt;     // V_Mᵀ, count×ka, ld count
  std::vector<double> sigma;  // σ(B·A) (unscaled), `count` values, descending
};

// Reusable buffers (grow only). Not thread-safe: one per thread.
class LoraSvdWorkspace {
 public:
  // Fills `out` for factors `b` (out×r) and `a` (r×in), row-major and finite, by
  // Householder QR. Forms Q_B when `want_qb`, Q_A when `want_qa` (each costs an orgqr):
  // orthonormal to working precision even for rank-deficient factors. REQUIRES (else
  // kInvalidArgument) b.size() == out·r, a.size() == r·in, dimensions within LAPACK's
  // 32-bit range. A zero dimension gives count = 0. LAPACK failure → kNumerical.
  Status compute(std::span<const double> b, std::span<const double> a, LoraShape shape,
                 bool want_qb, bool want_qa, LoraSvd& out);

  // The same without Q, from the factors as stored: `b` is B (out×r, row-major) and `a` is
  // Aᵀ (in×r, column-major), their R factors computed by `method` streamed over blocks
  // of rows (see SpectrumWorkspace). `out.qb`/`out.qa` stay empty. kNumerical naming
  // "B[i, j]"/"A[i, j]" for a NaN/Inf element. REQUIRES shapes as above.
  Status compute(const FactorSource& b, const FactorSource& a, SpectrumMethod method,
                 LoraSvd& out);

 private:
  Status core_svd(LoraSvd& d);

  RFactorBuffers factor_;
  std::vector<double> xb_, xa_, tau_b_, tau_a_, core_, work_;
  std::vector<int> iwork_;
};

}  // namespace lorank::linalg

#endif  // LORANK_LINALG_LORA_SVD_H_
