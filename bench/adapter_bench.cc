// Reading and auditing a whole adapter: open (header, pairing, scales), open + widen every
// factor to float64, and the full module spectra.
//   LORANK_BENCH_ADAPTER=DIR build/bench/adapter_bench
// DIR defaults to /tmp/lorabench/7b-r64-bf16, made with
//   ../shared/bench/make_adapter.py --preset 7b --r 64 --alpha 16 --dtype BF16
//       --planted-rank 8 --out /tmp/lorabench/7b-r64-bf16   (one command line)
// Bytes/s counts the weights file's size.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/spectra.h"

namespace {

std::filesystem::path adapter_path() {
  const char* env = std::getenv("LORANK_BENCH_ADAPTER");
  return env && *env ? env : "/tmp/lorabench/7b-r64-bf16";
}

bool load(benchmark::State& state, lorank::Result<lorank::Adapter>& out) {
  out = lorank::open_adapter(adapter_path());
  if (!out) state.SkipWithError(out.error().message().c_str());
  return out.has_value();
}

void set_bytes(benchmark::State& state, const lorank::Adapter& a) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(std::filesystem::file_size(a.weights_path)));
}

void BM_OpenAdapter(benchmark::State& state) {
  lorank::Result<lorank::Adapter> a = lorank::internal_error("not loaded");
  for (auto _ : state) {
    if (!load(state, a)) return;
  }
  set_bytes(state, *a);
}
BENCHMARK(BM_OpenAdapter)->Unit(benchmark::kMillisecond);

void BM_OpenAndWiden(benchmark::State& state) {
  lorank::Result<lorank::Adapter> a = lorank::internal_error("not loaded");
  std::vector<double> buf;
  for (auto _ : state) {
    if (!load(state, a)) return;
    for (const lorank::LoraModule& m : a->modules) {
      for (const lorank::TensorView* t : {&m.A, &m.B}) {
        buf.resize(static_cast<std::size_t>(t->numel()));
        benchmark::DoNotOptimize(lorank::to_double(*t, buf));
      }
    }
  }
  set_bytes(state, *a);
}
BENCHMARK(BM_OpenAndWiden)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Spectra(benchmark::State& state) {
  lorank::Result<lorank::Adapter> a = lorank::internal_error("not loaded");
  for (auto _ : state) {
    if (!load(state, a)) return;
    benchmark::DoNotOptimize(lorank::module_spectra(*a));
  }
  set_bytes(state, *a);
}
BENCHMARK(BM_Spectra)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
