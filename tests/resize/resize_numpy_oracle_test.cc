// `lorank resize` end to end against an independent NumPy oracle
// (tests/resize/resize_numpy_oracle.py): the oracle reads IN and OUT itself (safetensors,
// PEFT config and pattern matching, kohya alphas, GGUF) and checks that every output module
// is the Eckart–Young optimum at its new rank, within the output dtype's rounding, that
// the rank follows the rule, and that everything else is unchanged. Every real adapter in
// ../shared/adapters (the PyTorch .bin one included) and synthetic PEFT / kohya / GGUF ones.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lorank/gguf.h"
#include "lorank/random.h"
#include "lorank/tensor.h"
#include "support/adapter_builder.h"
#include "support/run_command.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using lorank::testing::AdapterBuilder;
using lorank::testing::run_command;
using lorank::testing::run_lorank;
using lorank::testing::shared_dir;
using lorank::testing::shared_path;
using lorank::testing::TempDir;

constexpr const char* kPython = "/usr/bin/python3";

std::string oracle_script() {
  return std::string(LORANK_SOURCE_DIR) + "/tests/resize/resize_numpy_oracle.py";
}

struct Run {
  std::vector<std::string> flags;  // after `resize IN -o OUT`
  std::string expect_rule;         // the oracle's --expect-rule
};

// `lorank resize in -o out <flags>`, then the oracle on (in, out); every failure names the
// run. Returns the oracle's JSON summary (null on failure). --no-verify: the oracle alone
// judges the output (lorank's own re-read check shares lorank's reader; a reader bug, e.g.
// in PEFT's pattern matching, would pass it).
nlohmann::json resize_and_check(const fs::path& in, const fs::path& out, const Run& run,
                                const std::optional<fs::path>& reference = std::nullopt) {
  std::string label = in.parent_path().filename().string() + "/" + in.filename().string();
  for (const std::string& f : run.flags) label += " " + f;
  SCOPED_TRACE(label);
  std::vector<std::string> args{"resize", in.string(), "-o", out.string(), "--threads", "2",
                                "--no-verify"};
  args.insert(args.end(), run.flags.begin(), run.flags.end());
  const auto resized = run_lorank(args);
  EXPECT_EQ(resized.exit_code, 0) << resized.err << resized.out;
  if (resized.exit_code != 0) return nullptr;
  EXPECT_TRUE(fs::exists(kPython)) << kPython << " (with NumPy) is required by this test";
  std::vector<std::string> oracle{kPython, oracle_script(), in.string(), out.string(),
                                  "--expect-rule", run.expect_rule};
  if (reference) {
    oracle.push_back("--reference");
    oracle.push_back(reference->string());
  }
  const auto checked = run_command(oracle);
  EXPECT_EQ(checked.exit_code, 0) << "oracle failed for " << label << ":\n"
                                  << checked.err << checked.out;
  const nlohmann::json summary = nlohmann::json::parse(checked.out, nullptr, false);
  EXPECT_TRUE(summary.is_object()) << checked.out << checked.err;
  if (!summary.is_object()) return nullptr;
  EXPECT_EQ(summary["ok"], true);
  EXPECT_GT(summary["modules_checked"].get<int>(), 0);
  std::cout << "[ oracle   ] " << label << ": modules " << summary["modules_checked"]
            << ", new ranks " << summary["new_ranks"] << ", worst (err-tail)/sigma1 " << summary["worst_excess_over_sigma1"]
            << ", worst tol use " << summary["worst_tol_use"] << ", worst |dsigma|/sigma1 "
            << summary["worst_sigma_err_over_sigma1"] << ", out " << summary["out_dtypes"] << "\n";
  return summary;
}

// ------------------------------------------------------------------ real adapters

// The folder's weights: the PEFT folder itself (safetensors or PyTorch .bin weights), or its
// one .safetensors (kohya).
fs::path weights_input(const fs::path& folder) {
  if (fs::exists(folder / "adapter_model.safetensors") || fs::exists(folder / "adapter_model.bin")) {
    return folder;
  }
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(folder)) {
    if (e.path().extension() == ".safetensors") found.push_back(e.path());
  }
  EXPECT_EQ(found.size(), 1u) << "expected one .safetensors in " << folder;
  return found.empty() ? fs::path() : found.front();
}

// Every adapter folder in shared/adapters, listed when the tests are instantiated. A
// missing shared/ gives one placeholder, whose test then fails loudly.
std::vector<std::string> real_adapter_folders() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(shared_dir() / "adapters", ec)) {
    if (e.is_directory()) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) names.push_back("missing");
  return names;
}

class RealAdapterOracle : public ::testing::TestWithParam<std::string> {};

TEST_P(RealAdapterOracle, EveryModuleIsTheEckartYoungOptimum) {
  const fs::path folder = shared_path("adapters/" + GetParam());  // aborts loudly if missing
  const fs::path in = weights_input(folder);
  ASSERT_FALSE(in.empty()) << "no weights in " << folder;
  const std::string ext = fs::is_directory(in) ? "" : in.extension().string();
  const fs::path reference = shared_path("adapters/" + GetParam() + "/reference_spectrum.json");
  TempDir tmp;
  if (GetParam() == "opencalm1b-f16-r1") {
    // Rank 1 everywhere: any resize would be a full-rank copy, which is refused (docs/cli.md,
    // "No silent no-ops"), and nothing is written.
    const auto r = run_lorank({"resize", in.string(), "-o", (tmp / "out").string(), "--energy", "0.9"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("lorank: error: nothing to resize: under energy:0.9 every module", 0), 0u) << r.err;
    EXPECT_TRUE(tmp.entries().empty());
    return;
  }
  resize_and_check(in, tmp / ("energy" + ext), {{"--energy", "0.9"}, "energy:0.9"}, reference);
  resize_and_check(in, tmp / ("rank2" + ext), {{"--rank", "2", "--sigma-in-b"}, "fixed:2"},
                   reference);
}

INSTANTIATE_TEST_SUITE_P(Shared, RealAdapterOracle, ::testing::ValuesIn(real_adapter_folders()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

// The parameterised test covers all 14 real adapters, the PyTorch .bin one included.
TEST(RealAdapterOracleCoverage, EveryRealAdapterIsChecked) {
  EXPECT_GE(real_adapter_folders().size(), 14u);
}

// ------------------------------------------------------------------ synthetic adapters

// Deterministic standard normals: NumPy's default_rng(seed).standard_normal(n).
std::vector<double> noise(std::size_t n, std::uint64_t seed) {
  return DefaultRngNormal(seed).standard_normal(n);
}

// B (out×r) with column j scaled by decay^j, so the spectrum of B·A falls off and energy
// rules land in the middle of [1, r].
std::vector<double> decaying_b(std::size_t out, std::size_t r, double decay, std::uint64_t seed) {
  std::vector<double> b = noise(out * r, seed);
  for (std::size_t i = 0; i < out; ++i) {
    for (std::size_t j = 0; j < r; ++j) b[i * r + j] *= std::pow(decay, static_cast<double>(j));
  }
  return b;
}

// A PEFT linear (or embedding) pair with a decaying spectrum.
void peft_pair(AdapterBuilder& b, const std::string& prefix, std::size_t out, std::size_t r,
               std::size_t in, DType dtype, std::uint64_t seed, bool embedding = false,
               double decay = 0.6) {
  b.add(prefix + (embedding ? ".lora_embedding_A" : ".lora_A.weight"),
        {static_cast<int64_t>(r), static_cast<int64_t>(in)}, noise(r * in, seed), dtype)
      .add(prefix + (embedding ? ".lora_embedding_B" : ".lora_B.weight"),
           {static_cast<int64_t>(out), static_cast<int64_t>(r)}, decaying_b(out, r, decay, seed + 1),
           dtype);
}

// PEFT F32 whose scales depend on PEFT's exact pattern semantics: the first matching key
// wins ("q_proj" before "layers.1.self_attn.q_proj"), a key matches only at a '.' boundary
// ("1.self_attn.q_proj" matches layers.1 but not layers.11, although layers.11's name ends
// with it), regex keys. Plus an embedding of vocabulary size (50257×1024: never dense), a
// conv module, an all-zero module, a lora_B.bias and a modules_to_save tensor.
fs::path write_peft_patterns(const fs::path& dir) {
  const std::string p = "base_model.model.model.layers.";
  AdapterBuilder b;
  peft_pair(b, p + "0.self_attn.q_proj", 24, 6, 16, DType::kF32, 10);
  peft_pair(b, p + "1.self_attn.q_proj", 24, 6, 16, DType::kF32, 20);
  b.add(p + "1.self_attn.q_proj.lora_B.bias", {24}, noise(24, 25));
  peft_pair(b, p + "11.self_attn.q_proj", 24, 6, 16, DType::kF32, 30);
  peft_pair(b, p + "0.self_attn.v_proj", 8, 4, 16, DType::kF32, 40);
  b.add(p + "2.self_attn.v_proj.lora_A.weight", {4, 16}, noise(64, 50))  // untrained: B = 0
      .add(p + "2.self_attn.v_proj.lora_B.weight", {8, 4}, std::vector<double>(32, 0.0));
  peft_pair(b, p + "0.mlp.up_proj", 40, 5, 16, DType::kF32, 60);
  peft_pair(b, p + "2.mlp.down_proj", 16, 5, 40, DType::kF32, 70, false, 0.3);
  peft_pair(b, p + "1.mlp.up_proj", 40, 8, 16, DType::kF32, 80, false, 0.9);
  peft_pair(b, "base_model.model.model.embed_tokens", 1024, 8, 50257, DType::kF32, 90, true);
  b.add("base_model.model.conv_in.lora_A.weight", {8, 4, 3, 3}, noise(8 * 36, 100))
      .add("base_model.model.conv_in.lora_B.weight", {16, 8, 1, 1}, decaying_b(16, 8, 0.5, 101))
      .add("base_model.model.score.weight", {3, 16}, noise(48, 110))
      .metadata("format", "pt")
      .config(R"({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 8, "lora_alpha": 16,
                 "rank_pattern": {"q_proj": 6, "layers.1.self_attn.q_proj": 3, "v_proj": 4,
                                  "layers\\.[02]\\.mlp\\.(up|down)_proj": 5},
                 "alpha_pattern": {"1.self_attn.q_proj": 20, "q_proj": 4, "embed_tokens": 2.5},
                 "use_rslora": false, "use_dora": false, "lora_bias": true,
                 "lora_dropout": 0.05, "fan_in_fan_out": false, "inference_mode": true,
                 "target_modules": ["q_proj", "v_proj", "up_proj", "down_proj",
                                    "embed_tokens", "conv_in"],
                 "modules_to_save": ["score"], "base_model_name_or_path": "tiny"})");
  return b.write(dir);
}

TEST(ResizeNumpyOracle, PeftPatternsEmbeddingConvAndZeroModule) {
  TempDir tmp;
  fs::create_directories(tmp / "peft-patterns");
  const fs::path in = write_peft_patterns(tmp / "peft-patterns").parent_path();
  resize_and_check(in, tmp / "energy", {{"--energy", "0.9"}, "energy:0.9"});
  resize_and_check(in, tmp / "rank2", {{"--rank", "2", "--sigma-in-b"}, "fixed:2"});
  const nlohmann::json f64 =
      resize_and_check(in, tmp / "f64", {{"--energy", "0.95", "--dtype", "F64"}, "energy:0.95"});
  ASSERT_TRUE(f64.is_object());
  EXPECT_EQ(f64["out_dtypes"], nlohmann::json::array({"F64"}));
  // F64: the tolerance is float64 arithmetic only, and the output meets it with room.
  EXPECT_LT(f64["worst_excess_over_sigma1"].get<double>(), 1e-12);
  EXPECT_LT(f64["worst_sigma_err_over_sigma1"].get<double>(), 1e-12);
}

// PEFT BF16 with rsLoRA (scale α/√r) and DoRA magnitude vectors, an anchored rank_pattern
// key and an unanchored alpha_pattern key.
fs::path write_peft_rslora_dora(const fs::path& dir) {
  AdapterBuilder b;
  std::uint64_t seed = 300;
  for (int layer = 0; layer < 3; ++layer) {
    for (const auto& [proj, out] : {std::pair<std::string, std::size_t>{"q_proj", 32}, {"v_proj", 16}}) {
      const std::string name = "base_model.model.model.layers." + std::to_string(layer) + ".self_attn." + proj;
      const std::size_t r = layer == 0 && proj == "q_proj" ? 12 : 8;
      peft_pair(b, name, out, r, 24, DType::kBF16, seed += 10, false, 0.7);
      std::vector<double> m = noise(out, seed + 5);
      for (double& v : m) v = 1.0 + std::fabs(v);
      b.add(name + ".lora_magnitude_vector", {static_cast<int64_t>(out)}, m, DType::kBF16);
    }
  }
  b.metadata("format", "pt")
      .config(R"({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 8, "lora_alpha": 16,
                 "use_rslora": true, "use_dora": true,
                 "rank_pattern": {"^model.layers.0.self_attn.q_proj": 12},
                 "alpha_pattern": {"v_proj": 6},
                 "target_modules": ["q_proj", "v_proj"], "lora_dropout": 0.0,
                 "inference_mode": true, "bias": "none"})");
  return b.write(dir);
}

TEST(ResizeNumpyOracle, PeftRsloraDoraBf16) {
  TempDir tmp;
  fs::create_directories(tmp / "peft-rslora-dora");
  const fs::path in = write_peft_rslora_dora(tmp / "peft-rslora-dora").parent_path();
  resize_and_check(in, tmp / "energy", {{"--energy", "0.8"}, "energy:0.8"});
  resize_and_check(in, tmp / "rank3-f16", {{"--rank", "3", "--sigma-in-b", "--dtype", "F16"}, "fixed:3"});
  const nlohmann::json f64 =
      resize_and_check(in, tmp / "f64", {{"--energy", "0.9", "--dtype", "F64"}, "energy:0.9"});
  ASSERT_TRUE(f64.is_object());
  EXPECT_EQ(f64["out_dtypes"], nlohmann::json::array({"F64"}));
  EXPECT_LT(f64["worst_excess_over_sigma1"].get<double>(), 1e-12);
}

// kohya F16: a conv module (A k×in×3×3, B out×k×1×1) and F16 .alpha tensors whose new
// values α·k/r are not F16 numbers (the factors must absorb the rounding), a module with no
// .alpha (scale 1), one with α = 0 (kohya: α = r), an untrained one, a non-LoRA tensor
// and ss_* metadata.
fs::path write_kohya(const fs::path& dir) {
  const std::string te = "lora_te_text_model_encoder_layers_0_self_attn_";
  AdapterBuilder b;
  b.add("lora_unet_conv_in.lora_down.weight", {6, 4, 3, 3}, noise(216, 500), DType::kF16)
      .add("lora_unet_conv_in.lora_up.weight", {8, 6, 1, 1}, decaying_b(8, 6, 0.6, 501), DType::kF16)
      .add("lora_unet_conv_in.alpha", {}, {5.0}, DType::kF16)
      .add(te + "q_proj.lora_down.weight", {7, 32}, noise(224, 510), DType::kF16)
      .add(te + "q_proj.lora_up.weight", {32, 7}, decaying_b(32, 7, 0.6, 511), DType::kF16)
      .add(te + "q_proj.alpha", {}, {5.0}, DType::kF16)
      .add(te + "v_proj.lora_down.weight", {4, 32}, noise(128, 520), DType::kF16)
      .add(te + "v_proj.lora_up.weight", {16, 4}, decaying_b(16, 4, 0.5, 521), DType::kF16)
      .add(te + "k_proj.lora_down.weight", {4, 32}, noise(128, 530), DType::kF16)
      .add(te + "k_proj.lora_up.weight", {16, 4}, decaying_b(16, 4, 0.5, 531), DType::kF16)
      .add(te + "k_proj.alpha", {}, {0.0}, DType::kF16)
      .add(te + "out_proj.lora_down.weight", {4, 32}, noise(128, 540), DType::kF16)
      .add(te + "out_proj.lora_up.weight", {32, 4}, std::vector<double>(128, 0.0), DType::kF16)
      .add(te + "out_proj.alpha", {}, {2.0}, DType::kF16)
      .add("lora_te_text_model_final_layer_norm.diff", {32}, noise(32, 550), DType::kF16)
      .metadata("ss_network_dim", "7")
      .metadata("ss_network_alpha", "5.0")
      .metadata("ss_output_name", "synthetic");
  return b.write(dir, "kohya.safetensors");
}

TEST(ResizeNumpyOracle, KohyaConvF16Alphas) {
  TempDir tmp;
  const fs::path in = write_kohya(tmp.path());
  resize_and_check(in, tmp / "energy.safetensors", {{"--energy", "0.9"}, "energy:0.9"});
  resize_and_check(in, tmp / "rank2.safetensors", {{"--rank", "2", "--sigma-in-b"}, "fixed:2"});
  const nlohmann::json f64 = resize_and_check(in, tmp / "f64.safetensors",
                                              {{"--rank", "3", "--dtype", "F64"}, "fixed:3"});
  ASSERT_TRUE(f64.is_object());
  EXPECT_EQ(f64["out_dtypes"], nlohmann::json::array({"F64"}));
  EXPECT_LT(f64["worst_excess_over_sigma1"].get<double>(), 1e-12);
}

// llama.cpp GGUF: one global α (scale α/r per tensor pair; none: scale 1), and a token
// embedding LoRA whose lora_a llama.cpp stores flipped, as (n_vocab, r).
void write_gguf_adapter(const fs::path& path, bool with_alpha) {
  std::vector<std::vector<std::byte>> bytes;
  std::vector<std::string> names;
  std::vector<TensorView> views;
  bytes.reserve(8);
  names.reserve(8);
  std::uint64_t seed = 600;
  for (int blk = 0; blk < 3; ++blk) {
    const std::size_t r = 6, in = 24, out = blk == 2 ? 8 : 16;
    for (const bool is_b : {false, true}) {
      names.push_back(fmt::format("blk.{}.attn_q.weight{}", blk, is_b ? ".lora_b" : ".lora_a"));
      const std::vector<double> v = is_b ? decaying_b(out, r, 0.6, ++seed) : noise(r * in, ++seed);
      bytes.emplace_back(v.size() * 4);
      ASSERT_TRUE(from_double(v, DType::kF32, bytes.back()).ok());
      const Shape shape = is_b ? Shape{{static_cast<int64_t>(out), static_cast<int64_t>(r)}}
                               : Shape{{static_cast<int64_t>(r), static_cast<int64_t>(in)}};
      views.push_back({names.back(), DType::kF32, shape, bytes.back()});
    }
  }
  for (const bool is_b : {false, true}) {
    const std::size_t r = 6, vocab = 40, embd = 16;
    names.push_back(is_b ? "token_embd.weight.lora_b" : "token_embd.weight.lora_a");
    const std::vector<double> v = is_b ? decaying_b(embd, r, 0.5, ++seed) : noise(vocab * r, ++seed);
    bytes.emplace_back(v.size() * 4);
    ASSERT_TRUE(from_double(v, DType::kF32, bytes.back()).ok());
    const Shape shape = is_b ? Shape{{static_cast<int64_t>(embd), static_cast<int64_t>(r)}}
                             : Shape{{static_cast<int64_t>(vocab), static_cast<int64_t>(r)}};
    views.push_back({names.back(), DType::kF32, shape, bytes.back()});
  }
  std::vector<GgufKv> kvs = {{"general.architecture", GgufValue::string("llama")},
                             {"general.type", GgufValue::string("adapter")},
                             {"adapter.type", GgufValue::string("lora")}};
  if (with_alpha) kvs.push_back({"adapter.lora.alpha", GgufValue::of(16.0f)});
  ASSERT_TRUE(write_gguf(path, kvs, views).ok());
}

TEST(ResizeNumpyOracle, GgufGlobalAlpha) {
  TempDir tmp;
  write_gguf_adapter(tmp / "a.gguf", true);
  write_gguf_adapter(tmp / "noalpha.gguf", false);
  resize_and_check(tmp / "a.gguf", tmp / "energy.gguf", {{"--energy", "0.9"}, "energy:0.9"});
  const nlohmann::json f64 = resize_and_check(
      tmp / "a.gguf", tmp / "f64.gguf", {{"--rank", "2", "--sigma-in-b", "--dtype", "F64"}, "fixed:2"});
  ASSERT_TRUE(f64.is_object());
  EXPECT_LT(f64["worst_excess_over_sigma1"].get<double>(), 1e-12);
  resize_and_check(tmp / "noalpha.gguf", tmp / "noalpha-out.gguf", {{"--energy", "0.8"}, "energy:0.8"});
}

// mlx_lm: the real discollama adapter (lora_a [in, r], lora_b [r, out], scale 2 as is) and a
// synthetic one whose modules end at different ranks (the config then states the largest).
TEST(ResizeNumpyOracle, MlxRealAndDynamicRanks) {
  TempDir tmp;
  const fs::path real = shared_path("models/mlx-discollama-r8");
  const nlohmann::json r4 = resize_and_check(real, tmp / "r4", {{"--rank", "4"}, "fixed:4"});
  ASSERT_TRUE(r4.is_object());
  EXPECT_EQ(r4["format"], "mlx");
  EXPECT_EQ(r4["modules_checked"], 4);
  resize_and_check(real, tmp / "e90", {{"--energy", "0.9"}, "energy:0.9"});
  resize_and_check(real, tmp / "bf16", {{"--rank", "3", "--sigma-in-b", "--dtype", "BF16"}, "fixed:3"});

  fs::create_directory(tmp / "synthetic");
  AdapterBuilder b;
  const std::size_t r = 6, in = 24, outs[] = {16, 40};
  for (std::size_t i = 0; i < 2; ++i) {
    const std::size_t out = outs[i];
    const std::string name = "model.layers." + std::to_string(i) + ".self_attn.q_proj";
    // Stored Aᵀ [in, r] and Bᵀ [r, out]: any values do, the oracle reads them the same way.
    b.add(name + ".lora_a", {static_cast<int64_t>(in), static_cast<int64_t>(r)}, noise(in * r, 10 + i))
        .add(name + ".lora_b", {static_cast<int64_t>(r), static_cast<int64_t>(out)},
             decaying_b(r, out, i == 0 ? 0.3 : 0.9, 20 + i));
  }
  b.config(R"({"fine_tune_type": "lora", "num_layers": 2, "lora_parameters": {"rank": 6, "alpha": 12, "scale": -1.5, "dropout": 0.05}})")
      .write(tmp / "synthetic", "adapters.safetensors");
  const nlohmann::json dyn =
      resize_and_check(tmp / "synthetic", tmp / "dynamic", {{"--energy", "0.95"}, "energy:0.95"});
  ASSERT_TRUE(dyn.is_object());
  EXPECT_GT(dyn["new_ranks"].size(), 1u) << dyn.dump();  // the modules really differ
}

}  // namespace
}  // namespace lorank
