// The fit engine's speed against the machine's measured double-precision throughput for
// the same 64×r shapes (OpenBLAS dgemm), and against a register-only FMA peak.
//   build/bench/fit_bench [--benchmark_filter=...]
// FLOPs are nominal: one gradient step of a 64×64 fit at rank r is 3 products of
// 2·64·64·r each (B·A, Bᵀ·E, E·Aᵀ).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <string>
#include <vector>

#include "linalg/product_kernel.h"
#include "lorank/fit.h"
#include "lorank/kernels.h"

namespace {

constexpr int kDim = 64;

double step_flops(int r) { return 3.0 * 2.0 * kDim * kDim * r; }

void BM_FitSteps(benchmark::State& state) {
  const int r = static_cast<int>(state.range(0));
  std::mt19937_64 gen(1);
  std::normal_distribution<double> nd;
  lorank::Matrix T(kDim, kDim), B(kDim, r), A(r, kDim);
  for (double& v : T.data) v = nd(gen);
  for (double& v : A.data) v = 0.01 * nd(gen);
  lorank::FitOptions options;
  options.steps = 1000;
  for (auto _ : state) benchmark::DoNotOptimize(lorank::fit_lora(T, B, A, options));
  state.counters["GFLOP/s"] = benchmark::Counter(step_flops(r) * options.steps * state.iterations(),
                                                 benchmark::Counter::kIsRate);
  state.counters["us/step"] = benchmark::Counter(
      1e-6 * options.steps * state.iterations(),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FitSteps)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->Arg(32)->Arg(64)->Unit(benchmark::kMillisecond);

// The same three products per step through OpenBLAS (single thread), without the updates:
// what a BLAS-based implementation of these shapes can reach on this machine.
void BM_OpenBlasStep(benchmark::State& state) {
  const int r = static_cast<int>(state.range(0));
  openblas_set_num_threads(1);
  std::vector<double> T(kDim * kDim, 0.5), B(kDim * r, 0.01), A(r * kDim, 0.01);
  std::vector<double> E(kDim * kDim), gB(kDim * r), gA(r * kDim);
  for (auto _ : state) {
    cblas_dcopy(kDim * kDim, T.data(), 1, E.data(), 1);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kDim, kDim, r, 1.0, B.data(), r,
                A.data(), kDim, -1.0, E.data(), kDim);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kDim, r, kDim, 1.0, E.data(), kDim,
                A.data(), kDim, 0.0, gB.data(), r);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, kDim, kDim, 1.0, B.data(), r,
                E.data(), kDim, 0.0, gA.data(), kDim);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(step_flops(r) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_OpenBlasStep)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->Arg(32)->Arg(64);

// lorank's own three products of one step (no updates), in a forced kernel variant
// (arg 0: 0 generic, 1 avx2, 2 avx512; arg 1: r): the same work as BM_OpenBlasStep.
void BM_KernelStep(benchmark::State& state) {
  const auto level = static_cast<lorank::KernelLevel>(state.range(0));
  if (!lorank::cpu_supports(level)) {
    state.SkipWithError("this CPU lacks the variant");
    return;
  }
  lorank::ScopedKernelLevel forced(level);
  const std::size_t r = static_cast<std::size_t>(state.range(1)), n = kDim;
  const std::size_t rp = lorank::detail::round_up_lanes(r);
  namespace d = lorank::detail;
  std::vector<double> T(n * n, 0.5), B(n * rp, 0.01), A(r * n, 0.01), At(n * rp, 0.01);
  std::vector<double> E(n * n), gB(n * rp), gA(r * n), scratch(d::scratch_size(n));
  for (auto _ : state) {
    d::broadcast_product(E.data(), {B.data(), rp, 1}, A.data(), T.data(), n, n, r, 1.0, scratch.data());
    d::broadcast_product(gA.data(), {B.data(), 1, rp}, E.data(), nullptr, r, n, n, 1.0, scratch.data());
    if (r >= d::kLanes) {
      d::broadcast_product(gB.data(), {E.data(), n, 1}, At.data(), nullptr, n, rp, n, 1.0, scratch.data());
    } else {
      d::row_dots(gB.data(), n, E.data(), A.data(), n, n, r);
    }
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(lorank::kernel_level_name(level)));
  state.counters["GFLOP/s"] =
      benchmark::Counter(step_flops(static_cast<int>(r)) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KernelStep)->ArgsProduct({{0, 1, 2}, {2, 8, 16, 32, 64}});

// Independent FMA chains in registers: the core's double-precision peak, for 4-double
// (AVX2) and 8-double (AVX-512) vectors. Compiled for that level whatever the build.
// (A macro, not a template: GCC drops vector_size on a dependent typedef. The target
// attribute only where the build itself lacks AVX-512: with -march=native it would narrow
// the target and break inlining of Google Benchmark's always-inline functions.)
#if defined(__AVX512F__)
#define LORANK_PEAK_TARGET
#else
#define LORANK_PEAK_TARGET [[gnu::target("arch=x86-64-v4")]]
#endif
#define LORANK_PEAK_CHAINS(name, width)                                                    \
  LORANK_PEAK_TARGET void name(benchmark::State& state) {                   \
    typedef double Vec __attribute__((vector_size(width * sizeof(double))));               \
    constexpr int kChains = 16;                                                            \
    constexpr long kIters = 1 << 16;                                                       \
    for (auto _ : state) {                                                                 \
      Vec acc[kChains];                                                                    \
      for (int c = 0; c < kChains; ++c) acc[c] = Vec{} + 1.0 * c;                          \
      Vec x = Vec{} + 0.999999, y = Vec{} + 1e-7;                                          \
      for (long i = 0; i < kIters; ++i) {                                                  \
        for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * x + y;                         \
        asm volatile("" : "+v"(x), "+v"(y));                                               \
      }                                                                                    \
      double sum = 0.0;                                                                    \
      for (int c = 0; c < kChains; ++c) {                                                  \
        for (int l = 0; l < width; ++l) sum += acc[c][l];                                  \
      }                                                                                    \
      benchmark::DoNotOptimize(sum);                                                       \
    }                                                                                      \
    state.counters["GFLOP/s"] = benchmark::Counter(                                        \
        2.0 * width * kChains * kIters * state.iterations(), benchmark::Counter::kIsRate); \
  }
LORANK_PEAK_CHAINS(peak_chains8, 8)
LORANK_PEAK_CHAINS(peak_chains4, 4)
void BM_PeakFma(benchmark::State& state) {
  if (!lorank::cpu_supports(lorank::KernelLevel::kAvx512)) {
    state.SkipWithError("no AVX-512");
    return;
  }
  peak_chains8(state);
}
BENCHMARK(BM_PeakFma);
void BM_PeakFmaAvx2(benchmark::State& state) {
  if (!lorank::cpu_supports(lorank::KernelLevel::kAvx2)) {
    state.SkipWithError("no AVX2");
    return;
  }
  peak_chains4(state);  // 4-double vectors: VEX-encoded FMAs on 16 ymm registers
}
BENCHMARK(BM_PeakFmaAvx2);

}  // namespace

BENCHMARK_MAIN();
