// GGUF read throughput: open (mmap + full validation) and widen every tensor of a ~300 MB
// BF16 LoRA adapter to double. Compare with safetensors_bench and with
// `cat file > /dev/null` from the page cache. The file is generated once in /tmp
// (LORANK_BENCH_GGUF overrides the path).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "lorank/gguf.h"

namespace {

constexpr int kBlocks = 75;                  // 75 blocks × (lora_a + lora_b) = 150 tensors
constexpr int64_t kRank = 256, kDim = 4096;  // 2 MiB of BF16 per factor, ~315 MB total

std::filesystem::path bench_file() {
  const char* env = std::getenv("LORANK_BENCH_GGUF");
  std::filesystem::path path = env && *env ? env : "/tmp/lorank_bench_bf16_300mb.gguf";
  if (std::filesystem::exists(path)) return path;
  std::mt19937 rng(42);
  std::normal_distribution<double> normal(0.0, 0.02);
  std::vector<double> values(static_cast<std::size_t>(kRank * kDim));
  std::vector<std::vector<std::byte>> data(2 * kBlocks);
  std::vector<std::string> names(2 * kBlocks);
  std::vector<lorank::TensorView> views;
  for (int i = 0; i < 2 * kBlocks; ++i) {
    for (double& v : values) v = normal(rng);
    data[i].resize(values.size() * 2);
    if (!lorank::from_double(values, lorank::DType::kBF16, data[i]).ok()) std::abort();
    const bool is_a = i % 2 == 0;
    names[i] = "blk." + std::to_string(i / 2) + ".attn_q.weight" + (is_a ? ".lora_a" : ".lora_b");
    // lora_a is {r, in}, lora_b is {out, r} (row-major); the writer stores ne reversed.
    const lorank::Shape shape = is_a ? lorank::Shape{{kRank, kDim}} : lorank::Shape{{kDim, kRank}};
    views.push_back({names[i], lorank::DType::kBF16, shape, data[i]});
  }
  const std::vector<lorank::GgufKv> kvs = {
      {"general.architecture", lorank::GgufValue::string("llama")},
      {"general.type", lorank::GgufValue::string("adapter")},
      {"adapter.type", lorank::GgufValue::string("lora")},
      {"adapter.lora.alpha", lorank::GgufValue::of(32.0f)}};
  const lorank::Status s = lorank::write_gguf(path, kvs, views);
  if (!s.ok()) {
    std::fprintf(stderr, "cannot create %s: %s\n", path.c_str(), s.to_string().c_str());
    std::abort();
  }
  return path;
}

lorank::GgufFile open_or_die(const std::filesystem::path& path) {
  auto f = lorank::GgufFile::open(path);
  if (!f) {
    std::fprintf(stderr, "%s\n", f.error().to_string().c_str());
    std::abort();
  }
  return std::move(f).value();
}

// Open + validate + widen every tensor; bytes are the stored (BF16) bytes read.
void BM_GgufOpenAndWidenAll(benchmark::State& state) {
  const auto path = bench_file();
  std::vector<double> out;
  int64_t bytes = 0;
  for (auto _ : state) {
    lorank::GgufFile f = open_or_die(path);
    for (const lorank::GgufTensorInfo& t : f.tensor_infos()) {
      out.resize(static_cast<std::size_t>(t.shape.numel()));
      if (!lorank::gguf_tensor_to_double(t, out).ok()) std::abort();
      benchmark::DoNotOptimize(out.data());
      bytes += static_cast<int64_t>(t.data.size());
    }
  }
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_GgufOpenAndWidenAll)->Unit(benchmark::kMillisecond)->UseRealTime();

// Open + validate only (mmap, header, tensor infos, layout), no data touched.
void BM_GgufOpenOnly(benchmark::State& state) {
  const auto path = bench_file();
  for (auto _ : state) {
    lorank::GgufFile f = open_or_die(path);
    benchmark::DoNotOptimize(f.tensor_infos().data());
  }
}
BENCHMARK(BM_GgufOpenOnly)->Unit(benchmark::kMicrosecond);

// Reading the mapped bytes without converting (a byte sum): the mmap/page-fault floor.
void BM_GgufOpenAndTouchAll(benchmark::State& state) {
  const auto path = bench_file();
  int64_t bytes = 0;
  for (auto _ : state) {
    lorank::GgufFile f = open_or_die(path);
    uint64_t sum = 0;
    for (const lorank::GgufTensorInfo& t : f.tensor_infos()) {
      for (std::byte b : t.data) sum += static_cast<uint64_t>(b);
      bytes += static_cast<int64_t>(t.data.size());
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_GgufOpenAndTouchAll)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
