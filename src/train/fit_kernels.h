// Register-blocked kernels for the LoRA fit's three small products per step.
//
// All operands are row-major with every row length a multiple of kLanes (the caller
// zero-pads; padding with zeros leaves the fit bit-for-bit unchanged because padded
// rows/columns of the target and factors stay exactly zero). The inner loops run over
// contiguous rows so that they vectorise as axpy updates; the products differ only in
// which operand is broadcast.
#ifndef LORANK_TRAIN_FIT_KERNELS_H_
#define LORANK_TRAIN_FIT_KERNELS_H_

#include <cstddef>

namespace lorank::detail {

inline constexpr std::size_t kLanes = 8;  // doubles per vector (AVX-512; AVX2 splits in two)

inline std::size_t round_up_lanes(std::size_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

// C (M×N) = s · Wtᵀ · X − S, i.e. C[i,:] = s·Σ_k Wt[k,i]·X[k,:] − S[i,:].
// Wt is K×M, X is K×N, S is M×N. REQUIRES: M % 4 == 0, N % kLanes == 0.
void residual_product(double* C, const double* Wt, const double* X, const double* S,
                      std::size_t M, std::size_t N, std::size_t K, double s);

// C (K×N) = Wt · X, i.e. C[k,:] = Σ_l Wt[k,l]·X[l,:]. Wt is K×L, X is L×N.
// REQUIRES: N % kLanes == 0.
void short_product(double* C, const double* Wt, const double* X, std::size_t K, std::size_t L,
                   std::size_t N);

// Dst (N×M) = Srcᵀ for Src (M×N). REQUIRES: M % kLanes == 0, N % kLanes == 0.
void transpose(double* dst, const double* src, std::size_t M, std::size_t N);

}  // namespace lorank::detail

#endif  // LORANK_TRAIN_FIT_KERNELS_H_
