// Every instruction-set variant of the dispatched kernels that this CPU can run, against a
// reference (core/kernel_variant.h, docs/kernels.md):
//   products (linalg/product_kernel.cc): generic = the plain loop in double, bit for bit
//     (this file is built with -ffp-contract=off, so the reference rounds each product and
//     sum); avx2 = avx512 bit for bit (both fuse every multiply-add in the same order);
//     every variant within (K + 2)·ε·Σ|terms| of the exact value (a long double sum);
//   transposition, widening (linalg/widen_kernel.cc) and conversions (core/convert_kernel.cc):
//     bit for bit in every variant.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/convert_kernels.h"
#include "linalg/factor_source.h"
#include "linalg/product_kernel.h"
#include "lorank/kernels.h"

namespace lorank::detail {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

std::vector<KernelLevel> supported_levels() {
  std::vector<KernelLevel> levels;
  for (KernelLevel level : kAllKernelLevels) {
    if (cpu_supports(level)) levels.push_back(level);
  }
  return levels;
}

std::vector<double> random_values(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> nd;
  std::vector<double> v(n);
  for (double& x : v) x = nd(gen);
  return v;
}

std::vector<std::uint64_t> bits_of(const std::vector<double>& v) {
  std::vector<std::uint64_t> b(v.size());
  std::memcpy(b.data(), v.data(), v.size() * sizeof(double));
  return b;
}

struct Shape {
  std::size_t M, N, K;
};

// C = s·W·X − S (W strided: unit row stride, column stride M, i.e. the transposed layout
// that makes the kernel pack W), in one variant.
std::vector<double> product(KernelLevel level, const Shape& sh, const std::vector<double>& w,
                            const std::vector<double>& x, const std::vector<double>* s_op,
                            double s) {
  std::vector<double> c(sh.M * sh.N, -7.0), scratch(scratch_size(sh.K));
  kProductKernels_for(level).broadcast_product(c.data(), Strided{w.data(), 1, sh.M}, x.data(),
                                               s_op ? s_op->data() : nullptr, sh.M, sh.N, sh.K, s,
                                               scratch.data(), Strides{sh.N, sh.N, sh.N});
  return c;
}

TEST(KernelVariants, ProductsAgainstTheReference) {
  const std::vector<KernelLevel> levels = supported_levels();
  ASSERT_FALSE(levels.empty());
  // The fit's shapes (64×64 at r = 2..64, both directions) and the Gram/QR strips.
  const Shape shapes[] = {{64, 64, 2},  {64, 64, 16}, {16, 64, 64}, {64, 16, 64}, {7, 24, 13},
                          {3, 8, 1},    {64, 72, 64}, {16, 32, 512}, {5, 40, 9},  {1, 8, 3}};
  std::uint64_t seed = 1;
  for (const Shape& sh : shapes) {
    for (bool subtract : {false, true}) {
      const double s = subtract ? 0.75 : 1.0;
      const auto w = random_values(sh.M * sh.K, seed++), x = random_values(sh.K * sh.N, seed++);
      const auto t = random_values(sh.M * sh.N, seed++);
      const std::vector<double>* s_op = subtract ? &t : nullptr;
      std::vector<std::vector<double>> results;
      for (KernelLevel level : levels) results.push_back(product(level, sh, w, x, s_op, s));
      for (std::size_t i = 0; i < sh.M; ++i) {
        for (std::size_t j = 0; j < sh.N; ++j) {
          double plain = 0.0;  // the generic variant's arithmetic: round, add, round
          long double exact = 0.0L, magnitude = 0.0L;
          for (std::size_t k = 0; k < sh.K; ++k) {
            const double term = w[k * sh.M + i] * x[k * sh.N + j];
            plain += term;
            exact += static_cast<long double>(w[k * sh.M + i]) * x[k * sh.N + j];
            magnitude += std::fabs(static_cast<long double>(w[k * sh.M + i]) * x[k * sh.N + j]);
          }
          const double sub = subtract ? t[i * sh.N + j] : 0.0;
          const double plain_c = subtract ? s * plain - sub : s * plain;
          exact = s * exact - sub;
          const double bound = static_cast<double>((sh.K + 2) * kEps * (s * magnitude + std::fabs(sub)));
          for (std::size_t v = 0; v < levels.size(); ++v) {
            const double got = results[v][i * sh.N + j];
            ASSERT_LE(std::fabs(got - static_cast<double>(exact)), bound)
                << kernel_level_name(levels[v]) << " " << sh.M << "x" << sh.N << "x" << sh.K
                << " at " << i << "," << j;
            if (levels[v] == KernelLevel::kGeneric) {
              ASSERT_EQ(std::bit_cast<std::uint64_t>(got), std::bit_cast<std::uint64_t>(plain_c))
                  << "generic " << sh.M << "x" << sh.N << "x" << sh.K << " at " << i << "," << j;
            }
          }
        }
      }
      // The FMA variants agree with each other bit for bit (an AVX2 user's numbers are an
      // AVX-512 user's numbers).
      if (cpu_supports(KernelLevel::kAvx512)) {
        EXPECT_EQ(bits_of(results[1]), bits_of(results[2])) << sh.M << "x" << sh.N << "x" << sh.K;
      }
    }
  }
}

TEST(KernelVariants, AccumulateSubstituteRowDotsAndTranspose) {
  const std::vector<KernelLevel> levels = supported_levels();
  const std::size_t M = 16, N = 48, K = 40, ld = 56;
  const auto w = random_values(M * K, 11), x = random_values(K * ld, 12);
  const auto c0 = random_values(M * ld, 13), y = random_values(8 * ld, 14);
  const auto l = random_values(64, 15), dots_x = random_values(M * N, 16);
  std::vector<double> inv(8);
  for (std::size_t c = 0; c < 8; ++c) inv[c] = 1.0 / (2.0 + static_cast<double>(c));
  struct Out {
    std::vector<double> acc, q, t, dots, tr;
  };
  std::vector<Out> outs;
  for (KernelLevel level : levels) {
    const ProductKernels& k = kProductKernels_for(level);
    Out o{c0, std::vector<double>(8 * ld), std::vector<double>(N * 8, -1.0),
          std::vector<double>(5 * M), std::vector<double>(ld * K)};
    std::vector<double> scratch(scratch_size(K));
    k.broadcast_product_add(o.acc.data(), Strided{w.data(), K, 1}, x.data(), M, N, K, 0.5,
                            scratch.data(), Strides{ld, ld, 0});
    k.substitute_panel(o.q.data(), y.data(), ld, 7, N, l.data(), 8, inv.data(), -1.0, o.t.data(), 8);
    k.row_dots(o.dots.data(), M, dots_x.data(), dots_x.data() + 2 * N, M, N, 5);
    k.transpose(x.data(), ld, o.tr.data(), K, K, ld);
    outs.push_back(std::move(o));
  }
  for (std::size_t v = 0; v < levels.size(); ++v) {
    const Out& o = outs[v];
    const char* name = kernel_level_name(levels[v]).data();
    // Accumulation: within the bound of the exact value.
    for (std::size_t i = 0; i < M; ++i) {
      for (std::size_t j = 0; j < ld; ++j) {
        long double exact = 0.0L, magnitude = 0.0L;
        for (std::size_t k = 0; k < K && j < N; ++k) {
          exact += static_cast<long double>(w[i * K + k]) * x[k * ld + j];
          magnitude += std::fabs(static_cast<long double>(w[i * K + k]) * x[k * ld + j]);
        }
        const double expect = static_cast<double>(c0[i * ld + j] + 0.5L * exact);
        const double bound = static_cast<double>((K + 3) * kEps * (0.5L * magnitude + std::fabs(c0[i * ld + j])));
        ASSERT_LE(std::fabs(o.acc[i * ld + j] - expect), bound) << name << " acc " << i << "," << j;
      }
    }
    // Substitution: its panel transposed exactly, rows 7 of 8 zero-padded.
    for (std::size_t t = 0; t < N; ++t) {
      for (std::size_t c = 0; c < 8; ++c) {
        ASSERT_EQ(o.t[t * 8 + c], c < 7 ? o.q[c * ld + t] : 0.0) << name << " panel " << t << "," << c;
      }
    }
    // Row dots: within the bound.
    for (std::size_t k = 0; k < 5; ++k) {
      for (std::size_t i = 0; i < M; ++i) {
        long double exact = 0.0L, magnitude = 0.0L;
        for (std::size_t j = 0; j < N; ++j) {
          const long double p = static_cast<long double>(dots_x[i * N + j]) * dots_x[(2 + k) * N + j];
          exact += p;
          magnitude += std::fabs(p);
        }
        ASSERT_LE(std::fabs(o.dots[k * M + i] - static_cast<double>(exact)),
                  static_cast<double>((N + 2) * kEps * magnitude)) << name << " dots";
      }
    }
    // Transposition: exact.
    for (std::size_t i = 0; i < K; ++i) {
      for (std::size_t j = 0; j < ld; ++j) ASSERT_EQ(o.tr[j * K + i], x[i * ld + j]) << name;
    }
    EXPECT_EQ(bits_of(o.tr), bits_of(outs[0].tr));
    if (v > 0 && levels[v] != KernelLevel::kGeneric && outs.size() == 3 && v == 2) {
      EXPECT_EQ(bits_of(o.acc), bits_of(outs[1].acc)) << "avx2 vs avx512 accumulate";
      EXPECT_EQ(bits_of(o.q), bits_of(outs[1].q)) << "avx2 vs avx512 substitute";
      EXPECT_EQ(bits_of(o.dots), bits_of(outs[1].dots)) << "avx2 vs avx512 row dots";
    }
  }
}

// Random 16- and 32-bit patterns, with every class (zeros, subnormals, normals, inf, NaN).
std::vector<std::byte> random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<std::byte> b(n);
  for (std::byte& x : b) x = static_cast<std::byte>(gen());
  return b;
}

TEST(KernelVariants, WideningIsBitIdenticalInEveryVariant) {
  const std::vector<KernelLevel> levels = supported_levels();
  const std::size_t m = 37, n = 21;  // odd shapes: tile and vector remainders
  for (DType dtype : {DType::kF64, DType::kF32, DType::kF16, DType::kBF16}) {
    const auto bytes = random_bytes(m * n * dtype_size(dtype), 7);
    for (linalg::Layout layout : {linalg::Layout::kRowMajor, linalg::Layout::kColMajor}) {
      const linalg::FactorSource f{bytes.data(), dtype, m, n, layout, "F"};
      for (bool transposed : {false, true}) {
        const std::size_t ld = transposed ? m + 3 : n + 3;
        std::vector<std::vector<double>> out;
        std::vector<bool> finite;
        for (KernelLevel level : levels) {
          std::vector<double> dst(m * n + 3 * std::max(m, n) + 8, -1.0);
          finite.push_back(linalg::kWidenKernels_for(level).widen_rows(f, 0, m, dst.data(), ld, transposed));
          out.push_back(std::move(dst));
        }
        for (std::size_t v = 1; v < levels.size(); ++v) {
          EXPECT_EQ(bits_of(out[v]), bits_of(out[0])) << kernel_level_name(levels[v]) << " "
                                                      << dtype_name(dtype);
          EXPECT_EQ(finite[v], finite[0]);
        }
      }
    }
  }
}

TEST(KernelVariants, ConversionsAreBitIdenticalInEveryVariant) {
  const std::vector<KernelLevel> levels = supported_levels();
  const std::size_t n = 1031;
  const auto in16 = random_bytes(2 * n, 3), in32 = random_bytes(4 * n, 4);
  // Doubles near every 16-bit range (ties, subnormals, overflow) and random bit patterns.
  std::vector<double> wide = random_values(n, 5);
  for (std::size_t i = 0; i < n; ++i) wide[i] = std::ldexp(wide[i], static_cast<int>(i % 80) - 40);
  const auto raw = random_bytes(8 * 64, 6);
  std::memcpy(wide.data(), raw.data(), raw.size());
  std::vector<std::vector<std::uint64_t>> widened;
  std::vector<std::vector<std::byte>> narrowed;
  for (KernelLevel level : levels) {
    const ConvertKernels& k = kConvertKernels_for(level);
    std::vector<double> a(n), b(n), c(n);
    k.widen_f16(in16.data(), a.data(), n);
    k.widen_bf16(in16.data(), b.data(), n);
    k.widen_f32(in32.data(), c.data(), n);
    a.insert(a.end(), b.begin(), b.end());
    a.insert(a.end(), c.begin(), c.end());
    widened.push_back(bits_of(a));
    std::vector<std::byte> out(8 * n);
    k.narrow_f16(wide.data(), out.data(), n);
    k.narrow_bf16(wide.data(), out.data() + 2 * n, n);
    k.narrow_f32(wide.data(), out.data() + 4 * n, n);
    narrowed.push_back(out);
  }
  for (std::size_t v = 1; v < levels.size(); ++v) {
    EXPECT_EQ(widened[v], widened[0]) << kernel_level_name(levels[v]);
    EXPECT_EQ(narrowed[v], narrowed[0]) << kernel_level_name(levels[v]);
  }
}

TEST(KernelVariants, ScopedLevelForcesTheDispatch) {
  for (KernelLevel level : supported_levels()) {
    ScopedKernelLevel forced(level);
    EXPECT_EQ(active_kernel_level(), level);
  }
  EXPECT_TRUE(cpu_supports(KernelLevel::kGeneric));
}

}  // namespace
}  // namespace lorank::detail
