// GGUF LoRA adapters through open_adapter / module_spectra / write_adapter: the same
// factors give the same spectra as their PEFT twin, and read → write is byte-identical.
#include <gtest/gtest.h>

#include <cmath>

#include "lorank/adapter.h"
#include "lorank/dense_svd.h"
#include "lorank/gguf.h"
#include "lorank/matrix.h"
#include "lorank/resize.h"
#include "lorank/spectra.h"
#include "support/adapter_builder.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using lorank::testing::AdapterBuilder;
using lorank::testing::TempDir;

struct Owned {
  std::string name;
  Shape shape;
  std::vector<std::byte> bytes;
};

// blk.N.attn_q.weight factors (r = 4, in = 24, out = 16) with deterministic values.
std::vector<Owned> factors(int blocks) {
  std::vector<Owned> out;
  for (int b = 0; b < blocks; ++b) {
    for (const auto& [suffix, shape] : {std::pair{".lora_a", Shape{{4, 24}}}, std::pair{".lora_b", Shape{{16, 4}}}}) {
      Owned o{fmt::format("blk.{}.attn_q.weight{}", b, suffix), shape, {}};
      std::vector<double> v(static_cast<std::size_t>(shape.numel()));
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::cos(0.3 * static_cast<double>(i) + b + (suffix[6] == 'b'));
      o.bytes.resize(v.size() * 4);
      EXPECT_TRUE(from_double(v, DType::kF32, o.bytes).ok());
      out.push_back(std::move(o));
    }
  }
  return out;
}

std::vector<TensorView> views(const std::vector<Owned>& f) {
  std::vector<TensorView> v;
  for (const Owned& o : f) v.push_back({o.name, DType::kF32, o.shape, o.bytes});
  return v;
}

std::vector<GgufKv> kvs(std::optional<float> alpha, const char* type = "adapter") {
  std::vector<GgufKv> k = {{"general.architecture", GgufValue::string("llama")},
                           {"general.type", GgufValue::string(type)},
                           {"adapter.type", GgufValue::string("lora")}};
  if (alpha) k.push_back({"adapter.lora.alpha", GgufValue::of(*alpha)});
  return k;
}

TEST(GgufAdapterLevel, SpectraEqualPeftTwinAndRoundTripIsByteIdentical) {
  TempDir dir;
  const std::vector<Owned> f = factors(2);
  ASSERT_TRUE(write_gguf(dir / "a.gguf", kvs(16.0f), views(f)).ok());
  Result<Adapter> g = open_adapter(dir / "a.gguf");
  ASSERT_TRUE(g) << g.error().message();
  EXPECT_EQ(g->format, AdapterFormat::kGguf);
  ASSERT_EQ(g->modules.size(), 2u);
  EXPECT_EQ(g->modules[0].name, "blk.0.attn_q.weight");
  EXPECT_DOUBLE_EQ(g->modules[0].scale, 4.0);
  EXPECT_EQ(g->metadata.at("general.architecture"), "llama");

  // The PEFT twin: same numbers under PEFT names, lora_alpha 16, r 4.
  fs::create_directory(dir / "peft");
  AdapterBuilder peft;
  for (const TensorView& v : views(f)) {
    std::vector<double> d(static_cast<std::size_t>(v.numel()));
    ASSERT_TRUE(to_double(v, d).ok());
    const std::string base(v.name.substr(0, v.name.size() - 7));
    peft.add("base_model.model." + base + (v.name.ends_with("lora_a") ? ".lora_A.weight" : ".lora_B.weight"),
             v.shape.dims, d);
  }
  peft.config(R"({"r": 4, "lora_alpha": 16})").write(dir / "peft");
  Result<Adapter> p = open_adapter(dir / "peft");
  ASSERT_TRUE(p) << p.error().message();
  auto sg = module_spectra(*g);
  auto sp = module_spectra(*p);
  ASSERT_TRUE(sg && sp);
  EXPECT_EQ(*sg, *sp);

  ASSERT_TRUE(write_adapter(*g, dir / "b.gguf").ok());
  EXPECT_EQ(lorank::testing::read_text_file(dir / "b.gguf"), lorank::testing::read_text_file(dir / "a.gguf"));
}

// llama.cpp stores the token embedding's lora_a as (n_vocab, r): read as A = its transpose
// (an embedding module, ΔE = (B·A)ᵀ as in PEFT), written back flipped, resized in place.
TEST(GgufAdapterLevel, TokenEmbeddingIsStoredFlipped) {
  TempDir dir;
  std::vector<Owned> f = factors(1);
  const std::size_t vocab = 50, r = 4, embd = 16;
  Matrix a_np(vocab, r), b(embd, r);  // as llama.cpp stores them
  for (std::size_t i = 0; i < a_np.size(); ++i) a_np.data[i] = std::sin(0.7 * static_cast<double>(i * i % 53) + 0.1);
  for (std::size_t i = 0; i < b.size(); ++i) b.data[i] = std::cos(1.3 * static_cast<double>(i) + 0.2);
  for (const auto& [name, m] : {std::pair{"token_embd.weight.lora_a", &a_np}, std::pair{"token_embd.weight.lora_b", &b}}) {
    Owned o{name, Shape{{static_cast<int64_t>(m->rows), static_cast<int64_t>(m->cols)}}, {}};
    o.bytes.resize(m->size() * 4);
    ASSERT_TRUE(from_double(m->data, DType::kF32, o.bytes).ok());
    f.push_back(std::move(o));
  }
  ASSERT_TRUE(write_gguf(dir / "e.gguf", kvs(8.0f), views(f)).ok());
  Result<Adapter> g = open_adapter(dir / "e.gguf");
  ASSERT_TRUE(g) << g.error().message();
  ASSERT_EQ(g->modules.size(), 2u);
  const LoraModule& e = g->modules[1];
  EXPECT_EQ(e.name, "token_embd.weight");
  EXPECT_EQ(e.kind, ModuleKind::kEmbedding);
  EXPECT_EQ(e.rank, r);
  EXPECT_EQ(e.in, vocab);
  EXPECT_EQ(e.out, embd);
  EXPECT_DOUBLE_EQ(e.scale, 8.0 / 4.0);
  // Oracle: LAPACK's dense SVD of s·B·A_npᵀ (F32 values are exact in double).
  Matrix a_t(r, vocab);
  for (std::size_t i = 0; i < vocab; ++i) {
    for (std::size_t j = 0; j < r; ++j) a_t(j, i) = static_cast<double>(static_cast<float>(a_np(i, j)));
  }
  Matrix b32 = b;
  for (double& v : b32.data) v = static_cast<double>(static_cast<float>(v));
  Matrix dense = matmul(b32, a_t);
  for (double& v : dense.data) v *= 2.0;
  Result<std::vector<double>> want = dense_singular_values(dense);
  auto got = module_spectra(*g);
  ASSERT_TRUE(want && got);
  for (std::size_t i = 0; i < r; ++i) EXPECT_NEAR((*got)[1][i], (*want)[i], 1e-12 * (*want)[0]);

  // Round trip: llama.cpp's layout restored byte for byte.
  ASSERT_TRUE(write_adapter(*g, dir / "f.gguf").ok());
  EXPECT_EQ(lorank::testing::read_text_file(dir / "f.gguf"), lorank::testing::read_text_file(dir / "e.gguf"));

  // Resized to rank 2: lora_a stays (n_vocab, k) on disk, the spectrum's head is kept.
  ResizeOptions options;
  options.rule = *RankRule::parse("fixed:2");
  Result<ResizeResult> rs = resize_adapter(*g, options);
  ASSERT_TRUE(rs) << rs.error().message();
  ASSERT_TRUE(write_adapter(rs->adapter, dir / "k.gguf").ok());
  Result<GgufFile> raw = GgufFile::open(dir / "k.gguf");
  ASSERT_TRUE(raw);
  Result<std::vector<TensorView>> stored = raw->tensors();
  ASSERT_TRUE(stored);
  bool seen = false;
  for (const TensorView& t : *stored) {
    if (t.name != "token_embd.weight.lora_a") continue;
    seen = true;
    EXPECT_EQ(t.shape, (Shape{{50, 2}}));
  }
  EXPECT_TRUE(seen);
  Result<Adapter> k = open_adapter(dir / "k.gguf");
  ASSERT_TRUE(k) << k.error().message();
  auto ks = module_spectra(*k);
  ASSERT_TRUE(ks);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_NEAR((*ks)[1][i], (*want)[i], 1e-6 * (*want)[0]);
}

TEST(GgufAdapterLevel, NoAlphaMeansScaleOne) {
  TempDir dir;
  const std::vector<Owned> f = factors(1);
  ASSERT_TRUE(write_gguf(dir / "a.gguf", kvs(std::nullopt), views(f)).ok());
  Result<Adapter> g = open_adapter(dir / "a.gguf");
  ASSERT_TRUE(g) << g.error().message();
  EXPECT_DOUBLE_EQ(g->modules[0].scale, 1.0);
  ASSERT_EQ(g->warnings.size(), 1u);
}

TEST(GgufAdapterLevel, NotAnAdapterOrNoFactors) {
  TempDir dir;
  const std::vector<Owned> f = factors(1);
  ASSERT_TRUE(write_gguf(dir / "model.gguf", kvs(8.0f, "model"), views(f)).ok());
  Result<Adapter> m = open_adapter(dir / "model.gguf");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), StatusCode::kNotSupported);
  EXPECT_NE(m.error().message().find("model.gguf"), std::string::npos);

  std::vector<TensorView> other = {{"blk.0.ffn.weight", DType::kF32, f[0].shape, f[0].bytes}};
  ASSERT_TRUE(write_gguf(dir / "empty.gguf", kvs(8.0f), other).ok());
  Result<Adapter> e = open_adapter(dir / "empty.gguf");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), StatusCode::kCorruption);

  std::vector<TensorView> unpaired = {views(f)[0]};
  ASSERT_TRUE(write_gguf(dir / "unpaired.gguf", kvs(8.0f), unpaired).ok());
  Result<Adapter> u = open_adapter(dir / "unpaired.gguf");
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().message().find("has no matching B factor"), std::string::npos);
}

}  // namespace
}  // namespace lorank
