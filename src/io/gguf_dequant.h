// The block kernels behind gguf_dequantize_rows() (lorank/gguf.h), one per ggml type. Each
// kernel turns `n_blocks` consecutive blocks of its type into n_blocks × block_elements
// float32 values. Private to src/io: gguf_tensor.cc uses them to widen to double in chunks.
//
// Both .cc files are compiled with -ffp-contract=off -fno-fast-math (CMakeLists.txt):
// bit-exactness with ggml and gguf-py needs `d·q` and the `+ m` / `- dmin·m` that follows
// rounded as two float32 operations, never fused.
#ifndef LORANK_IO_GGUF_DEQUANT_H_
#define LORANK_IO_GGUF_DEQUANT_H_

#include <bit>
#include <cstddef>
#include <cstdint>

#include "core/float_bits.h"
#include "lorank/gguf.h"
#include "lorank/status.h"

namespace lorank::io {

// Reads block bytes as uint8 and writes floats; `src` needs no alignment.
using DequantKernel = void (*)(const uint8_t* src, std::size_t n_blocks, float* out);

// The kernel for ggml type `id`, or nullptr if the type is not dequantizable.
DequantKernel dequant_kernel(uint32_t id);

// The kNotSupported error for a tensor whose type has no kernel (one message for every
// caller).
Status not_dequantizable(const GgufTensorInfo& info);

// The K-quant kernels (gguf_dequant_k.cc): 256 values per block.
void dequant_q2_k(const uint8_t* src, std::size_t n_blocks, float* out);
void dequant_q3_k(const uint8_t* src, std::size_t n_blocks, float* out);
void dequant_q4_k(const uint8_t* src, std::size_t n_blocks, float* out);
void dequant_q5_k(const uint8_t* src, std::size_t n_blocks, float* out);
void dequant_q6_k(const uint8_t* src, std::size_t n_blocks, float* out);

// Little-endian fields inside a block.
inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
inline uint32_t load_u32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
// An F16 value as float32 with its exact bits. Every F16 is an F32, so narrowing the exact
// double widening is exact, except that the hardware would quiet a signalling NaN: NaNs take
// the bit path instead (sign, payload << 13), as ggml's and numpy's bit conversions do.
// Branch-free so that the F16 loop vectorises.
inline float f16_to_float(uint16_t h) {
  const uint32_t em = h & 0x7fffu;
  uint32_t bits = std::bit_cast<uint32_t>(static_cast<float>(detail::f16_to_double(h)));
  const uint32_t nan_bits = (uint32_t{h} & 0x8000u) << 16 | 0x7f80'0000u | (em & 0x3ffu) << 13;
  const uint32_t is_nan = 0u - static_cast<uint32_t>(em > 0x7c00u);
  bits ^= (bits ^ nan_bits) & is_nan;
  return std::bit_cast<float>(bits);
}
inline float load_f16(const uint8_t* p) { return f16_to_float(load_u16(p)); }

}  // namespace lorank::io

#endif  // LORANK_IO_GGUF_DEQUANT_H_
