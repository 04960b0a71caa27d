// The product kernels, compiled once per instruction-set variant (core/kernel_variant.h);
// the public entry points that dispatch to them are in product_dispatch.cc.
//
// Bits: within a variant every C element is s·(Σ_k W(i,k)·X(k,j), summed in k order) [− S],
// whatever the tile shape, so the register blocking below may differ per variant. The avx2
// and avx512 variants both fuse each multiply-add (FMA) and agree bit for bit; the generic
// variant (SSE2, no FMA) rounds products and sums separately and so differs from them by
// rounding (tests/linalg/kernel_variants_test.cc states the bound).
#include <cstring>

#include "core/kernel_variant.h"
#include "linalg/product_kernel.h"

#ifndef LORANK_KERNEL_VARIANT
#error "compiled once per variant by CMakeLists.txt with -DLORANK_KERNEL_VARIANT=..."
#endif

namespace lorank::detail::LORANK_KERNEL_VARIANT {
namespace {

// Register budget of a tile, in 8-double accumulators: AVX-512 has 32 vector registers of
// 8 doubles, AVX2 16 of 4, SSE2 16 of 2. Each budget leaves room for the loaded row of X
// and the broadcasts, so the k loop never spills.
#if defined(__AVX512F__)
constexpr int kMaxRows = 4;
constexpr bool kTallBlocks = true;  // 8-row blocks for short rows
constexpr int columns_for(int rows) { return rows <= 2 ? 8 : (rows <= 4 ? 4 : 2); }
#elif defined(__AVX2__)
constexpr int kMaxRows = 4;
constexpr bool kTallBlocks = false;
constexpr int columns_for(int rows) { return rows <= 1 ? 4 : (rows <= 2 ? 2 : 1); }
#else
constexpr int kMaxRows = 2;
constexpr bool kTallBlocks = false;
constexpr int columns_for(int rows) { return rows <= 1 ? 2 : 1; }
#endif

// What a tile does with its accumulators: C = s·acc, C = s·acc − S, or C += s·acc.
constexpr int kStore = 0, kSubtract = 1, kAccumulate = 2;

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

// Rows i..i+RB-1 and columns j..j+CB·kLanes-1 of C: RB·CB accumulators stay in
// registers across the whole k loop (at most 16 of AVX-512's 32 vector registers).
// `pw` holds W's rows i..i+RB-1 packed k-major (pw[k·RB + r] = W(i+r, k)), so the RB
// broadcasts of one k are adjacent and the loop needs no stride arithmetic.
// With ld > 0, `pw` is instead W's row i itself (unit column stride, rows ld apart).
// The tile's arithmetic is in the target's own vector width: GCC lowers arrays of wider
// generic vectors through the stack (measured: 4 GFLOP/s instead of 40 on AVX2). The
// values and the order of operations per element are the same at every width.
#if defined(__AVX512F__)
constexpr int kNative = 8;
#elif defined(__AVX2__)
constexpr int kNative = 4;
#else
constexpr int kNative = 2;
#endif
typedef double NVec __attribute__((vector_size(kNative * sizeof(double))));
inline NVec nload(const double* p) {
  NVec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void nstore(double* p, NVec v) { std::memcpy(p, &v, sizeof v); }
// x − 0 is x for every x, −0 included (0 + x would turn −0 into +0): a plain broadcast.
inline NVec nbroadcast(double x) { return x - NVec{}; }

template <int RB, int CB, int kMode>
inline void tile(double* C, const double* pw, std::size_t ld, const double* X, const double* S,
                 const Strides& st, std::size_t K, double s, std::size_t i, std::size_t j) {
  constexpr int kV = CB * static_cast<int>(kLanes) / kNative;  // native vectors per row
  NVec acc[RB][kV];
  for (int r = 0; r < RB; ++r) {
    for (int c = 0; c < kV; ++c) acc[r][c] = NVec{};  // not `= {}`: that becomes a memset
  }
  const double* x = X + j;
  const std::size_t w_row = ld ? ld : 1, w_k = ld ? 1 : RB;
  for (std::size_t k = 0; k < K; ++k, pw += w_k, x += st.ldx) {
    NVec xv[kV];
    for (int c = 0; c < kV; ++c) xv[c] = nload(x + c * kNative);
    for (int r = 0; r < RB; ++r) {
      const NVec wv = nbroadcast(pw[r * w_row]);
      for (int c = 0; c < kV; ++c) acc[r][c] += wv * xv[c];
    }
  }
  const NVec vs = nbroadcast(s);
  for (int r = 0; r < RB; ++r) {
    for (int c = 0; c < kV; ++c) {
      const std::size_t col = j + c * kNative;
      if constexpr (kMode == kSubtract) {
        nstore(C + (i + r) * st.ldc + col, vs * acc[r][c] - nload(S + (i + r) * st.lds + col));
      } else if constexpr (kMode == kAccumulate) {
        nstore(C + (i + r) * st.ldc + col, nload(C + (i + r) * st.ldc + col) + vs * acc[r][c]);
      } else {
        nstore(C + (i + r) * st.ldc + col, vs * acc[r][c]);
      }
    }
  }
}

// All column blocks of rows i..i+RB-1. W's rows are read in place when its columns are
// adjacent, else packed into `packed` first (cheap: RB·K values for N/kLanes·RB·K FMAs).
template <int RB, int kMode>
void row_block(double* C, Strided W, const double* X, const double* S, std::size_t N,
               const Strides& st, std::size_t K, double s, std::size_t i, double* packed) {
  const double* pw = W.data + i * W.row_stride;
  std::size_t ld = W.row_stride;
  if (W.col_stride != 1) {
    for (std::size_t k = 0; k < K; ++k) {
      for (int r = 0; r < RB; ++r) {
        packed[k * RB + r] = W.data[(i + r) * W.row_stride + k * W.col_stride];
      }
    }
    pw = packed;
    ld = 0;
  }
  constexpr int kCB = columns_for(RB);
  std::size_t j = 0;
  for (; j + kCB * kLanes <= N; j += kCB * kLanes) {
    tile<RB, kCB, kMode>(C, pw, ld, X, S, st, K, s, i, j);
  }
  for (; j < N; j += kLanes) tile<RB, 1, kMode>(C, pw, ld, X, S, st, K, s, i, j);
}

template <int kMode>
void product(double* C, Strided W, const double* X, const double* S, std::size_t M,
             std::size_t N, const Strides& st, std::size_t K, double s, double* packed) {
  std::size_t i = 0;
  if (kTallBlocks && N <= 2 * kLanes) {
    // Short rows: block more rows so that each X load feeds more FMAs.
    for (; i + 8 <= M; i += 8) row_block<8, kMode>(C, W, X, S, N, st, K, s, i, packed);
  }
  for (; i + kMaxRows <= M; i += kMaxRows) {
    row_block<kMaxRows, kMode>(C, W, X, S, N, st, K, s, i, packed);
  }
  switch (M - i) {
    case 3: if constexpr (kMaxRows > 3) row_block<3, kMode>(C, W, X, S, N, st, K, s, i, packed); break;
    case 2: if constexpr (kMaxRows > 2) row_block<2, kMode>(C, W, X, S, N, st, K, s, i, packed); break;
    case 1: row_block<1, kMode>(C, W, X, S, N, st, K, s, i, packed); break;
    default: break;
  }
}

}  // namespace

void broadcast_product(double* C, Strided W, const double* X, const double* S, std::size_t M,
                       std::size_t N, std::size_t K, double s, double* scratch,
                       const Strides& strides) {
  if (S) {
    product<kSubtract>(C, W, X, S, M, N, strides, K, s, scratch);
  } else {
    product<kStore>(C, W, X, S, M, N, strides, K, s, scratch);
  }
}

void broadcast_product_add(double* C, Strided W, const double* X, std::size_t M, std::size_t N,
                           std::size_t K, double s, double* scratch, const Strides& strides) {
  product<kAccumulate>(C, W, X, nullptr, M, N, strides, K, s, scratch);
}

namespace {

template <int... kIndex>
inline Vec shuffle(Vec a, Vec b) {
  return __builtin_shufflevector(a, b, kIndex...);
}

// r[0..7] (rows of an 8×8 block) transposed in registers: on return r[j] is column j.
[[gnu::always_inline]] inline void transpose_registers(Vec r[8]) {
  Vec t[8], u[8];
  for (int i = 0; i < 8; i += 2) {  // pairs of rows interleaved: even and odd columns
    t[i] = shuffle<0, 8, 2, 10, 4, 12, 6, 14>(r[i], r[i + 1]);
    t[i + 1] = shuffle<1, 9, 3, 11, 5, 13, 7, 15>(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {  // quads of rows: columns {0,4}, {1,5}, {2,6}, {3,7}
    u[i] = shuffle<0, 1, 8, 9, 4, 5, 12, 13>(t[i], t[i + 2]);
    u[i + 1] = shuffle<0, 1, 8, 9, 4, 5, 12, 13>(t[i + 1], t[i + 3]);
    u[i + 2] = shuffle<2, 3, 10, 11, 6, 7, 14, 15>(t[i], t[i + 2]);
    u[i + 3] = shuffle<2, 3, 10, 11, 6, 7, 14, 15>(t[i + 1], t[i + 3]);
  }
  // u[q] (rows 0-3) and u[4 + q] (rows 4-7) hold columns c and c + 4, c = {0, 1, 2, 3}[q].
  for (int q = 0; q < 4; ++q) {
    r[q] = shuffle<0, 1, 2, 3, 8, 9, 10, 11>(u[q], u[4 + q]);
    r[q + 4] = shuffle<4, 5, 6, 7, 12, 13, 14, 15>(u[q], u[4 + q]);
  }
}

// The 8×8 block at src (rows lds apart) transposed into dst (rows ldd apart).
[[gnu::always_inline]] inline void transpose_8x8(const double* src, std::size_t lds,
                                                 double* dst, std::size_t ldd) {
  Vec r[8];
  for (int i = 0; i < 8; ++i) r[i] = load(src + i * lds);
  transpose_registers(r);
  for (int i = 0; i < 8; ++i) store(dst + i * ldd, r[i]);
}

// Per row of X, K sums of 8 lanes each, in native vectors (see tile); the lanes are added
// in the same order 0..7 at every width, so the bits do not depend on the variant's width.
template <int K>
void row_dots_k(double* G, std::size_t g_stride, const double* X, const double* Y, std::size_t M,
                std::size_t N) {
  constexpr int kParts = static_cast<int>(kLanes) / kNative;
  for (std::size_t i = 0; i < M; ++i) {
    NVec acc[K][kParts];
    for (int k = 0; k < K; ++k) {
      for (int p = 0; p < kParts; ++p) acc[k][p] = NVec{};
    }
    for (std::size_t j = 0; j < N; j += kLanes) {
      for (int p = 0; p < kParts; ++p) {
        const NVec x = nload(X + i * N + j + p * kNative);
        for (int k = 0; k < K; ++k) acc[k][p] += x * nload(Y + k * N + j + p * kNative);
      }
    }
    for (int k = 0; k < K; ++k) {
      double sum = 0.0;
      for (int p = 0; p < kParts; ++p) {
        for (int l = 0; l < kNative; ++l) sum += acc[k][p][l];
      }
      G[k * g_stride + i] = sum;
    }
  }
}


// Substitution of U adjacent 8-row tiles of the panel at once. Each tile is a chain of
// dependent FMAs (row c needs rows 0..c−1), so one tile alone waits on the FMA latency;
// interleaving independent tiles fills the pipeline (AVX-512: 2 tiles, 16 of the 32
// registers). Every element's arithmetic is the same whatever U.
template <std::size_t U>
inline void substitute_tiles(double* Q, const double* Y, std::size_t ld, std::size_t P,
                             std::size_t t, const double* l_data, std::size_t l_stride,
                             const double* inv, Vec vs, double* T, std::size_t ldt) {
  Vec q[U][kLanes] = {};
  for (std::size_t c = 0; c < P; ++c) {
    Vec acc[U];
    for (std::size_t u = 0; u < U; ++u) acc[u] = vs * load(Y + c * ld + t + u * kLanes);
    for (std::size_t l = 0; l < c; ++l) {
      const Vec coef = broadcast(l_data[c * l_stride + l]);
      for (std::size_t u = 0; u < U; ++u) acc[u] -= coef * q[u][l];
    }
    const Vec d = broadcast(inv[c]);
    for (std::size_t u = 0; u < U; ++u) {
      q[u][c] = acc[u] * d;
      store(Q + c * ld + t + u * kLanes, q[u][c]);
    }
  }
  if (T) {  // the same 8×8 blocks, transposed while they are in registers
    for (std::size_t u = 0; u < U; ++u) {
      transpose_registers(q[u]);
      for (std::size_t i = 0; i < kLanes; ++i) store(T + (t + u * kLanes + i) * ldt, q[u][i]);
    }
  }
}

#if defined(__AVX512F__)
constexpr std::size_t kSubstituteTiles = 2;
#else
constexpr std::size_t kSubstituteTiles = 1;  // 8 tile rows already fill AVX2's 16 registers
#endif

}  // namespace

void substitute_panel(double* Q, const double* Y, std::size_t ld, std::size_t P, std::size_t N,
                      const double* l_data, std::size_t l_stride, const double* inv, double s,
                      double* T, std::size_t ldt) {
  const Vec vs = broadcast(s);
  std::size_t t = 0;
  for (; t + kSubstituteTiles * kLanes <= N; t += kSubstituteTiles * kLanes) {
    substitute_tiles<kSubstituteTiles>(Q, Y, ld, P, t, l_data, l_stride, inv, vs, T, ldt);
  }
  for (; t < N; t += kLanes) substitute_tiles<1>(Q, Y, ld, P, t, l_data, l_stride, inv, vs, T, ldt);
}

void transpose(const double* src, std::size_t lds, double* dst, std::size_t ldd,
               std::size_t rows, std::size_t cols) {
  const std::size_t rows8 = rows / kLanes * kLanes, cols8 = cols / kLanes * kLanes;
  for (std::size_t i = 0; i < rows8; i += kLanes) {
    for (std::size_t j = 0; j < cols8; j += kLanes) {
      transpose_8x8(src + i * lds + j, lds, dst + j * ldd + i, ldd);
    }
  }
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = i < rows8 ? cols8 : 0; j < cols; ++j) dst[j * ldd + i] = src[i * lds + j];
  }
}

void row_dots(double* G, std::size_t g_stride, const double* X, const double* Y, std::size_t M,
              std::size_t N, std::size_t K) {
  switch (K) {
    case 1: row_dots_k<1>(G, g_stride, X, Y, M, N); break;
    case 2: row_dots_k<2>(G, g_stride, X, Y, M, N); break;
    case 3: row_dots_k<3>(G, g_stride, X, Y, M, N); break;
    case 4: row_dots_k<4>(G, g_stride, X, Y, M, N); break;
    case 5: row_dots_k<5>(G, g_stride, X, Y, M, N); break;
    case 6: row_dots_k<6>(G, g_stride, X, Y, M, N); break;
    case 7: row_dots_k<7>(G, g_stride, X, Y, M, N); break;
    default: break;
  }
}

extern const ProductKernels kProductKernels = {broadcast_product, broadcast_product_add,
                                               substitute_panel, transpose, row_dots};

}  // namespace lorank::detail::LORANK_KERNEL_VARIANT
