// The two halves of truncate_module, split so that resize_adapter can choose k from the
// spectrum between them without a second factorisation. Internal to src/resize.
#ifndef LORANK_RESIZE_TRUNCATE_H_
#define LORANK_RESIZE_TRUNCATE_H_

#include <string_view>
#include <vector>

#include "linalg/lora_svd.h"
#include "lorank/resize.h"

namespace lorank::resize_internal {

// Widens the module's factors (finite check naming `file` and the tensor) and fills `svd`
// with Q_B, Q_A and the core SVD of B·A (unscaled).
Status module_svd(const LoraModule& m, std::string_view file, linalg::LoraSvdWorkspace& ws,
                  linalg::LoraSvd& svd);

// The singular values of s·B·A: |s|·svd.sigma.
std::vector<double> scaled_sigma(const linalg::LoraSvd& svd, double scale);

// truncate_module's second half. REQUIRES svd from module_svd(m).
Result<TruncatedFactors> truncate_svd(const LoraModule& m, const linalg::LoraSvd& svd, int k,
                                      bool sigma_in_b, double new_scale);

}  // namespace lorank::resize_internal

#endif  // LORANK_RESIZE_TRUNCATE_H_
