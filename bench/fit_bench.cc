// The fit engine's speed against the machine's measured double-precision throughput for
// the same 64×r shapes (OpenBLAS dgemm); the register-only FMA peak is in machine_bench.
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

}  // namespace

BENCHMARK_MAIN();
