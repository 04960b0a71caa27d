// The fit engine's speed against the machine's measured double-precision throughput for
// the same 64×r shapes (OpenBLAS dgemm), and against a register-only FMA peak.
//   build/bench/fit_bench [--benchmark_filter=...]
// FLOPs are nominal: one gradient step of a 64×64 fit at rank r is 3 products of
// 2·64·64·r each (B·A, Bᵀ·E, E·Aᵀ).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <vector>

#include "lorank/fit.h"

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

// Independent FMA chains in registers: the core's double-precision peak.
void BM_PeakFma(benchmark::State& state) {
  typedef double Vec __attribute__((vector_size(64)));
  constexpr int kChains = 16;
  constexpr long kIters = 1 << 16;
  for (auto _ : state) {
    Vec acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = Vec{} + 1.0 * c;
    Vec x = Vec{} + 0.999999, y = Vec{} + 1e-7;
    for (long i = 0; i < kIters; ++i) {
      for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * x + y;
      asm volatile("" : "+v"(x), "+v"(y));
    }
    for (int c = 0; c < kChains; ++c) benchmark::DoNotOptimize(acc[c]);
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * 8 * kChains * kIters * state.iterations(),
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PeakFma);

}  // namespace

BENCHMARK_MAIN();
