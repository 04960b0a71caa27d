#include "train/fit_kernels.h"

#include <cstdint>
#include <cstring>

namespace lorank::detail {
namespace {

// GCC/Clang vector extension: eight doubles, unaligned access through memcpy.
typedef double Vec __attribute__((vector_size(kLanes * sizeof(double))));

inline Vec load(const double* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(double* p, Vec v) { std::memcpy(p, &v, sizeof v); }
// Not `Vec{} + x`: the compiler may not fold 0.0 + x (it would turn -0.0 into +0.0).
inline Vec broadcast(double x) { return Vec{x, x, x, x, x, x, x, x}; }

// Rows i..i+3 of C, columns j..j+CB*kLanes: accumulators stay in registers over k.
template <int CB>
inline void residual_tile(double* C, const double* Wt, const double* X, const double* S,
                          std::size_t M, std::size_t N, std::size_t K, double s, std::size_t i,
                          std::size_t j) {
  Vec acc[4][CB];
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < CB; ++c) acc[r][c] = Vec{};  // not `= {}`: that becomes a memset
  }
  for (std::size_t k = 0; k < K; ++k) {
    Vec x[CB];
    for (int c = 0; c < CB; ++c) x[c] = load(X + k * N + j + c * kLanes);
    for (int r = 0; r < 4; ++r) {
      const Vec w = broadcast(Wt[k * M + i + r]);
      for (int c = 0; c < CB; ++c) acc[r][c] += w * x[c];
    }
  }
  const Vec vs = broadcast(s);
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < CB; ++c) {
      const std::size_t off = (i + r) * N + j + c * kLanes;
      store(C + off, vs * acc[r][c] - load(S + off));
    }
  }
}

// Rows k..k+KB-1 of C, columns j..j+CB*kLanes.
template <int KB, int CB>
inline void short_tile(double* C, const double* Wt, const double* X, std::size_t L, std::size_t N,
                       std::size_t k, std::size_t j) {
  Vec acc[KB][CB];
  for (int r = 0; r < KB; ++r) {
    for (int c = 0; c < CB; ++c) acc[r][c] = Vec{};
  }
  for (std::size_t l = 0; l < L; ++l) {
    Vec x[CB];
    for (int c = 0; c < CB; ++c) x[c] = load(X + l * N + j + c * kLanes);
    for (int r = 0; r < KB; ++r) {
      const Vec w = broadcast(Wt[(k + r) * L + l]);
      for (int c = 0; c < CB; ++c) acc[r][c] += w * x[c];
    }
  }
  for (int r = 0; r < KB; ++r) {
    for (int c = 0; c < CB; ++c) store(C + (k + r) * N + j + c * kLanes, acc[r][c]);
  }
}

template <int KB>
void short_rows(double* C, const double* Wt, const double* X, std::size_t L, std::size_t N,
                std::size_t k) {
  // Wider column blocks when few rows share the X loads; 16 accumulators either way.
  constexpr int kCB = KB <= 2 ? 8 : 4;
  std::size_t j = 0;
  for (; j + kCB * kLanes <= N; j += kCB * kLanes) short_tile<KB, kCB>(C, Wt, X, L, N, k, j);
  for (; j < N; j += kLanes) short_tile<KB, 1>(C, Wt, X, L, N, k, j);
}

}  // namespace

void residual_product(double* C, const double* Wt, const double* X, const double* S,
                      std::size_t M, std::size_t N, std::size_t K, double s) {
  for (std::size_t i = 0; i < M; i += 4) {
    std::size_t j = 0;
    for (; j + 4 * kLanes <= N; j += 4 * kLanes) residual_tile<4>(C, Wt, X, S, M, N, K, s, i, j);
    for (; j < N; j += kLanes) residual_tile<1>(C, Wt, X, S, M, N, K, s, i, j);
  }
}

void short_product(double* C, const double* Wt, const double* X, std::size_t K, std::size_t L,
                   std::size_t N) {
  std::size_t k = 0;
  for (; k + 4 <= K; k += 4) short_rows<4>(C, Wt, X, L, N, k);
  switch (K - k) {
    case 3: short_rows<3>(C, Wt, X, L, N, k); break;
    case 2: short_rows<2>(C, Wt, X, L, N, k); break;
    case 1: short_rows<1>(C, Wt, X, L, N, k); break;
    default: break;
  }
}

void transpose(double* dst, const double* src, std::size_t M, std::size_t N) {
  // 8×8 blocks transposed in registers: three rounds of two-source shuffles (pairs of
  // rows, then pairs of pairs, then halves), 24 shuffles per 64 values.
  typedef std::int64_t Mask __attribute__((vector_size(kLanes * sizeof(std::int64_t))));
  const Mask kEven = {0, 8, 2, 10, 4, 12, 6, 14}, kOdd = {1, 9, 3, 11, 5, 13, 7, 15};
  const Mask kPairLo = {0, 1, 8, 9, 4, 5, 12, 13}, kPairHi = {2, 3, 10, 11, 6, 7, 14, 15};
  const Mask kHalfLo = {0, 1, 2, 3, 8, 9, 10, 11}, kHalfHi = {4, 5, 6, 7, 12, 13, 14, 15};
  for (std::size_t i0 = 0; i0 < M; i0 += kLanes) {
    for (std::size_t j0 = 0; j0 < N; j0 += kLanes) {
      Vec r[kLanes], a[kLanes], b[kLanes];
      for (std::size_t i = 0; i < kLanes; ++i) r[i] = load(src + (i0 + i) * N + j0);
      for (std::size_t i = 0; i < kLanes; i += 2) {
        a[i] = __builtin_shuffle(r[i], r[i + 1], kEven);
        a[i + 1] = __builtin_shuffle(r[i], r[i + 1], kOdd);
      }
      for (std::size_t h = 0; h < kLanes; h += 4) {
        b[h + 0] = __builtin_shuffle(a[h + 0], a[h + 2], kPairLo);
        b[h + 2] = __builtin_shuffle(a[h + 0], a[h + 2], kPairHi);
        b[h + 1] = __builtin_shuffle(a[h + 1], a[h + 3], kPairLo);
        b[h + 3] = __builtin_shuffle(a[h + 1], a[h + 3], kPairHi);
      }
      for (std::size_t c = 0; c < 4; ++c) {
        store(dst + (j0 + c) * M + i0, __builtin_shuffle(b[c], b[c + 4], kHalfLo));
        store(dst + (j0 + c + 4) * M + i0, __builtin_shuffle(b[c], b[c + 4], kHalfHi));
      }
    }
  }
}

}  // namespace lorank::detail
