// GGUF tensors to float32: the float types (exact bits, F64 rounded to nearest) and ggml's
// 32-value quantisation blocks Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0, plus the row-range entry
// point. K-quants are in gguf_dequant_k.cc. Written from the block layouts in ggml-common.h
// (field offsets in each kernel's comment); the values are what ggml's dequantize_row_* and
// gguf-py's quants.dequantize give, bit for bit (tests/io/gguf_dequant_test.cc).
//
// Exactness: d is an F16 (11-bit significand) and q a small integer, so d·q is exact in
// float32; the only rounding is the `+ m` of Q4_1/Q5_1, done as its own float32 addition.
#include "io/gguf_dequant.h"

#include <cstring>
#include <limits>

namespace lorank::io {
namespace {

constexpr std::size_t kQ32 = 32;  // values per block of the non-K quantisations

void dequant_f32(const uint8_t* src, std::size_t n, float* out) {
  std::memcpy(out, src, n * sizeof(float));
}

void dequant_f16(const uint8_t* src, std::size_t n, float* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = load_f16(src + 2 * i);
}

// BF16 is the upper half of a binary32: a shift, so every bit (NaN payloads too) is kept.
void dequant_bf16(const uint8_t* src, std::size_t n, float* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = std::bit_cast<float>(uint32_t{load_u16(src + 2 * i)} << 16);
  }
}

// F64 rounds to nearest even (the only float type that rounds).
void dequant_f64(const uint8_t* src, std::size_t n, float* out) {
  for (std::size_t i = 0; i < n; ++i) {
    double x;
    std::memcpy(&x, src + 8 * i, sizeof x);
    out[i] = static_cast<float>(x);
  }
}

// Value j of a 32-value block packed two per byte: the low nibble of byte j for j < 16, the
// high nibble of byte j - 16 otherwise. One 32-long loop: GCC vectorises it better than two
// interleaved 16-long halves.
inline int nibble(const uint8_t* qs, std::size_t j) {
  return j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4;
}

// Q4_0, 18 bytes: d (F16) @0, qs[16] @2. Byte j holds value j (low nibble) and value j + 16
// (high nibble), each q - 8.
void q4_0_block(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const uint8_t* qs = b + 2;
  for (std::size_t j = 0; j < 32; ++j) y[j] = static_cast<float>(nibble(qs, j) - 8) * d;
}

// Q4_1, 20 bytes: d @0, m @2 (F16), qs[16] @4; unsigned nibbles as in Q4_0, x = d·q + m.
void q4_1_block(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const float m = load_f16(b + 2);
  const uint8_t* qs = b + 4;
  for (std::size_t j = 0; j < 32; ++j) y[j] = static_cast<float>(nibble(qs, j)) * d + m;
}

// The 5th bit of value j of a Q5 block: bit j of the little-endian u32 qh, as 0 or 16.
inline int q5_high(uint32_t qh, std::size_t j) { return static_cast<int>((qh >> j) & 1u) << 4; }

// Q5_0, 22 bytes: d @0, qh (u32) @2, qs[16] @6; nibbles as in Q4_0 plus the qh bit, q - 16.
void q5_0_block(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const uint32_t qh = load_u32(b + 2);
  const uint8_t* qs = b + 6;
  for (std::size_t j = 0; j < 32; ++j) {
    y[j] = static_cast<float>((nibble(qs, j) | q5_high(qh, j)) - 16) * d;
  }
}

// Q5_1, 24 bytes: d @0, m @2, qh @4, qs[16] @8; unsigned 5-bit q, x = d·q + m.
void q5_1_block(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const float m = load_f16(b + 2);
  const uint32_t qh = load_u32(b + 4);
  const uint8_t* qs = b + 8;
  for (std::size_t j = 0; j < 32; ++j) {
    y[j] = static_cast<float>(nibble(qs, j) | q5_high(qh, j)) * d + m;
  }
}

// Q8_0, 34 bytes: d @0, int8 qs[32] @2; x = d·q.
void q8_0_block(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  for (std::size_t j = 0; j < kQ32; ++j) {
    y[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
  }
}

// A whole-run kernel from a one-block function, so the block function is inlined.
template <void (*kBlock)(const uint8_t*, float*), std::size_t kBytes>
void run_blocks(const uint8_t* src, std::size_t n_blocks, float* out) {
  for (std::size_t i = 0; i < n_blocks; ++i) kBlock(src + i * kBytes, out + i * kQ32);
}

// n_rows = the product of ne[1..], saturated: an empty tensor (ne[0] = 0) may have other
// dims whose product overflows (the reader allows it), and then no row can be read anyway.
uint64_t row_count(const GgufTensorInfo& info) {
  uint64_t rows = 1;
  for (std::size_t i = 1; i < info.ne.size(); ++i) {
    if (__builtin_mul_overflow(rows, info.ne[i], &rows)) return std::numeric_limits<uint64_t>::max();
  }
  return rows;
}

}  // namespace

DequantKernel dequant_kernel(uint32_t id) {
  switch (id) {
    case kGgmlF32:
      return dequant_f32;
    case kGgmlF16:
      return dequant_f16;
    case kGgmlBF16:
      return dequant_bf16;
    case kGgmlF64:
      return dequant_f64;
    case kGgmlQ4_0:
      return run_blocks<q4_0_block, 18>;
    case kGgmlQ4_1:
      return run_blocks<q4_1_block, 20>;
    case kGgmlQ5_0:
      return run_blocks<q5_0_block, 22>;
    case kGgmlQ5_1:
      return run_blocks<q5_1_block, 24>;
    case kGgmlQ8_0:
      return run_blocks<q8_0_block, 34>;
    case kGgmlQ2_K:
      return dequant_q2_k;
    case kGgmlQ3_K:
      return dequant_q3_k;
    case kGgmlQ4_K:
      return dequant_q4_k;
    case kGgmlQ5_K:
      return dequant_q5_k;
    case kGgmlQ6_K:
      return dequant_q6_k;
    default:
      return nullptr;
  }
}

Status not_dequantizable(const GgufTensorInfo& info) {
  const auto traits = ggml_type_traits(info.ggml_type);
  return not_supported(
      "tensor '{}': ggml type {} ({}) cannot be dequantized (lorank reads F32, F16, BF16, F64, "
      "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)",
      info.name, traits ? traits->name : "unknown", info.ggml_type);
}

}  // namespace lorank::io

namespace lorank {

bool ggml_type_dequantizable(uint32_t id) { return io::dequant_kernel(id) != nullptr; }

Status gguf_dequantize_rows(const GgufTensorInfo& info, uint64_t row_begin, std::span<float> out) {
  const io::DequantKernel kernel = io::dequant_kernel(info.ggml_type);
  if (kernel == nullptr) return io::not_dequantizable(info);
  const GgmlTypeTraits traits = *ggml_type_traits(info.ggml_type);  // known: it has a kernel
  const uint64_t row_len = info.ne.empty() ? 1 : info.ne[0];
  const uint64_t n_rows = io::row_count(info);
  if (row_len == 0 ? !out.empty() : out.size() % row_len != 0) {
    return invalid_argument("tensor '{}': an output of {} floats is not a whole number of rows of {}",
                            info.name, out.size(), row_len);
  }
  const uint64_t rows = row_len == 0 ? 0 : out.size() / row_len;
  if (row_begin > n_rows || rows > n_rows - row_begin) {
    return invalid_argument("tensor '{}': {} rows from row {} run past its {} rows", info.name, rows,
                            row_begin, n_rows);
  }
  // A GgufFile has validated all of this; an info built by hand must not make us read past
  // its bytes.
  const uint64_t row_bytes = row_len / traits.block_elements * traits.block_bytes;
  uint64_t need = 0;
  if (row_len % traits.block_elements != 0 || __builtin_mul_overflow(n_rows, row_bytes, &need) ||
      need != info.data.size()) {
    return invalid_argument("tensor '{}': {} data bytes do not match type {} and ne[0] = {}",
                            info.name, info.data.size(), traits.name, row_len);
  }
  if (rows == 0) return Status();
  const auto* src = reinterpret_cast<const uint8_t*>(info.data.data()) + row_begin * row_bytes;
  kernel(src, out.size() / traits.block_elements, out.data());
  return Status();
}

}  // namespace lorank
