// The product kernels' entry points: each forwards to the active variant
// (product_kernel.cc, compiled per instruction set; core/kernel_variant.h).
#include "linalg/product_kernel.h"

namespace lorank::detail {

void broadcast_product(double* C, Strided W, const double* X, const double* S, std::size_t M,
                       std::size_t N, std::size_t K, double s, double* scratch) {
  kProductKernels_active().broadcast_product(C, W, X, S, M, N, K, s, scratch, Strides{N, N, N});
}

void broadcast_product(double* C, Strided W, const double* X, const double* S, std::size_t M,
                       std::size_t N, std::size_t K, double s, double* scratch,
                       const Strides& strides) {
  kProductKernels_active().broadcast_product(C, W, X, S, M, N, K, s, scratch, strides);
}

void broadcast_product_add(double* C, Strided W, const double* X, std::size_t M, std::size_t N,
                           std::size_t K, double s, double* scratch, const Strides& strides) {
  kProductKernels_active().broadcast_product_add(C, W, X, M, N, K, s, scratch, strides);
}

void substitute_panel(double* Q, const double* Y, std::size_t ld, std::size_t P, std::size_t N,
                      const double* l_data, std::size_t l_stride, const double* inv, double s,
                      double* T, std::size_t ldt) {
  kProductKernels_active().substitute_panel(Q, Y, ld, P, N, l_data, l_stride, inv, s, T, ldt);
}

void transpose(const double* src, std::size_t lds, double* dst, std::size_t ldd,
               std::size_t rows, std::size_t cols) {
  kProductKernels_active().transpose(src, lds, dst, ldd, rows, cols);
}

void row_dots(double* G, std::size_t g_stride, const double* X, const double* Y, std::size_t M,
              std::size_t N, std::size_t K) {
  kProductKernels_active().row_dots(G, g_stride, X, Y, M, N, K);
}

}  // namespace lorank::detail
