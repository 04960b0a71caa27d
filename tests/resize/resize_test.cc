// resize: truncated factors of synthetic PEFT (rank/alpha patterns, rsLoRA, DoRA,
// passthrough), kohya (conv, F16 alphas) and GGUF adapters, written, re-opened and checked
// against the input's spectrum and the Eckart–Young bound.
#include "lorank/resize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "lorank/gguf.h"
#include "lorank/spectra.h"
#include "support/adapter_builder.h"
#include "support/resize_check.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using lorank::testing::AdapterBuilder;
using lorank::testing::check_resized;
using lorank::testing::dense_update;
using lorank::testing::ResizeCheck;
using lorank::testing::resize_options;
using lorank::testing::TempDir;

RankRule rule(std::string_view spec) {
  Result<RankRule> r = RankRule::parse(spec);
  EXPECT_TRUE(r) << spec;
  return r ? *r : RankRule();
}

std::vector<double> pattern(std::size_t n, double salt) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(salt * 1.3 + 0.71 * static_cast<double>(i) * (1 + 0.1 * salt));
  return v;
}

// PEFT, F64: rsLoRA, DoRA magnitudes, rank/alpha patterns, an untrained module, a passthrough.
fs::path write_peft(const fs::path& dir, DType dtype = DType::kF64) {
  const std::string p = "base_model.model.layers.";
  AdapterBuilder b;
  b.add(p + "0.q_proj.lora_A.weight", {6, 10}, pattern(60, 1), dtype)
      .add(p + "0.q_proj.lora_B.weight", {12, 6}, pattern(72, 2), dtype)
      .add(p + "0.q_proj.lora_magnitude_vector", {12}, pattern(12, 3), dtype)
      .add(p + "0.v_proj.lora_A.weight", {4, 14}, pattern(56, 4), dtype)
      .add(p + "0.v_proj.lora_B.weight", {8, 4}, pattern(32, 5), dtype)
      .add(p + "0.v_proj.lora_magnitude_vector", {8}, pattern(8, 6), dtype)
      .add(p + "1.q_proj.lora_A.weight", {6, 10}, pattern(60, 7), dtype)
      .add(p + "1.q_proj.lora_B.weight", {12, 6}, std::vector<double>(72, 0.0), dtype)
      .add(p + "1.q_proj.lora_magnitude_vector", {12}, pattern(12, 8), dtype)
      .add("base_model.model.embed_tokens.lora_embedding_A", {4, 20}, pattern(80, 10), dtype)
      .add("base_model.model.embed_tokens.lora_embedding_B", {6, 4}, pattern(24, 11), dtype)
      .add("base_model.model.score.weight", {3, 5}, pattern(15, 9), DType::kF32)
      .metadata("format", "pt")
      .config(R"({"peft_type": "LORA", "r": 6, "lora_alpha": 12, "use_rslora": true,
                 "use_dora": true, "rank_pattern": {"v_proj": 4, "embed_tokens": 4}, "alpha_pattern": {"v_proj": 3},
                 "inference_mode": true, "target_modules": ["q_proj", "v_proj"],
                 "lora_dropout": 0.05})");
  return b.write(dir);
}

TEST(TruncateModule, FactorsReproduceTheTruncatedUpdate) {
  TempDir tmp;
  Result<Adapter> a = open_adapter(write_peft(tmp.path()).parent_path());
  ASSERT_TRUE(a) << a.status().message();
  const LoraModule& m = a->modules[0];
  const auto sv = module_spectra(*a);
  ASSERT_TRUE(sv);
  for (bool sigma_in_b : {false, true}) {
    for (double new_scale : {m.scale, -0.25, 3.0}) {
      Result<TruncatedFactors> t = truncate_module(m, 3, sigma_in_b, new_scale);
      ASSERT_TRUE(t) << t.status().message();
      ASSERT_EQ(t->k, 3u);
      ASSERT_EQ(t->b.size(), m.out * 3);
      ASSERT_EQ(t->a.size(), 3 * m.in);
      // new_scale·B'·A' against the dense truncation error √(Σ_{i>3}σ²).
      const std::vector<double> d0 = dense_update(m);
      double diff = 0.0, tail = 0.0;
      for (std::size_t i = 3; i < (*sv)[0].size(); ++i) tail += (*sv)[0][i] * (*sv)[0][i];
      for (std::size_t o = 0; o < m.out; ++o) {
        for (std::size_t j = 0; j < m.in; ++j) {
          double v = 0.0;
          for (std::size_t c = 0; c < 3; ++c) v += t->b[o * 3 + c] * t->a[c * m.in + j];
          diff += (d0[o * m.in + j] - new_scale * v) * (d0[o * m.in + j] - new_scale * v);
        }
      }
      EXPECT_NEAR(std::sqrt(diff), std::sqrt(tail), 1e-12 * (*sv)[0][0]);
      EXPECT_NEAR(t->condition, (*sv)[0][0] / (*sv)[0][2], 1e-9 * t->condition);
      if (sigma_in_b) {  // A' has orthonormal rows
        for (std::size_t r = 0; r < 3; ++r) {
          for (std::size_t q = 0; q < 3; ++q) {
            double dot = 0.0;
            for (std::size_t j = 0; j < m.in; ++j) dot += t->a[r * m.in + j] * t->a[q * m.in + j];
            EXPECT_NEAR(dot, r == q ? 1.0 : 0.0, 1e-12);
          }
        }
      }
    }
  }
  EXPECT_EQ(truncate_module(m, 0, false, 1.0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(truncate_module(m, 7, false, 1.0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(truncate_module(m, 2, false, 0.0).status().code(), StatusCode::kInvalidData);
  Result<TruncatedFactors> z = truncate_module(a->modules[2], 4, false, 1.0);
  ASSERT_TRUE(z);
  EXPECT_TRUE(z->zero);
  EXPECT_EQ(z->k, 1u);
}

// ‖s·B·A − new_scale·B'·A'‖_F for a truncation `t` of `m`.
double truncation_error(const LoraModule& m, const TruncatedFactors& t, double new_scale) {
  const std::vector<double> d0 = dense_update(m);
  double diff = 0.0;
  for (std::size_t o = 0; o < m.out; ++o) {
    for (std::size_t j = 0; j < m.in; ++j) {
      double v = 0.0;
      for (std::size_t c = 0; c < t.k; ++c) v += t.b[o * t.k + c] * t.a[c * m.in + j];
      diff += (d0[o * m.in + j] - new_scale * v) * (d0[o * m.in + j] - new_scale * v);
    }
  }
  return std::sqrt(diff);
}

// Both routes of truncate_module: the streamed one (new factor = old factor · r×k matrix)
// and the explicit-Q one it hands over to when σ_k is at rounding level, for rank-deficient,
// wide and badly conditioned factors.
TEST(TruncateModule, ExactForRankDeficientWideAndIllConditionedFactors) {
  TempDir tmp;
  std::vector<double> deficient_b = pattern(50, 1);  // 10×5, columns 3 and 4 copy 0 and 1
  for (std::size_t i = 0; i < 10; ++i) {
    deficient_b[i * 5 + 3] = 2.0 * deficient_b[i * 5];
    deficient_b[i * 5 + 4] = deficient_b[i * 5 + 1] - deficient_b[i * 5 + 2];
  }
  std::vector<double> graded_b = pattern(64, 5);  // 16×4, column norms 1 … 1e-9
  for (std::size_t i = 0; i < 16; ++i) {
    for (std::size_t c = 0; c < 4; ++c) graded_b[i * 4 + c] *= std::pow(1e-3, static_cast<double>(c));
  }
  const std::string p = "base_model.model.layers.0.";
  AdapterBuilder b;
  b.add(p + "deficient.lora_A.weight", {5, 12}, pattern(60, 2), DType::kF64)
      .add(p + "deficient.lora_B.weight", {10, 5}, deficient_b, DType::kF64)
      .add(p + "wide.lora_A.weight", {6, 4}, pattern(24, 3), DType::kF64)
      .add(p + "wide.lora_B.weight", {8, 6}, pattern(48, 4), DType::kF64)
      .add(p + "graded.lora_A.weight", {4, 20}, pattern(80, 6), DType::kF64)
      .add(p + "graded.lora_B.weight", {16, 4}, graded_b, DType::kF64)
      .config(R"({"peft_type": "LORA", "r": 4, "lora_alpha": 8,
                 "rank_pattern": {"deficient": 5, "wide": 6}})");
  Result<Adapter> a = open_adapter(b.write(tmp.path()).parent_path());
  ASSERT_TRUE(a) << a.status().message();
  const auto sv = module_spectra(*a);
  ASSERT_TRUE(sv);
  for (std::size_t i = 0; i < a->modules.size(); ++i) {
    const LoraModule& m = a->modules[i];
    const std::vector<double>& s = (*sv)[i];
    for (int k = 1; k <= static_cast<int>(s.size()); ++k) {
      for (bool sigma_in_b : {false, true}) {
        SCOPED_TRACE(fmt::format("{} k={} sigma_in_b={}", m.name, k, sigma_in_b));
        Result<TruncatedFactors> t = truncate_module(m, k, sigma_in_b, -0.5);
        ASSERT_TRUE(t) << t.status().message();
        double tail = 0.0;
        for (std::size_t j = static_cast<std::size_t>(k); j < s.size(); ++j) tail += s[j] * s[j];
        EXPECT_NEAR(truncation_error(m, *t, -0.5), std::sqrt(tail), 1e-12 * s[0]);
        // Directions at rounding level neither blow up nor lose orthogonality.
        for (double v : t->b) EXPECT_LT(std::fabs(v), 1e3 * std::sqrt(s[0]) + 1e3 * s[0]);
        if (sigma_in_b) {
          for (int r = 0; r < k; ++r) {
            for (int q = 0; q < k; ++q) {
              double dot = 0.0;
              for (std::size_t j = 0; j < m.in; ++j) dot += t->a[r * m.in + j] * t->a[q * m.in + j];
              EXPECT_NEAR(dot, r == q ? 1.0 : 0.0, 1e-10);
            }
          }
        }
      }
    }
  }
}

TEST(ResizeAdapter, PeftKeepsScalesConfigDoraAndPassthrough) {
  TempDir tmp;
  fs::create_directories(tmp / "in");
  Result<Adapter> a = open_adapter(write_peft(tmp / "in").parent_path());
  ASSERT_TRUE(a) << a.status().message();
  for (const char* spec : {"fixed:3", "energy:0.9", "threshold:0.01"}) {
    for (bool sigma_in_b : {false, true}) {
      SCOPED_TRACE(std::string(spec) + (sigma_in_b ? " sigma_in_b" : ""));
      Result<ResizeResult> r = resize_adapter(*a, resize_options(rule(spec), sigma_in_b, std::nullopt, 2));
      ASSERT_TRUE(r) << r.status().message();
      EXPECT_EQ(r->modules[2].new_rank, 1u);
      EXPECT_TRUE(r->modules[2].zero);
      EXPECT_FALSE(r->notes.empty());
      const fs::path out = tmp / fmt::format("out-{}-{}", spec[0], sigma_in_b);
      check_resized(*a, *r, out, ResizeCheck{1e-12, true, true});
      const auto j = nlohmann::json::parse(r->adapter.peft->raw_json);
      EXPECT_EQ(j["use_rslora"], true);
      EXPECT_EQ(j["inference_mode"], true);
      EXPECT_EQ(j["lora_dropout"], 0.05);
      EXPECT_EQ(j["target_modules"].size(), 2u);
      // r is the most common new rank; every other module is pinned by an anchored key.
      std::map<std::size_t, int> counts;
      for (const ResizeModule& m : r->modules) counts[m.new_rank] += m.zero ? 0 : 1;
      const auto mode = std::max_element(counts.begin(), counts.end(), [](auto& x, auto& y) {
        return x.second < y.second || (x.second == y.second && x.first < y.first);
      });
      EXPECT_EQ(j["r"], mode->first);
      for (const auto& [key, value] : j["rank_pattern"].items()) {
        EXPECT_EQ(key.front(), '^') << key;
        EXPECT_NE(value, mode->first) << key;
      }
      EXPECT_LE(r->totals.params_after, r->totals.params_before);
      EXPECT_LT(r->totals.bytes_after, r->totals.bytes_before);
    }
  }
  // BF16 output of F64 input: spectra to BF16 rounding.
  Result<ResizeResult> bf = resize_adapter(*a, resize_options(rule("fixed:3"), false, DType::kBF16, 1));
  ASSERT_TRUE(bf);
  EXPECT_EQ(bf->adapter.modules[0].A.dtype, DType::kBF16);
  const double worst = check_resized(*a, *bf, tmp / "bf16", ResizeCheck{1e-2, false, true});
  EXPECT_GT(worst, 1e-6);  // really narrowed
  EXPECT_EQ(resize_adapter(*a, resize_options(rule("fixed:3"), false, DType::kI8, 1)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ResizeAdapter, EmbeddingKeepsItsLayoutAndNonFiniteIsNamed) {
  TempDir tmp;
  Result<Adapter> a = open_adapter(write_peft(tmp.path()).parent_path());
  ASSERT_TRUE(a) << a.status().message();
  ASSERT_EQ(a->modules.back().kind, ModuleKind::kEmbedding);
  Result<ResizeResult> r = resize_adapter(*a, resize_options(rule("fixed:2"), false, std::nullopt, 1));
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->adapter.modules.back().A.shape, (Shape{{2, 20}}));
  EXPECT_EQ(r->adapter.modules.back().B.shape, (Shape{{6, 2}}));
  // A NaN in a factor: kNumerical naming the tensor, no partial result.
  Adapter bad = *a;
  std::vector<std::byte> bytes(bad.modules[1].A.data.begin(), bad.modules[1].A.data.end());
  const double nan = std::nan("");
  std::memcpy(bytes.data() + 8 * 5, &nan, 8);
  bad.modules[1].A.data = bytes;
  Result<ResizeResult> e = resize_adapter(bad, resize_options(rule("fixed:2"), false, std::nullopt, 2));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.status().code(), StatusCode::kNumerical);
  EXPECT_NE(e.status().message().find("layers.0.v_proj.lora_A.weight"), std::string::npos)
      << e.status().message();
}

TEST(ResizeAdapter, KohyaConvAlphasAndMetadata) {
  TempDir tmp;
  AdapterBuilder b;
  b.add("lora_unet_conv_in.lora_down.weight", {4, 3, 3, 3}, pattern(108, 1), DType::kF16)
      .add("lora_unet_conv_in.lora_up.weight", {8, 4, 1, 1}, pattern(32, 2), DType::kF16)
      .add("lora_unet_conv_in.alpha", {}, {2.0}, DType::kF16)
      .add("lora_te_q.lora_down.weight", {4, 16}, pattern(64, 3), DType::kF16)
      .add("lora_te_q.lora_up.weight", {12, 4}, pattern(48, 4), DType::kF16)
      .metadata("ss_network_dim", "4")
      .metadata("ss_network_alpha", "2.0")
      .metadata("ss_output_name", "x");
  const fs::path in = b.write(tmp.path(), "k.safetensors");
  Result<Adapter> a = open_adapter(in);
  ASSERT_TRUE(a) << a.status().message();
  ASSERT_EQ(a->format, AdapterFormat::kKohya);
  ASSERT_EQ(a->modules[0].kind, ModuleKind::kConv);
  Result<ResizeResult> r = resize_adapter(*a, resize_options(rule("fixed:2"), true, std::nullopt, 1));
  ASSERT_TRUE(r) << r.status().message();
  check_resized(*a, *r, tmp / "out.safetensors", ResizeCheck{1e-2, false, false});
  Result<Adapter> back = open_adapter(tmp / "out.safetensors");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->modules[0].A.shape, (Shape{{2, 3, 3, 3}}));
  EXPECT_EQ(back->modules[0].B.shape, (Shape{{8, 2, 1, 1}}));
  ASSERT_TRUE(back->modules[0].alpha_tensor && back->modules[1].alpha_tensor);
  EXPECT_EQ(back->modules[0].alpha_tensor->dtype, DType::kF16);
  EXPECT_EQ(back->modules[1].alpha_tensor->dtype, DType::kF32);  // none before
  EXPECT_DOUBLE_EQ(back->modules[0].alpha, 2.0 / 4 * 2);
  EXPECT_DOUBLE_EQ(back->modules[1].scale, 1.0);
  EXPECT_EQ(back->metadata["ss_network_dim"], "2");
  EXPECT_EQ(back->metadata["ss_network_alpha"], "Dynamic");  // 1.0 and 2.0
  EXPECT_EQ(back->metadata["ss_output_name"], "x");
  EXPECT_EQ(back->modules[0].A.dtype, DType::kF16);
}

TEST(ResizeAdapter, GgufKeepsGlobalAlphaAndFoldsTheScale) {
  TempDir tmp;
  std::vector<std::vector<std::byte>> bytes;
  std::vector<std::string> names;
  std::vector<TensorView> views;
  names.reserve(4);
  bytes.reserve(4);
  for (int blk = 0; blk < 2; ++blk) {
    for (const auto& [suffix, shape] : {std::pair{".lora_a", Shape{{5, 24}}}, std::pair{".lora_b", Shape{{16, 5}}}}) {
      names.push_back(fmt::format("blk.{}.attn_q.weight{}", blk, suffix));
      std::vector<double> v = pattern(static_cast<std::size_t>(shape.numel()), blk * 2 + (suffix[6] == 'b'));
      bytes.emplace_back(v.size() * 4);
      ASSERT_TRUE(from_double(v, DType::kF32, bytes.back()).ok());
      views.push_back({names.back(), DType::kF32, shape, bytes.back()});
    }
  }
  const std::vector<GgufKv> kvs = {{"general.architecture", GgufValue::string("llama")},
                                   {"general.type", GgufValue::string("adapter")},
                                   {"adapter.type", GgufValue::string("lora")},
                                   {"adapter.lora.alpha", GgufValue::of(16.0f)}};
  ASSERT_TRUE(write_gguf(tmp / "a.gguf", kvs, views).ok());
  Result<Adapter> a = open_adapter(tmp / "a.gguf");
  ASSERT_TRUE(a) << a.status().message();
  Result<ResizeResult> r = resize_adapter(*a, resize_options(rule("energy:0.9"), false, std::nullopt, 1));
  ASSERT_TRUE(r) << r.status().message();
  check_resized(*a, *r, tmp / "b.gguf", ResizeCheck{1e-5, true, false});
  Result<Adapter> back = open_adapter(tmp / "b.gguf");
  ASSERT_TRUE(back);
  ASSERT_TRUE(back->global_alpha);
  EXPECT_EQ(*back->global_alpha, 16.0);
  EXPECT_EQ(back->modules[0].scale, 16.0 / static_cast<double>(back->modules[0].rank));
  EXPECT_LT(back->modules[0].rank, 5u);

  // No global α: llama.cpp applies scale 1, so the factors carry the whole update.
  std::vector<GgufKv> no_alpha(kvs.begin(), kvs.end() - 1);
  ASSERT_TRUE(write_gguf(tmp / "c.gguf", no_alpha, views).ok());
  Result<Adapter> c = open_adapter(tmp / "c.gguf", AdapterOptions{2.5});
  ASSERT_TRUE(c) << c.status().message();
  Result<ResizeResult> rc = resize_adapter(*c, resize_options(rule("fixed:3"), false, DType::kF64, 1));
  ASSERT_TRUE(rc) << rc.status().message();
  EXPECT_EQ(rc->modules[0].new_scale, 1.0);
  check_resized(*c, *rc, tmp / "d.gguf", ResizeCheck{1e-12, true, false});
}

}  // namespace
}  // namespace lorank
