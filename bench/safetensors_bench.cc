// Safetensors read throughput: open (mmap + header validation) and widen every tensor of a
// ~300 MB BF16 file to double. Compare with `cat file > /dev/null` from the page cache.
// The file is generated once in /tmp (LORANK_BENCH_FILE overrides the path).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "lorank/safetensors.h"

namespace {

constexpr int kTensors = 150;
constexpr int64_t kRows = 1024, kCols = 1024;  // 2 MiB of BF16 per tensor, ~315 MB total

std::filesystem::path bench_file() {
  const char* env = std::getenv("LORANK_BENCH_FILE");
  std::filesystem::path path = env && *env ? env : "/tmp/lorank_bench_bf16_300mb.safetensors";
  if (std::filesystem::exists(path)) return path;
  std::mt19937 rng(42);
  std::normal_distribution<double> normal(0.0, 0.02);
  std::vector<double> values(static_cast<std::size_t>(kRows * kCols));
  std::vector<std::vector<std::byte>> data(kTensors);
  std::vector<std::string> names(kTensors);
  std::vector<lorank::TensorView> views;
  for (int i = 0; i < kTensors; ++i) {
    for (double& v : values) v = normal(rng);
    data[i].resize(values.size() * 2);
    if (!lorank::from_double(values, lorank::DType::kBF16, data[i]).ok()) std::abort();
    names[i] = "layers." + std::to_string(i) + ".lora_A.weight";
    views.push_back({names[i], lorank::DType::kBF16, lorank::Shape{{kRows, kCols}}, data[i]});
  }
  const lorank::Status s = lorank::write_safetensors(path, views, {{"format", "pt"}});
  if (!s.ok()) {
    std::fprintf(stderr, "cannot create %s: %s\n", path.c_str(), s.to_string().c_str());
    std::abort();
  }
  return path;
}

lorank::SafetensorsFile open_or_die(const std::filesystem::path& path) {
  auto f = lorank::SafetensorsFile::open(path);
  if (!f) {
    std::fprintf(stderr, "%s\n", f.error().to_string().c_str());
    std::abort();
  }
  return std::move(f).value();
}

// Open + validate + widen every tensor; bytes are the stored (BF16) bytes read.
void BM_OpenAndWidenAll(benchmark::State& state) {
  const auto path = bench_file();
  std::vector<double> out;
  int64_t bytes = 0;
  for (auto _ : state) {
    lorank::SafetensorsFile f = open_or_die(path);
    for (const lorank::TensorView& t : f.tensors()) {
      out.resize(static_cast<std::size_t>(t.numel()));
      if (!lorank::to_double(t, out).ok()) std::abort();
      benchmark::DoNotOptimize(out.data());
      bytes += static_cast<int64_t>(t.data.size());
    }
  }
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_OpenAndWidenAll)->Unit(benchmark::kMillisecond)->UseRealTime();

// Open + validate only (mmap and header parse), no data touched.
void BM_OpenOnly(benchmark::State& state) {
  const auto path = bench_file();
  for (auto _ : state) {
    lorank::SafetensorsFile f = open_or_die(path);
    benchmark::DoNotOptimize(f.tensors().data());
  }
}
BENCHMARK(BM_OpenOnly)->Unit(benchmark::kMicrosecond);

// Reading the mapped bytes without converting (a byte sum): the mmap/page-fault floor.
void BM_OpenAndTouchAll(benchmark::State& state) {
  const auto path = bench_file();
  int64_t bytes = 0;
  for (auto _ : state) {
    lorank::SafetensorsFile f = open_or_die(path);
    uint64_t sum = 0;
    for (const lorank::TensorView& t : f.tensors()) {
      for (std::byte b : t.data) sum += static_cast<uint64_t>(b);
      bytes += static_cast<int64_t>(t.data.size());
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_OpenAndTouchAll)->Unit(benchmark::kMillisecond)->UseRealTime();

// The conversion kernels alone, on a cache-resident 256 KiB input.
void BM_WidenInCache(benchmark::State& state) {
  const auto dtype = static_cast<lorank::DType>(state.range(0));
  const std::size_t n = 256 * 1024 / lorank::dtype_size(dtype);
  std::vector<std::byte> in(n * lorank::dtype_size(dtype), std::byte{0x3c});
  std::vector<double> out(n);
  const lorank::TensorView t{"x", dtype, lorank::Shape{{static_cast<int64_t>(n)}}, in};
  for (auto _ : state) {
    if (!lorank::to_double(t, out).ok()) std::abort();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(in.size()));
  state.SetLabel(std::string(lorank::dtype_name(dtype)));
}
BENCHMARK(BM_WidenInCache)
    ->Arg(static_cast<int>(lorank::DType::kBF16))
    ->Arg(static_cast<int>(lorank::DType::kF16))
    ->Arg(static_cast<int>(lorank::DType::kF32));

}  // namespace

BENCHMARK_MAIN();
