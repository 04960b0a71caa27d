// The machine's own limits, which bench/run_all.sh reads every other figure against:
//   BM_PeakFma*        one core's double-precision FMA peak, registers only, per vector width
//   BM_ReadBandwidth   reading 1 GiB of doubles from memory (bytes per second), 1 and 2 threads
//   BM_CopyBandwidth   memcpy of 1 GiB (bytes read + written per second), one thread
//   build/bench/machine_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "lorank/kernels.h"

namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 30;

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
#define LORANK_PEAK_CHAINS(name, width, target)                                            \
  target void name(benchmark::State& state) {                                              \
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
LORANK_PEAK_CHAINS(peak_chains8, 8, LORANK_PEAK_TARGET)
LORANK_PEAK_CHAINS(peak_chains4, 4, LORANK_PEAK_TARGET)
// Plain SSE2 (every x86-64): separate multiplies and adds, still 2 FLOPs per element.
LORANK_PEAK_CHAINS(peak_chains2, 2, )
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


void BM_PeakFmaSse2(benchmark::State& state) { peak_chains2(state); }  // every x86-64
BENCHMARK(BM_PeakFmaSse2);

// Each thread sums its own half of one 1 GiB buffer (4 independent sums, so the adds are
// not the limit): what streaming a factor through the caches at best costs.
void BM_ReadBandwidth(benchmark::State& state) {
  static std::vector<double> data(kBufferBytes / sizeof(double), 1.0);
  const std::size_t per = data.size() / static_cast<std::size_t>(state.threads());
  const double* p = data.data() + per * static_cast<std::size_t>(state.thread_index());
  for (auto _ : state) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (std::size_t i = 0; i + 4 <= per; i += 4) {
      s0 += p[i];
      s1 += p[i + 1];
      s2 += p[i + 2];
      s3 += p[i + 3];
    }
    benchmark::DoNotOptimize(s0 + s1 + s2 + s3);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * per * sizeof(double)));
}
BENCHMARK(BM_ReadBandwidth)->Threads(1)->Threads(2)->UseRealTime();

void BM_CopyBandwidth(benchmark::State& state) {
  std::vector<char> from(kBufferBytes, 1), to(kBufferBytes);
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), kBufferBytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * kBufferBytes));
}
BENCHMARK(BM_CopyBandwidth);

}  // namespace

BENCHMARK_MAIN();
