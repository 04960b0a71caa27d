// Realistic llama.cpp LoRA adapter GGUFs (llama-style tensor names, general.type=adapter,
// adapter.type=lora, adapter.lora.alpha): metadata, names, shapes and values come out right.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "lorank/gguf.h"
#include "support/seed.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using lorank::testing::TempDir;

struct Factor {
  std::string name;
  Shape shape;                 // row-major: lora_a {r, in}, lora_b {out, r}
  std::vector<double> values;  // exactly representable in the stored dtype
  std::vector<std::byte> data;
};

// Two llama blocks, q/k/v/o projections, rank 4; in = 64, out = 64 (k/v: 16, GQA-style).
std::vector<Factor> llama_factors(std::mt19937_64& rng, DType dtype) {
  std::vector<Factor> out;
  std::normal_distribution<double> normal(0.0, 0.05);
  const int64_t r = 4, in = 64;
  for (int blk = 0; blk < 2; ++blk) {
    for (const char* proj : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
      const int64_t o = (proj[5] == 'k' || proj[5] == 'v') ? 16 : 64;
      const std::string base = fmt::format("blk.{}.{}.weight", blk, proj);
      for (const auto& [suffix, shape] :
           {std::pair{".lora_a", Shape{{r, in}}}, std::pair{".lora_b", Shape{{o, r}}}}) {
        Factor f{base + suffix, shape, {}, {}};
        f.values.resize(static_cast<std::size_t>(shape.numel()));
        for (double& v : f.values) v = normal(rng);
        f.data.resize(f.values.size() * dtype_size(dtype));
        EXPECT_TRUE(from_double(f.values, dtype, f.data).ok());
        EXPECT_TRUE(
            to_double(TensorView{f.name, dtype, shape, f.data}, f.values).ok());  // stored values
        out.push_back(std::move(f));
      }
    }
  }
  return out;
}

std::vector<GgufKv> adapter_kvs(float alpha) {
  return {{"general.architecture", GgufValue::string("llama")},
          {"general.type", GgufValue::string("adapter")},
          {"general.name", GgufValue::string("Tiny Llama LoRA")},
          {"adapter.type", GgufValue::string("lora")},
          {"adapter.lora.alpha", GgufValue::of(alpha)}};
}

TEST(GgufAdapter, LlamaStyleAdapterReadsBack) {
  const uint64_t seed = testing::test_seed("GgufAdapter.LlamaStyleAdapterReadsBack");
  std::mt19937_64 rng(seed);
  TempDir dir;
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const std::vector<Factor> factors = llama_factors(rng, dtype);
    std::vector<TensorView> views;
    for (const Factor& f : factors) views.push_back({f.name, dtype, f.shape, f.data});
    const auto path = dir / "adapter.gguf";
    ASSERT_TRUE(write_gguf(path, adapter_kvs(16.0f), views, {.overwrite = true}).ok());

    auto file = GgufFile::open(path);
    ASSERT_TRUE(file.has_value()) << file.error().to_string();
    auto meta = gguf_lora_metadata(*file);
    ASSERT_TRUE(meta.has_value()) << meta.error().to_string();
    EXPECT_EQ(meta->architecture, "llama");
    EXPECT_EQ(meta->alpha, 16.0f);
    ASSERT_EQ(file->tensor_infos().size(), factors.size());
    for (const Factor& f : factors) {
      const GgufTensorInfo* info = file->find_tensor_info(f.name);
      ASSERT_NE(info, nullptr) << f.name;
      EXPECT_EQ(info->ggml_type, *ggml_type_for(dtype));
      // ggml order: lora_a ne = [in, r], lora_b ne = [r, out].
      EXPECT_EQ(info->ne,
                (std::vector<uint64_t>{uint64_t(f.shape.dims[1]), uint64_t(f.shape.dims[0])}));
      EXPECT_EQ(info->shape, f.shape);
      std::vector<double> got(f.values.size());
      ASSERT_TRUE(gguf_tensor_to_double(*info, got).ok());
      EXPECT_EQ(got, f.values) << f.name;
    }
    // lora_a and lora_b agree on r in ggml terms: a.ne[1] == b.ne[0] (llama-adapter.cpp's check).
    const auto* a = file->find_tensor_info("blk.1.attn_k.weight.lora_a");
    const auto* b = file->find_tensor_info("blk.1.attn_k.weight.lora_b");
    EXPECT_EQ(a->ne[1], b->ne[0]);
    EXPECT_EQ(b->shape, Shape({{16, 4}}));
  }
}

TEST(GgufAdapter, AlphaZeroOrAbsentIsReportedAbsent) {
  TempDir dir;
  const std::vector<TensorView> none;
  ASSERT_TRUE(write_gguf(dir / "z.gguf", adapter_kvs(0.0f), none).ok());
  EXPECT_FALSE(gguf_lora_metadata(GgufFile::open(dir / "z.gguf").value())->alpha.has_value());
  auto kvs = adapter_kvs(1.0f);
  kvs.pop_back();
  ASSERT_TRUE(write_gguf(dir / "n.gguf", kvs, none).ok());
  EXPECT_FALSE(gguf_lora_metadata(GgufFile::open(dir / "n.gguf").value())->alpha.has_value());
}

TEST(GgufAdapter, MetadataErrors) {
  TempDir dir;
  const std::vector<TensorView> none;
  auto meta_status = [&](std::vector<GgufKv> kvs) {
    const auto p = dir / "m.gguf";
    EXPECT_TRUE(write_gguf(p, kvs, none, {.overwrite = true}).ok());
    return gguf_lora_metadata(GgufFile::open(p).value()).status();
  };
  Status s = meta_status({{"general.type", GgufValue::string("model")}});
  EXPECT_EQ(s.code(), StatusCode::kNotSupported);
  EXPECT_NE(s.message().find("not a LoRA adapter: general.type is \"model\", expected \"adapter\""),
            std::string::npos)
      << s.message();
  s = meta_status({{"general.type", GgufValue::string("adapter")}});
  EXPECT_NE(s.message().find("adapter.type is missing, expected \"lora\""), std::string::npos)
      << s.message();
  s = meta_status({{"general.type", GgufValue::of(uint32_t{1})}});
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("general.type is a u32, not a string"), std::string::npos)
      << s.message();
  auto kvs = adapter_kvs(1.0f);
  kvs.back().value = GgufValue::of(16.0);
  s = meta_status(kvs);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("adapter.lora.alpha is a f64, not f32"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace lorank
