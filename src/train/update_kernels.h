// The fit's plain gradient step y[i] −= a·x[i], per instruction-set variant
// (update_kernel.cc; core/kernel_variant.h). Two roundings per element, as NumPy's
// `B -= lr * gB` (the file is built with -ffp-contract=off): the same bits at every level.
#ifndef LORANK_TRAIN_UPDATE_KERNELS_H_
#define LORANK_TRAIN_UPDATE_KERNELS_H_

#include <cstddef>

#include "core/kernel_variant.h"

namespace lorank::train {

struct UpdateKernels {
  void (*subtract_scaled)(double* y, const double* x, double a, std::size_t n);
};
LORANK_DECLARE_KERNEL_VARIANTS(UpdateKernels, kUpdateKernels)

}  // namespace lorank::train

#endif  // LORANK_TRAIN_UPDATE_KERNELS_H_
