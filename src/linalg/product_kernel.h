// Register-blocked product kernels: the LoRA fit's three small products per step and the
// Gram matrices / triangular-solve updates of the streaming CholeskyQR2 (r_factor_stream.cc).
//
// Every product has the form C[i,:] = s·Σ_k W(i,k)·X[k,:] (− S[i,:]): rows of X are
// contiguous and long (the vectorised axpy direction), while W is read one scalar at a
// time through strides, so the same kernel serves B·A, Bᵀ·E and E·Aᵀ without
// transposing the big operand. Row lengths of X, C and S are multiples of kLanes: the
// caller zero-pads, which leaves the fit bit-for-bit unchanged (padded rows and columns
// of the target and factors stay exactly zero).
#ifndef LORANK_LINALG_PRODUCT_KERNEL_H_
#define LORANK_LINALG_PRODUCT_KERNEL_H_

#include <cstddef>

#include "core/kernel_variant.h"

namespace lorank::detail {

inline constexpr std::size_t kLanes = 8;  // doubles per vector (AVX-512; AVX2 splits in two)

inline std::size_t round_up_lanes(std::size_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

// The scalar operand W of a product, W(i, k) = data[i * row_stride + k * col_stride].
struct Strided {
  const double* data;
  std::size_t row_stride;
  std::size_t col_stride;
};

// C (M×N) = s · W · X − S  (S may be null: then C = s·W·X).
// W is M×K (strided), X is K×N row-major, C and S are M×N row-major.
// `scratch` holds packed rows of W: at least scratch_size(K) doubles, so that the kernel
// never allocates. REQUIRES: N % kLanes == 0; C does not alias W, X, S or scratch.
void broadcast_product(double* C, Strided W, const double* X, const double* S, std::size_t M,
                       std::size_t N, std::size_t K, double s, double* scratch);
inline std::size_t scratch_size(std::size_t K) { return 8 * K; }

// Row strides (in doubles) of X, C and S for operands that are sub-blocks of wider
// matrices; the overload above uses N for all three.
struct Strides {
  std::size_t ldx;
  std::size_t ldc;
  std::size_t lds;
};
// As above, with explicit row strides. REQUIRES in addition: N <= each stride.
void broadcast_product(double* C, Strided W, const double* X, const double* S, std::size_t M,
                       std::size_t N, std::size_t K, double s, double* scratch,
                       const Strides& strides);
// C (M×N, row stride strides.ldc) += s · W · X: accumulation, e.g. of a Gram matrix over
// blocks of rows. strides.lds is unused. REQUIREMENTS as above.
void broadcast_product_add(double* C, Strided W, const double* X, std::size_t M, std::size_t N,
                           std::size_t K, double s, double* scratch, const Strides& strides);

// Forward substitution down a panel of P <= kLanes rows of length N, vectorised along the
// rows: for c = 0..P−1, Q[c,:] = (s·Y[c,:] − Σ_{l<c} L(c, l)·Q[l,:])·inv[c], with
// L(c, l) = l_data[c·l_stride + l]; rows of Q and Y are ld apart and Y may be Q (s = ±1
// keeps the scaling exact). The triangular-solve panel of the streamed CholeskyQR2.
// With T non-null, also writes the panel transposed and zero-padded to kLanes columns:
// T[t·ldt + c] = Q[c, t] for c < kLanes (0 for c >= P), saving a separate transposition.
// REQUIRES: N % kLanes == 0.
void substitute_panel(double* Q, const double* Y, std::size_t ld, std::size_t P, std::size_t N,
                      const double* l_data, std::size_t l_stride, const double* inv, double s,
                      double* T = nullptr, std::size_t ldt = 0);

// dst[j·ldd + i] = src[i·lds + j] for i < rows, j < cols (dst = srcᵀ), in 8×8 register
// tiles (three rounds of two-source shuffles); remainders element by element.
// REQUIRES: src and dst do not overlap.
void transpose(const double* src, std::size_t lds, double* dst, std::size_t ldd,
               std::size_t rows, std::size_t cols);

// G[k·g_stride + i] = Σ_j X[i,j]·Y[k,j] for i < M, k < K: K dot products per row of X,
// for products whose output is too narrow to vectorise (E·Aᵀ when r < kLanes).
// X is M×N, Y is K×N, both row-major. REQUIRES: N % kLanes == 0, 1 <= K < kLanes.
void row_dots(double* G, std::size_t g_stride, const double* X, const double* Y, std::size_t M,
              std::size_t N, std::size_t K);

// The variants behind the functions above (product_kernel.cc, compiled per instruction
// set; product_dispatch.cc calls the active one). Tests call each variant directly.
struct ProductKernels {
  void (*broadcast_product)(double*, Strided, const double*, const double*, std::size_t,
                            std::size_t, std::size_t, double, double*, const Strides&);
  void (*broadcast_product_add)(double*, Strided, const double*, std::size_t, std::size_t,
                                std::size_t, double, double*, const Strides&);
  void (*substitute_panel)(double*, const double*, std::size_t, std::size_t, std::size_t,
                           const double*, std::size_t, const double*, double, double*,
                           std::size_t);
  void (*transpose)(const double*, std::size_t, double*, std::size_t, std::size_t, std::size_t);
  void (*row_dots)(double*, std::size_t, const double*, const double*, std::size_t, std::size_t,
                   std::size_t);
};
LORANK_DECLARE_KERNEL_VARIANTS(ProductKernels, kProductKernels)

}  // namespace lorank::detail

#endif  // LORANK_LINALG_PRODUCT_KERNEL_H_
