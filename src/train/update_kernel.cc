// See update_kernels.h. Compiled once per variant (core/kernel_variant.h).
#include "train/update_kernels.h"

#ifndef LORANK_KERNEL_VARIANT
#error "compiled once per variant by CMakeLists.txt with -DLORANK_KERNEL_VARIANT=..."
#endif

namespace lorank::train::LORANK_KERNEL_VARIANT {
namespace {

void subtract_scaled(double* y, const double* x, double a, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] -= a * x[i];
}

}  // namespace

extern const UpdateKernels kUpdateKernels = {subtract_scaled};

}  // namespace lorank::train::LORANK_KERNEL_VARIANT
