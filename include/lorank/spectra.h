// The exact spectrum of every module of an adapter: singular values of s·B·A, computed
// from the factors (never the out×in product) in float64, modules in parallel.
#ifndef LORANK_SPECTRA_H_
#define LORANK_SPECTRA_H_

#include <functional>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/status.h"

namespace lorank {

struct SpectraOptions {
  unsigned threads = 0;  // 0 = one per core
  // Called after each module with (modules done, total), from the worker threads, one call
  // at a time (serialised by module_spectra). For progress bars; may be empty.
  std::function<void(std::size_t, std::size_t)> progress;
};

// Element i holds the min(rank, out, in) singular values of adapter.modules[i], descending;
// an all-zero module gives zeros. kNumerical names the tensor and element when a factor
// holds NaN or Inf (its spectrum would be meaningless); the first failing module (in file
// order) is reported.
Result<std::vector<std::vector<double>>> module_spectra(const Adapter& adapter,
                                                         const SpectraOptions& options = {});

}  // namespace lorank

#endif  // LORANK_SPECTRA_H_
