// ggml's K-quants to float32: super-blocks of 256 values in 16 or 8 sub-blocks, each with its
// own small integer scale (and, for Q2_K/Q4_K/Q5_K, min) under the super-block's F16 `d`
// (and `dmin`). Written from ggml-common.h's block layouts (offsets in each comment) and
// checked bit for bit against gguf-py's dequantization (tests/io/gguf_dequant_test.cc).
//
// Exactness: d (11-bit significand) times a sub-block scale (≤ 8 bits) times q (≤ 6 bits) is
// exact in float32, so the products round nowhere; the one rounding is the final subtraction
// of dmin·m (itself exact) in Q2_K/Q4_K/Q5_K, as a separate float32 operation.
#include <cstddef>
#include <cstdint>

#include "io/gguf_dequant.h"

namespace lorank::io {
namespace {

constexpr std::size_t kQK = 256;

// Q2_K, 84 bytes: scales[16] @0 (low nibble scale, high nibble min), qs[64] @16, d @80,
// dmin @82. Value 128·h + 32·g + l (h < 2, g < 4, l < 32) is bits 2g..2g+1 of qs[32h + l],
// in sub-block 8h + 2g + l/16: x = (d·scale)·q - dmin·min.
void q2_k_block(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* qs = b + 16;
  const float d = load_f16(b + 80);
  const float dmin = load_f16(b + 82);
  for (std::size_t h = 0; h < 2; ++h) {
    for (std::size_t g = 0; g < 4; ++g) {
      // One 32-long loop choosing the sub-block's scale per value vectorises best.
      const uint8_t sc0 = scales[8 * h + 2 * g], sc1 = scales[8 * h + 2 * g + 1];
      const float dl0 = d * static_cast<float>(sc0 & 0x0f), ml0 = dmin * static_cast<float>(sc0 >> 4);
      const float dl1 = d * static_cast<float>(sc1 & 0x0f), ml1 = dmin * static_cast<float>(sc1 >> 4);
      float* out = y + 128 * h + 32 * g;
      const uint8_t* q = qs + 32 * h;
      for (std::size_t l = 0; l < 32; ++l) {
        const float dl = l < 16 ? dl0 : dl1, ml = l < 16 ? ml0 : ml1;
        out[l] = dl * static_cast<float>((q[l] >> (2 * g)) & 3) - ml;
      }
    }
  }
}

// The 16 six-bit Q3_K scales from their 12 packed bytes: the low 4 bits of scale i are the
// low (i < 8) or high (i ≥ 8) nibble of byte i % 8; its high 2 bits are bits 2·(i/4)..+1 of
// byte 8 + i % 4. Returned with the bias of 32 removed.
void q3_k_scales(const uint8_t* packed, int (&scale)[16]) {
  for (std::size_t i = 0; i < 16; ++i) {
    const int low = i < 8 ? packed[i] & 0x0f : packed[i - 8] >> 4;
    const int high = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
    scale[i] = (low | high << 4) - 32;
  }
}

// Q3_K, 110 bytes: hmask[32] @0, qs[64] @32, scales[12] @96, d @108. Value 128·h + 32·g + l
// has its low 2 bits at bits 2g.. of qs[32h + l] and its high bit at bit 4h + g of hmask[l];
// a clear high bit subtracts 4 (q in -4..3). x = (d·scale)·q, scale of sub-block 8h + 2g + l/16.
void q3_k_block(const uint8_t* b, float* y) {
  const uint8_t* hmask = b;
  const uint8_t* qs = b + 32;
  const float d = load_f16(b + 108);
  int scale[16];
  q3_k_scales(b + 96, scale);
  for (std::size_t h = 0; h < 2; ++h) {
    for (std::size_t g = 0; g < 4; ++g) {
      const unsigned bit = static_cast<unsigned>(4 * h + g);
      const float dl0 = d * static_cast<float>(scale[8 * h + 2 * g]);
      const float dl1 = d * static_cast<float>(scale[8 * h + 2 * g + 1]);
      float* out = y + 128 * h + 32 * g;
      const uint8_t* q = qs + 32 * h;
      for (std::size_t l = 0; l < 32; ++l) {
        const int low = (q[l] >> (2 * g)) & 3;
        const int sub = ((hmask[l] >> bit) & 1) ? 0 : 4;
        out[l] = (l < 16 ? dl0 : dl1) * static_cast<float>(low - sub);
      }
    }
  }
}

// The six-bit scale and min of sub-block j (< 8) of a Q4_K/Q5_K block, from 12 packed bytes:
// j < 4: the low 6 bits of bytes j and j + 4; j ≥ 4: a nibble of byte j + 4 (low for the
// scale, high for the min) under the top 2 bits of byte j - 4 (scale) or byte j (min).
struct ScaleMin {
  int scale, min;
};
ScaleMin k4_scale_min(const uint8_t* packed, std::size_t j) {
  if (j < 4) return {packed[j] & 63, packed[j + 4] & 63};
  return {(packed[j + 4] & 0x0f) | (packed[j - 4] >> 6) << 4,
          (packed[j + 4] >> 4) | (packed[j] >> 6) << 4};
}

// Q4_K, 144 bytes: d @0, dmin @2, scales[12] @4, qs[128] @16. For c < 4, values 64c + l
// (l < 32) are the low nibbles of qs[32c + l] in sub-block 2c, values 64c + 32 + l the high
// nibbles in sub-block 2c + 1: x = (d·scale)·q - dmin·min.
void q4_k_block(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const float dmin = load_f16(b + 2);
  const uint8_t* packed = b + 4;
  for (std::size_t c = 0; c < 4; ++c) {
    const uint8_t* q = b + 16 + 32 * c;
    const ScaleMin lo = k4_scale_min(packed, 2 * c), hi = k4_scale_min(packed, 2 * c + 1);
    const float d_lo = d * static_cast<float>(lo.scale), m_lo = dmin * static_cast<float>(lo.min);
    const float d_hi = d * static_cast<float>(hi.scale), m_hi = dmin * static_cast<float>(hi.min);
    for (std::size_t l = 0; l < 32; ++l) {
      y[64 * c + l] = d_lo * static_cast<float>(q[l] & 0x0f) - m_lo;
      y[64 * c + 32 + l] = d_hi * static_cast<float>(q[l] >> 4) - m_hi;
    }
  }
}

// Q5_K, 176 bytes: d @0, dmin @2, scales[12] @4, qh[32] @16, qs[128] @48. As Q4_K, plus a
// fifth bit (+16): bit 2c of qh[l] for the low nibble, bit 2c + 1 for the high nibble.
void q5_k_block(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const float dmin = load_f16(b + 2);
  const uint8_t* packed = b + 4;
  const uint8_t* qh = b + 16;
  for (std::size_t c = 0; c < 4; ++c) {
    const uint8_t* q = b + 48 + 32 * c;
    const ScaleMin lo = k4_scale_min(packed, 2 * c), hi = k4_scale_min(packed, 2 * c + 1);
    const float d_lo = d * static_cast<float>(lo.scale), m_lo = dmin * static_cast<float>(lo.min);
    const float d_hi = d * static_cast<float>(hi.scale), m_hi = dmin * static_cast<float>(hi.min);
    for (std::size_t l = 0; l < 32; ++l) {
      const int q_lo = (q[l] & 0x0f) | ((qh[l] >> (2 * c)) & 1) << 4;
      const int q_hi = (q[l] >> 4) | ((qh[l] >> (2 * c + 1)) & 1) << 4;
      y[64 * c + l] = d_lo * static_cast<float>(q_lo) - m_lo;
      y[64 * c + 32 + l] = d_hi * static_cast<float>(q_hi) - m_hi;
    }
  }
}

// Q6_K, 210 bytes: ql[128] @0, qh[64] @128, int8 scales[16] @192, d @208. In half h, value
// 128h + 32k + l (k < 4, l < 32) takes the low (k < 2) or high (k ≥ 2) nibble of
// ql[64h + l + 32·(k%2)] under bits 2k..2k+1 of qh[32h + l], minus 32; its scale is
// scales[8h + 2k + l/16]. x = (d·scale)·q.
void q6_k_block(const uint8_t* b, float* y) {
  const float d = load_f16(b + 208);
  for (std::size_t h = 0; h < 2; ++h) {
    const uint8_t* ql = b + 64 * h;
    const uint8_t* qh = b + 128 + 32 * h;
    const uint8_t* scales = b + 192 + 8 * h;
    for (std::size_t k = 0; k < 4; ++k) {
      const uint8_t* low = ql + 32 * (k % 2);
      const unsigned nibble_shift = k < 2 ? 0 : 4;
      const float dl0 = d * static_cast<float>(static_cast<int8_t>(scales[2 * k]));
      const float dl1 = d * static_cast<float>(static_cast<int8_t>(scales[2 * k + 1]));
      for (std::size_t l = 0; l < 32; ++l) {
        const int q = (((low[l] >> nibble_shift) & 0x0f) | ((qh[l] >> (2 * k)) & 3) << 4) - 32;
        y[128 * h + 32 * k + l] = (l < 16 ? dl0 : dl1) * static_cast<float>(q);
      }
    }
  }
}

template <void (*kBlock)(const uint8_t*, float*), std::size_t kBytes>
void run_k_blocks(const uint8_t* src, std::size_t n_blocks, float* out) {
  for (std::size_t i = 0; i < n_blocks; ++i) kBlock(src + i * kBytes, out + i * kQK);
}

}  // namespace

void dequant_q2_k(const uint8_t* src, std::size_t n, float* out) {
  run_k_blocks<q2_k_block, 84>(src, n, out);
}
void dequant_q3_k(const uint8_t* src, std::size_t n, float* out) {
  run_k_blocks<q3_k_block, 110>(src, n, out);
}
void dequant_q4_k(const uint8_t* src, std::size_t n, float* out) {
  run_k_blocks<q4_k_block, 144>(src, n, out);
}
void dequant_q5_k(const uint8_t* src, std::size_t n, float* out) {
  run_k_blocks<q5_k_block, 176>(src, n, out);
}
void dequant_q6_k(const uint8_t* src, std::size_t n, float* out) {
  run_k_blocks<q6_k_block, 210>(src, n, out);
}

}  // namespace lorank::io
