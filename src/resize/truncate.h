// The two halves of truncating one module, split so that resize_adapter can choose k from
// the spectrum between them without a second factorisation. Internal to src/resize.
#ifndef LORANK_RESIZE_TRUNCATE_H_
#define LORANK_RESIZE_TRUNCATE_H_

#include <vector>

#include "linalg/factor_product.h"
#include "linalg/lora_svd.h"
#include "lorank/resize.h"

namespace lorank::resize_internal {

// Buffers for one thread's modules (grow only).
struct TruncateWorkspace {
  linalg::LoraSvdWorkspace svd_workspace;
  linalg::LoraSvd svd;       // from the factors as stored (R factors, no Q)
  linalg::LoraSvd explicit_q;  // the Householder fallback's, with Q_B and Q_A
  linalg::FactorProductBuffers product;
  std::vector<double> b, a, tb, ta;
};

// The core SVD of the module's B·A (unscaled) into ws.svd, streamed from the factors'
// stored bytes by CholeskyQR2 (Householder for what it cannot do), as the audit does.
// kNumerical naming "B[i, j]"/"A[i, j]" for non-finite factors or the scale.
Status module_svd(const LoraModule& m, TruncateWorkspace& ws);

// The singular values of s·B·A: |s|·svd.sigma.
std::vector<double> scaled_sigma(const linalg::LoraSvd& svd, double scale);

// The rank-k factors (see truncate_module), from ws.svd which REQUIRES module_svd(m, ws).
Result<TruncatedFactors> truncate_svd(const LoraModule& m, TruncateWorkspace& ws, int k,
                                      bool sigma_in_b, double new_scale);

}  // namespace lorank::resize_internal

#endif  // LORANK_RESIZE_TRUNCATE_H_
