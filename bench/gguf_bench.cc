// GGUF read throughput: open (mmap + full validation) and widen every tensor of a ~300 MB
// BF16 LoRA adapter to double. Compare with safetensors_bench and with
// `cat file > /dev/null` from the page cache. The file is generated once in /tmp
// (LORANK_BENCH_GGUF overrides the path).
// BM_Dequantize: gguf_dequantize_rows() throughput per ggml type on one 2048×2048 tensor
// (16 MiB of float32 out); bytes/s counts the output (LORANK_BENCH_DEQUANT_GGUF overrides
// /tmp/lorank_bench_dequant.gguf).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

// One tensor per dequantizable type, random bytes with finite scales: for the quantised
// types the F16 scale fields of every block (offsets from ggml's block layouts) are set to
// small values; the float types get their top exponent bit cleared (finite, |x| < 2).
struct DequantCase {
  uint32_t type;
  std::vector<std::size_t> f16_fields;  // byte offsets of the F16 scales in a block
};
const std::vector<DequantCase>& dequant_cases() {
  static const std::vector<DequantCase> cases = {
      {lorank::kGgmlF32, {}},         {lorank::kGgmlF16, {}},         {lorank::kGgmlBF16, {}},
      {lorank::kGgmlF64, {}},         {lorank::kGgmlQ4_0, {0}},       {lorank::kGgmlQ4_1, {0, 2}},
      {lorank::kGgmlQ5_0, {0}},       {lorank::kGgmlQ5_1, {0, 2}},    {lorank::kGgmlQ8_0, {0}},
      {lorank::kGgmlQ2_K, {80, 82}},  {lorank::kGgmlQ3_K, {108}},     {lorank::kGgmlQ4_K, {0, 2}},
      {lorank::kGgmlQ5_K, {0, 2}},    {lorank::kGgmlQ6_K, {208}}};
  return cases;
}
constexpr uint64_t kDequantDim = 2048;

std::filesystem::path dequant_file() {
  const char* env = std::getenv("LORANK_BENCH_DEQUANT_GGUF");
  std::filesystem::path path = env && *env ? env : "/tmp/lorank_bench_dequant.gguf";
  if (std::filesystem::exists(path)) return path;
  std::mt19937_64 rng(7);
  std::vector<std::vector<std::byte>> data;
  std::vector<std::string> names;
  for (const DequantCase& c : dequant_cases()) {
    const lorank::GgmlTypeTraits traits = *lorank::ggml_type_traits(c.type);
    const uint64_t blocks = kDequantDim * kDequantDim / traits.block_elements;
    std::vector<std::byte>& bytes = data.emplace_back(blocks * traits.block_bytes);
    for (std::byte& b : bytes) b = static_cast<std::byte>(rng());
    for (uint64_t i = 0; i < blocks; ++i) {
      std::byte* block = bytes.data() + i * traits.block_bytes;
      if (c.f16_fields.empty()) {  // a float type: clear the top exponent bit
        block[traits.block_bytes - 1] &= std::byte{0xbf};
      }
      for (std::size_t off : c.f16_fields) {  // |x| in [2^-10, 2^-9) with a random sign
        block[off] = static_cast<std::byte>(rng());
        block[off + 1] = static_cast<std::byte>(0x14 | (rng() & 0x80));
      }
    }
    names.push_back(std::string("t.") + std::string(traits.name));
  }
  std::vector<lorank::GgufWriteTensor> tensors;
  for (std::size_t i = 0; i < data.size(); ++i) {
    tensors.push_back({names[i], dequant_cases()[i].type, {kDequantDim, kDequantDim}, data[i]});
  }
  const lorank::Status s = lorank::write_gguf(path, {}, tensors);
  if (!s.ok()) {
    std::fprintf(stderr, "cannot create %s: %s\n", path.c_str(), s.to_string().c_str());
    std::abort();
  }
  return path;
}

// Dequantizes the whole tensor of type case `state.range(0)` (pages already resident after
// the first iteration); bytes/s is float32 output, "in" the stored bytes read per second.
void BM_Dequantize(benchmark::State& state) {
  static const lorank::GgufFile file = open_or_die(dequant_file());
  const lorank::GgufTensorInfo& info = file.tensor_infos()[static_cast<std::size_t>(state.range(0))];
  std::vector<float> out(kDequantDim * kDequantDim);
  for (auto _ : state) {
    if (!lorank::gguf_dequantize_rows(info, 0, out).ok()) std::abort();
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(lorank::ggml_type_traits(info.ggml_type)->name));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size() * sizeof(float)));
  state.counters["in"] = benchmark::Counter(static_cast<double>(state.iterations() * info.data.size()),
                                            benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Dequantize)->DenseRange(0, 13)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
