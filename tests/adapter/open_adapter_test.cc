// open_adapter on handcrafted adapters: PEFT's scale rules, kohya alphas, and a table of
// files and configs that lie.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "lorank/adapter.h"
#include "lorank/spectra.h"
#include "support/adapter_builder.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using lorank::testing::AdapterBuilder;
using lorank::testing::TempDir;

const LoraModule* find_module(const Adapter& a, const std::string& name) {
  for (const LoraModule& m : a.modules) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

TEST(OpenAdapter, PeftScalesFollowPatternsFirstMatchWins) {
  TempDir dir;
  AdapterBuilder()
      .peft_pair("base_model.model.layers.0.q_proj", 16, 4, 12)
      .peft_pair("base_model.model.layers.0.v_proj", 16, 8, 12)
      .peft_pair("base_model.model.layers.1.q_proj", 16, 2, 12)
      .add("base_model.model.score.weight", {3, 16})
      .config(R"({"peft_type": "LORA", "r": 8, "lora_alpha": 16,
                  "rank_pattern": {"^layers.1.q_proj": 2, "q_proj": 4},
                  "alpha_pattern": {"layers.0.q_proj": 2, "q_proj": 64}})")
      .write(dir.path());
  Result<Adapter> a = open_adapter(dir.path());
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->format, AdapterFormat::kPeft);
  ASSERT_EQ(a->modules.size(), 3u);
  const LoraModule* q0 = find_module(*a, "base_model.model.layers.0.q_proj");
  const LoraModule* v0 = find_module(*a, "base_model.model.layers.0.v_proj");
  const LoraModule* q1 = find_module(*a, "base_model.model.layers.1.q_proj");
  ASSERT_TRUE(q0 && v0 && q1);
  EXPECT_DOUBLE_EQ(q0->scale, 2.0 / 4.0);   // rank 4 from "q_proj", alpha 2 (first key)
  EXPECT_DOUBLE_EQ(v0->scale, 16.0 / 8.0);  // defaults
  EXPECT_DOUBLE_EQ(q1->scale, 64.0 / 2.0);  // "^layers.1.q_proj" rank, "q_proj" alpha
  ASSERT_EQ(a->passthrough.size(), 1u);
  EXPECT_EQ(a->passthrough[0].name, "base_model.model.score.weight");
}

TEST(OpenAdapter, RsloraDividesBySquareRoot) {
  TempDir dir;
  AdapterBuilder()
      .peft_pair("base_model.model.q", 8, 16, 8)
      .config(R"({"r": 16, "lora_alpha": 8, "use_rslora": true})")
      .write(dir.path());
  Result<Adapter> a = open_adapter(dir.path() / "adapter_model.safetensors");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_DOUBLE_EQ(a->modules[0].scale, 2.0);
  EXPECT_EQ(a->modules[0].scale_rule, "alpha/sqrt(r) (rsLoRA)");
}

TEST(OpenAdapter, OldConfigGetsPeftDefaults) {
  TempDir dir;
  AdapterBuilder().peft_pair("base_model.model.q", 8, 8, 8).config(R"({"r": 8})").write(dir.path());
  Result<Adapter> a = open_adapter(dir.path());
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_DOUBLE_EQ(a->modules[0].scale, 1.0);  // lora_alpha defaults to 8
}

TEST(OpenAdapter, NoConfigMeansScaleOneWithWarningOrAlphaFlag) {
  TempDir dir;
  AdapterBuilder().peft_pair("base_model.model.q", 8, 4, 8).write(dir.path());
  Result<Adapter> a = open_adapter(dir.path());
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_DOUBLE_EQ(a->modules[0].scale, 1.0);
  ASSERT_EQ(a->warnings.size(), 1u);
  EXPECT_NE(a->warnings[0].find("--alpha"), std::string::npos);
  AdapterOptions options;
  options.alpha = 16.0;
  Result<Adapter> b = open_adapter(dir.path(), options);
  ASSERT_TRUE(b);
  EXPECT_DOUBLE_EQ(b->modules[0].scale, 4.0);
}

TEST(OpenAdapter, EmbeddingConvAndDora) {
  TempDir dir;
  AdapterBuilder()
      .add("base_model.model.embed.lora_embedding_A", {4, 50})
      .add("base_model.model.embed.lora_embedding_B", {12, 4})
      .add("base_model.model.conv.lora_A.weight", {4, 3, 3, 3})
      .add("base_model.model.conv.lora_B.weight", {6, 4, 1, 1})
      .peft_pair("base_model.model.q", 8, 4, 8)
      .add("base_model.model.q.lora_magnitude_vector", {8})
      .config(R"({"r": 4, "lora_alpha": 8, "use_dora": true})")
      .write(dir.path());
  Result<Adapter> a = open_adapter(dir.path());
  ASSERT_TRUE(a) << a.error().message();
  const LoraModule* e = find_module(*a, "base_model.model.embed");
  const LoraModule* c = find_module(*a, "base_model.model.conv");
  const LoraModule* q = find_module(*a, "base_model.model.q");
  ASSERT_TRUE(e && c && q);
  EXPECT_EQ(e->kind, ModuleKind::kEmbedding);
  EXPECT_EQ(e->out, 12u);
  EXPECT_EQ(e->in, 50u);
  EXPECT_EQ(c->kind, ModuleKind::kConv);
  EXPECT_EQ(c->in, 27u);
  EXPECT_EQ(c->out, 6u);
  EXPECT_TRUE(q->magnitude.has_value());
  EXPECT_TRUE(a->passthrough.empty());
  Result<std::vector<std::vector<double>>> s = module_spectra(*a);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ((*s)[1].size(), 4u);
}

TEST(OpenAdapter, KohyaAlphaTensorsAndUnderscoreVariant) {
  TempDir dir;
  AdapterBuilder()
      .add("lora_unet_a.lora_down.weight", {4, 10})
      .add("lora_unet_a.lora_up.weight", {6, 4})
      .add("lora_unet_a.alpha", {}, {2.0})
      .add("lora_unet_b.lora_down.weight", {4, 10})
      .add("lora_unet_b.lora_up.weight", {6, 4})
      .add("lora_unet_b.alpha", {}, {0.0})
      .add("lora_te_c_lora_down.weight", {2, 10})
      .add("lora_te_c_lora_up.weight", {6, 2})
      .metadata("ss_network_dim", "4")
      .write(dir.path(), "model.safetensors");
  Result<Adapter> a = open_adapter(dir.path() / "model.safetensors");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->format, AdapterFormat::kKohya);
  ASSERT_EQ(a->modules.size(), 3u);
  EXPECT_DOUBLE_EQ(find_module(*a, "lora_unet_a")->scale, 0.5);
  EXPECT_DOUBLE_EQ(find_module(*a, "lora_unet_b")->scale, 1.0);  // alpha 0 → alpha = r
  EXPECT_DOUBLE_EQ(find_module(*a, "lora_te_c")->scale, 1.0);    // no alpha → alpha = r
  EXPECT_EQ(a->metadata.at("ss_network_dim"), "4");
}

// --- Files and configs that lie: each gives one line naming the file and the problem.

struct BadCase {
  const char* title;
  std::function<void(const std::filesystem::path&)> make;
  StatusCode code;
  const char* message;
};

void peft(const std::filesystem::path& d, const char* config) {
  AdapterBuilder().peft_pair("base_model.model.q", 8, 4, 8).config(config).write(d);
}

std::vector<BadCase> bad_cases() {
  using std::filesystem::path;
  return {
      {"unpaired A", [](const path& d) { AdapterBuilder().add("m.lora_A.weight", {4, 8}).write(d); },
       StatusCode::kCorruption, "has no matching B factor"},
      {"unpaired B", [](const path& d) { AdapterBuilder().add("m.lora_A.weight", {4, 8}).add("m.lora_A.weight.x", {1}).add("n.lora_B.weight", {8, 4}).write(d); },
       StatusCode::kCorruption, "has no matching A factor"},
      {"rank disagreement", [](const path& d) { AdapterBuilder().add("m.lora_A.weight", {4, 8}).add("m.lora_B.weight", {8, 3}).write(d); },
       StatusCode::kCorruption, "rank disagreement: A has 4 rows but B has 3 columns"},
      {"1-D factor", [](const path& d) { AdapterBuilder().add("m.lora_A.weight", {4}).add("m.lora_B.weight", {8, 4}).write(d); },
       StatusCode::kCorruption, "factors must be 2-D"},
      {"conv B not 1x1", [](const path& d) { AdapterBuilder().add("m.lora_A.weight", {4, 3, 3, 3}).add("m.lora_B.weight", {8, 4, 3, 3}).write(d); },
       StatusCode::kCorruption, "conv B must be out×r×1×1"},
      {"integer factor", [](const path& d) { AdapterBuilder().add("m.lora_A.weight", {4, 8}, {}, DType::kI32).add("m.lora_B.weight", {8, 4}).write(d); },
       StatusCode::kNotSupported, "has dtype I32"},
      {"no factors", [](const path& d) { AdapterBuilder().add("w", {4, 8}).write(d); },
       StatusCode::kCorruption, "no LoRA factors"},
      {"config not JSON", [](const path& d) { peft(d, "{r: 8"); }, StatusCode::kCorruption, "not valid JSON"},
      {"config not object", [](const path& d) { peft(d, "[8]"); }, StatusCode::kCorruption, "not a JSON object"},
      {"config r = 0", [](const path& d) { peft(d, R"({"r": 0})"); }, StatusCode::kCorruption, "r must be a positive integer, got 0"},
      {"config r < 0", [](const path& d) { peft(d, R"({"r": -4})"); }, StatusCode::kCorruption, "r must be a positive integer"},
      {"config r string", [](const path& d) { peft(d, R"({"r": "4"})"); }, StatusCode::kCorruption, "r must be a positive integer"},
      {"config alpha NaN-ish", [](const path& d) { peft(d, R"({"r": 4, "lora_alpha": "x"})"); }, StatusCode::kCorruption, "lora_alpha must be a finite number"},
      {"config rank mismatch", [](const path& d) { peft(d, R"({"r": 8})"); }, StatusCode::kCorruption, "gives module 'base_model.model.q' rank 8 (r), but its lora_A"},
      {"rank_pattern mismatch", [](const path& d) { peft(d, R"({"r": 4, "rank_pattern": {"q": 2}})"); }, StatusCode::kCorruption, "rank 2 (rank_pattern)"},
      {"bad pattern regex", [](const path& d) { peft(d, R"({"r": 4, "alpha_pattern": {"q(": 2}})"); }, StatusCode::kCorruption, "not a valid regular expression"},
      {"rslora not bool", [](const path& d) { peft(d, R"({"r": 4, "use_rslora": "yes"})"); }, StatusCode::kCorruption, "use_rslora must be true or false"},
      {"adalora", [](const path& d) { peft(d, R"({"r": 4, "peft_type": "ADALORA"})"); }, StatusCode::kNotSupported, "peft_type \"ADALORA\" is not supported"},
      {"kohya alpha vector", [](const path& d) { AdapterBuilder().add("k.lora_down.weight", {4, 8}).add("k.lora_up.weight", {8, 4}).add("k.alpha", {2}).write(d); },
       StatusCode::kCorruption, "alpha tensor 'k.alpha' must hold one float"},
      {"empty folder", [](const path&) {}, StatusCode::kNotFound, "no adapter_model.safetensors"},
  };
}

TEST(OpenAdapter, CorruptTable) {
  for (const BadCase& c : bad_cases()) {
    TempDir dir;
    c.make(dir.path());
    Result<Adapter> a = open_adapter(dir.path());
    ASSERT_FALSE(a) << c.title;
    const std::string& msg = a.error().message();
    EXPECT_EQ(a.error().code(), c.code) << c.title << ": " << msg;
    EXPECT_NE(msg.find(c.message), std::string::npos) << c.title << ": " << msg;
    EXPECT_NE(msg.find(dir.path().string()), std::string::npos) << c.title << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.title;
  }
}

TEST(OpenAdapter, MissingPath) {
  Result<Adapter> a = open_adapter("/nonexistent/lorank/adapter");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), StatusCode::kNotFound);
  EXPECT_NE(a.error().message().find("/nonexistent/lorank/adapter"), std::string::npos);
}

TEST(ModuleSpectra, RefuseNonFiniteWeightsNamingTheTensor) {
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    TempDir dir;
    std::vector<double> b(32, 0.5);
    b[13] = bad;
    AdapterBuilder()
        .add("base_model.model.q.lora_A.weight", {4, 8})
        .add("base_model.model.q.lora_B.weight", {8, 4}, b)
        .config(R"({"r": 4})")
        .write(dir.path());
    Result<Adapter> a = open_adapter(dir.path());
    ASSERT_TRUE(a) << a.error().message();
    Result<std::vector<std::vector<double>>> s = module_spectra(*a);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), StatusCode::kNumerical);
    EXPECT_NE(s.error().message().find("tensor 'base_model.model.q.lora_B.weight'"), std::string::npos)
        << s.error().message();
    EXPECT_NE(s.error().message().find("element 13"), std::string::npos) << s.error().message();
  }
}

}  // namespace
}  // namespace lorank

namespace lorank {
namespace {

// PEFT pattern keys are regexes from a downloaded file: a key built for catastrophic
// backtracking must still match in polynomial time (this would take ~2^60 steps with a
// backtracking matcher, i.e. hang), and a long module name must not recurse per character.
TEST(PeftPatternMatching, HostileKeysAndNamesStayPolynomial) {
  const std::string name = "base_model.model." + std::string(60, 'x');
  Result<std::optional<double>> m = match_peft_pattern({{"(x+x+)+y", 2.0}}, name);
  ASSERT_TRUE(m) << m.status().message();
  EXPECT_FALSE(m->has_value());
  const std::string long_name = "base_model.model.layers." + std::string(200000, 'a') + ".q_proj";
  m = match_peft_pattern({{"q_proj", 3.0}}, long_name);
  ASSERT_TRUE(m) << m.status().message();
  EXPECT_EQ(m->value_or(0.0), 3.0);
  EXPECT_EQ(match_peft_pattern({{std::string(5000, 'q'), 1.0}}, name).status().code(),
            StatusCode::kInvalidData);
}

}  // namespace
}  // namespace lorank
