// The exact spectrum of every module of an adapter: singular values of s·B·A, computed
// from the factors (never the out×in product) in float64, modules in parallel.
#ifndef LORANK_SPECTRA_H_
#define LORANK_SPECTRA_H_

#include <vector>

#include "lorank/adapter.h"
#include "lorank/status.h"

namespace lorank {

struct SpectraOptions {
  unsigned threads = 0;  // 0 = one per core
};

// Element i holds the min(rank, out, in) singular values of adapter.modules[i], descending;
// an all-zero module gives zeros. kNumerical names the tensor and element when a factor
// holds NaN or Inf (its spectrum would be meaningless); the first failing module (in file
// order) is reported.
Result<std::vector<std::vector<double>>> module_spectra(const Adapter& adapter,
                                                         const SpectraOptions& options = {});

}  // namespace lorank

#endif  // LORANK_SPECTRA_H_
