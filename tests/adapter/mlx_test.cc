// mlx_lm adapters (docs/formats.md, "mlx_lm"): lora_a [in, r] and lora_b [r, out] read as the
// transposes of PEFT's A and B, scale = lora_parameters.scale; the real discollama adapter
// against an independent NumPy oracle; resize and write back in mlx_lm's own layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "adapter/widen_factor.h"
#include "lorank/adapter.h"
#include "lorank/resize.h"
#include "lorank/safetensors.h"
#include "lorank/spectra.h"
#include "support/adapter_builder.h"
#include "support/run_command.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using lorank::testing::AdapterBuilder;
using lorank::testing::read_text_file;
using lorank::testing::shared_path;
using lorank::testing::TempDir;

const char* kMlxConfig = R"({"fine_tune_type": "lora", "num_layers": 2, "model": "/Users/x/m",
  "lora_parameters": {"rank": 2, "scale": 3.0, "dropout": 0.0}})";

fs::path real_mlx() { return shared_path("models/mlx-discollama-r8"); }

// B (out×r) and A (r×in) of lorank's orientation as mlx_lm stores them: Bᵀ and Aᵀ.
std::vector<double> transpose(const std::vector<double>& v, std::size_t rows, std::size_t cols) {
  std::vector<double> t(v.size());
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) t[j * rows + i] = v[i * cols + j];
  }
  return t;
}

TEST(RealMlx, OpensFourModulesOfRankEightWithScaleTwo) {
  Result<Adapter> a = open_adapter(real_mlx());
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->format, AdapterFormat::kMlx);
  EXPECT_EQ(format_name(a->format), "mlx");
  EXPECT_EQ(a->container, Container::kSafetensors);
  EXPECT_EQ(a->weights_path.filename(), "adapters.safetensors");
  ASSERT_TRUE(a->config_path);
  ASSERT_TRUE(a->mlx);
  EXPECT_EQ(a->mlx->rank, 8);
  EXPECT_EQ(a->mlx->scale, 2.0);
  EXPECT_EQ(a->mlx->alpha, 16.0);
  EXPECT_FALSE(a->mlx->dora);
  ASSERT_EQ(a->modules.size(), 4u);
  EXPECT_TRUE(a->passthrough.empty());
  std::map<std::string, std::pair<std::size_t, std::size_t>> want = {
      {"model.layers.30.self_attn.q_proj", {4096, 4096}}, {"model.layers.30.self_attn.v_proj", {1024, 4096}},
      {"model.layers.31.self_attn.q_proj", {4096, 4096}}, {"model.layers.31.self_attn.v_proj", {1024, 4096}}};
  for (const LoraModule& m : a->modules) {
    SCOPED_TRACE(m.name);
    ASSERT_TRUE(want.count(m.name));
    EXPECT_TRUE(m.transposed);
    EXPECT_EQ(m.rank, 8u);
    EXPECT_EQ(m.out, want[m.name].first);
    EXPECT_EQ(m.in, want[m.name].second);
    EXPECT_EQ(m.scale, 2.0);  // lora_parameters.scale, not alpha/r
    EXPECT_EQ(m.alpha, 16.0);
    EXPECT_EQ(m.A.name, m.name + ".lora_a");
    EXPECT_EQ(m.A.shape, (Shape{{4096, 8}}));  // as stored: [in, r]
    EXPECT_EQ(m.B.shape, (Shape{{8, static_cast<int64_t>(m.out)}}));
  }
  // alpha 16 with rank 8: older mlx_lm versions read the file with another scale.
  ASSERT_FALSE(a->warnings.empty());
  EXPECT_EQ(a->warnings[0], "lora_parameters.alpha 16 ignored: mlx_lm applies scale 2 as is since "
                            "0.14.2 (June 2024); older versions applied scale*alpha/rank = 4");
}

TEST(RealMlx, TheFileAloneOpensLikeTheFolder) {
  Result<Adapter> folder = open_adapter(real_mlx());
  Result<Adapter> file = open_adapter(real_mlx() / "adapters.safetensors");
  ASSERT_TRUE(folder && file);
  EXPECT_EQ(file->format, AdapterFormat::kMlx);
  ASSERT_TRUE(file->config_path);
  ASSERT_EQ(file->modules.size(), folder->modules.size());
  for (std::size_t i = 0; i < file->modules.size(); ++i) {
    EXPECT_EQ(file->modules[i].name, folder->modules[i].name);
    EXPECT_EQ(file->modules[i].scale, folder->modules[i].scale);
  }
}

TEST(RealMlx, SpectraMatchTheNumpyOracle) {
  Result<Adapter> a = open_adapter(real_mlx());
  ASSERT_TRUE(a) << a.error().message();
  Result<std::vector<std::vector<double>>> spectra = module_spectra(*a);
  ASSERT_TRUE(spectra) << spectra.error().message();
  const auto oracle = lorank::testing::run_command(
      {"/usr/bin/python3", std::string(LORANK_SOURCE_DIR) + "/tests/adapter/mlx_spectrum_oracle.py",
       real_mlx().string()});
  ASSERT_EQ(oracle.exit_code, 0) << oracle.err;
  const nlohmann::json ref = nlohmann::json::parse(oracle.out);
  EXPECT_EQ(ref["scale"].get<double>(), 2.0);
  ASSERT_EQ(ref["modules"].size(), a->modules.size());
  for (const nlohmann::json& r : ref["modules"]) {
    const std::string name = r["module"];
    SCOPED_TRACE(name);
    const auto it = std::find_if(a->modules.begin(), a->modules.end(),
                                 [&](const LoraModule& m) { return m.name == name; });
    ASSERT_NE(it, a->modules.end());
    EXPECT_EQ(it->out, r["out"].get<std::size_t>());
    EXPECT_EQ(it->in, r["in"].get<std::size_t>());
    const std::vector<double>& got = (*spectra)[static_cast<std::size_t>(it - a->modules.begin())];
    const std::vector<double> want = r["singular_values"];
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
      EXPECT_LE(std::abs(got[k] - want[k]), 1e-9 * want[0]) << "sigma_" << k + 1;
    }
  }
}

// The header is lorank's own (mlx's writer sorts each entry's fields and writes
// "__metadata__": null), so the file is not byte-identical; everything it says is.
TEST(RealMlx, ReadThenWriteKeepsEveryTensorAndTheConfig) {
  Result<Adapter> a = open_adapter(real_mlx());
  ASSERT_TRUE(a);
  TempDir tmp;
  ASSERT_TRUE(write_adapter(*a, tmp / "out").ok());
  EXPECT_EQ(tmp.entries(), (std::set<std::string>{"out"}));
  Result<SafetensorsFile> in = SafetensorsFile::open(real_mlx() / "adapters.safetensors");
  Result<SafetensorsFile> out = SafetensorsFile::open(tmp / "out" / "adapters.safetensors");
  ASSERT_TRUE(in && out);
  ASSERT_EQ(out->tensors().size(), in->tensors().size());
  for (std::size_t i = 0; i < in->tensors().size(); ++i) {
    const TensorView& x = in->tensors()[i];
    const TensorView& y = out->tensors()[i];
    EXPECT_EQ(y.name, x.name);
    EXPECT_EQ(y.dtype, x.dtype);
    EXPECT_EQ(y.shape, x.shape);
    EXPECT_TRUE(std::equal(x.data.begin(), x.data.end(), y.data.begin(), y.data.end())) << x.name;
  }
  EXPECT_EQ(out->metadata(), in->metadata());
  EXPECT_EQ(read_text_file(tmp / "out" / "adapter_config.json"),
            read_text_file(real_mlx() / "adapter_config.json"));
  // lorank's own output does round-trip byte for byte.
  Result<Adapter> b = open_adapter(tmp / "out");
  ASSERT_TRUE(b);
  ASSERT_TRUE(write_adapter(*b, tmp / "again").ok());
  EXPECT_TRUE(read_text_file(tmp / "again" / "adapters.safetensors") ==
              read_text_file(tmp / "out" / "adapters.safetensors"));
}

TEST(RealMlx, ResizeToRankFourKeepsTheTopFourDirectionsInMlxLayout) {
  Result<Adapter> a = open_adapter(real_mlx());
  ASSERT_TRUE(a);
  Result<std::vector<std::vector<double>>> before = module_spectra(*a);
  ASSERT_TRUE(before);
  ResizeOptions options;
  options.rule = RankRule::parse("fixed:4").value();
  Result<ResizeResult> r = resize_adapter(*a, options);
  ASSERT_TRUE(r) << r.error().message();
  TempDir tmp;
  const fs::path out = tmp / "r4";
  AdapterWriteOptions write;
  write.before_publish = [&](const fs::path& temp) { return verify_resized(temp, *r); };
  ASSERT_TRUE(write_adapter(r->adapter, out, write).ok());
  EXPECT_EQ(tmp.entries(), (std::set<std::string>{"r4"}));

  Result<Adapter> b = open_adapter(out);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->format, AdapterFormat::kMlx);
  ASSERT_TRUE(b->mlx);
  EXPECT_EQ(b->mlx->rank, 4);
  EXPECT_EQ(b->mlx->scale, 2.0);
  EXPECT_EQ(b->mlx->alpha, 8.0);  // scale·alpha/rank kept for mlx_lm < 0.14.2
  Result<std::vector<std::vector<double>>> after = module_spectra(*b);
  ASSERT_TRUE(after);
  ASSERT_EQ(b->modules.size(), a->modules.size());
  for (std::size_t i = 0; i < b->modules.size(); ++i) {
    const LoraModule& m = b->modules[i];
    SCOPED_TRACE(m.name);
    EXPECT_EQ(m.name, a->modules[i].name);
    EXPECT_EQ(m.A.shape, (Shape{{static_cast<int64_t>(m.in), 4}}));  // still [in, k]
    EXPECT_EQ(m.B.shape, (Shape{{4, static_cast<int64_t>(m.out)}}));  // still [k, out]
    EXPECT_EQ(m.scale, 2.0);
    // Eckart–Young: the rank-4 truncation keeps σ₁..σ₄ (F32 rounding of the factors).
    ASSERT_EQ((*after)[i].size(), 4u);
    for (std::size_t k = 0; k < 4; ++k) {
      EXPECT_NEAR((*after)[i][k], (*before)[i][k], 1e-6 * (*before)[i][0]) << "sigma_" << k + 1;
    }
  }
  // Every other config field is kept as it was (the absolute model path included).
  nlohmann::ordered_json in = nlohmann::ordered_json::parse(read_text_file(real_mlx() / "adapter_config.json"));
  nlohmann::ordered_json got = nlohmann::ordered_json::parse(read_text_file(out / "adapter_config.json"));
  in["lora_parameters"]["rank"] = 4;
  in["lora_parameters"]["alpha"] = 8.0;
  EXPECT_EQ(got, in);
}

// A module whose lorank B (out×r) and A (r×in) are known, in both layouts: the mlx reading
// must give exactly PEFT's module, factor for factor and singular value for singular value.
TEST(MlxLayout, TransposedFactorsReadAsPeftsBAndA) {
  const std::size_t out = 5, r = 2, in = 3;
  const std::vector<double> b = {1, 2, 0.5, -1, 3, 0, 0.25, 4, -2, 1};  // out×r
  const std::vector<double> a = {0.5, -1, 2, 1.5, 0.75, -0.25};         // r×in
  TempDir tmp;
  fs::create_directory(tmp / "mlx");
  fs::create_directory(tmp / "peft");
  AdapterBuilder()
      .add("model.layers.0.q_proj.lora_a", {3, 2}, transpose(a, r, in))
      .add("model.layers.0.q_proj.lora_b", {2, 5}, transpose(b, out, r))
      .config(kMlxConfig)
      .write(tmp / "mlx", "adapters.safetensors");
  AdapterBuilder()
      .add("base_model.model.layers.0.q_proj.lora_A.weight", {2, 3}, a)
      .add("base_model.model.layers.0.q_proj.lora_B.weight", {5, 2}, b)
      .config(R"({"r": 2, "lora_alpha": 6})")
      .write(tmp / "peft");
  Result<Adapter> x = open_adapter(tmp / "mlx");
  Result<Adapter> y = open_adapter(tmp / "peft");
  ASSERT_TRUE(x) << x.error().message();
  ASSERT_TRUE(y) << y.error().message();
  const LoraModule& m = x->modules.at(0);
  EXPECT_EQ(m.out, out);
  EXPECT_EQ(m.rank, r);
  EXPECT_EQ(m.in, in);
  EXPECT_EQ(m.scale, 3.0);  // lora_parameters.scale; PEFT: alpha 6 / r 2
  EXPECT_EQ(m.scale_rule, "lora_parameters.scale (mlx_lm; not divided by r)");
  std::vector<double> got;
  ASSERT_TRUE(widen_factor(m, Factor::kA, got).ok());
  EXPECT_EQ(got, a);
  ASSERT_TRUE(widen_factor_finite(*x, m, Factor::kB, got).ok());
  EXPECT_EQ(got, b);
  std::vector<double> stored = a;
  to_stored_order(m, Factor::kA, stored);
  EXPECT_EQ(stored, transpose(a, r, in));
  Result<std::vector<std::vector<double>>> sx = module_spectra(*x);
  Result<std::vector<std::vector<double>>> sy = module_spectra(*y);
  ASSERT_TRUE(sx && sy);
  ASSERT_EQ(sx->at(0).size(), 2u);
  for (std::size_t k = 0; k < 2; ++k) EXPECT_NEAR(sx->at(0)[k], sy->at(0)[k], 1e-12 * sy->at(0)[0]);
}

TEST(MlxLayout, WithoutConfigScaleFallsBackWithAWarning) {
  TempDir tmp;
  AdapterBuilder().add("m.lora_a", {3, 2}).add("m.lora_b", {2, 4}).write(tmp.path(), "adapters.safetensors");
  Result<Adapter> a = open_adapter(tmp.path());
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->format, AdapterFormat::kMlx);
  EXPECT_FALSE(a->config_path);
  EXPECT_EQ(a->modules.at(0).scale, 1.0);
  EXPECT_EQ(a->warnings, (std::vector<std::string>{
                             "no adapter_config.json beside the weights: scale 1 assumed (pass "
                             "--alpha to set it)"}));
  Result<Adapter> b = open_adapter(tmp.path(), AdapterOptions{4.0});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->modules.at(0).scale, 2.0);  // alpha 4 / r 2
}

TEST(MlxLayout, AFolderWithTrainingCheckpointsOpensAdaptersSafetensors) {
  TempDir tmp;
  AdapterBuilder b;
  b.add("m.lora_a", {3, 2}).add("m.lora_b", {2, 4}).config(R"({"lora_parameters": {"rank": 2, "scale": 1.5}})");
  b.write(tmp.path(), "adapters.safetensors");
  b.write(tmp.path(), "0000100_adapters.safetensors");
  Result<Adapter> a = open_adapter(tmp.path());
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->weights_path.filename(), "adapters.safetensors");
  EXPECT_EQ(a->modules.at(0).scale, 1.5);
}

TEST(MlxLayout, DoraMagnitudeIsPaired) {
  TempDir tmp;
  AdapterBuilder()
      .add("m.lora_a", {3, 2})
      .add("m.lora_b", {2, 4})
      .add("m.m", {4})
      .config(R"({"fine_tune_type": "dora", "lora_parameters": {"rank": 2, "scale": 1.0}})")
      .write(tmp.path(), "adapters.safetensors");
  Result<Adapter> a = open_adapter(tmp.path());
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_TRUE(a->mlx);
  EXPECT_TRUE(a->mlx->dora);
  ASSERT_TRUE(a->modules.at(0).magnitude);
  EXPECT_EQ(a->modules.at(0).magnitude->name, "m.m");
  EXPECT_TRUE(a->passthrough.empty());
}

// Hostile configs and factors: one line naming the file and the field.
TEST(MlxLayout, BadConfigsAndFactorsAreOneLineErrors) {
  struct Case {
    std::string config;
    std::vector<int64_t> a_shape, b_shape;
    StatusCode code;
    std::string message;  // after "adapter config '<dir>/adapter_config.json': " or "adapter file '…': "
  };
  const std::vector<Case> cases = {
      {R"({"fine_tune_type": "full", "lora_parameters": {"rank": 2, "scale": 1}})", {3, 2}, {2, 4},
       StatusCode::kNotSupported, "fine_tune_type \"full\" is a full fine-tune, not a LoRA adapter"},
      {R"({"fine_tune_type": "lokr", "lora_parameters": {"rank": 2, "scale": 1}})", {3, 2}, {2, 4},
       StatusCode::kNotSupported, "fine_tune_type \"lokr\" is not supported (only lora and dora)"},
      {R"({"use_dora": "yes", "lora_parameters": {"rank": 2, "scale": 1}})", {3, 2}, {2, 4},
       StatusCode::kCorruption, "use_dora must be true or false, got \"yes\""},
      {R"({"lora_parameters": {"scale": 1}})", {3, 2}, {2, 4}, StatusCode::kCorruption,
       "lora_parameters has no rank (mlx_lm needs it)"},
      {R"({"lora_parameters": {"rank": 2, "scale": 1, "alpha": "16"}})", {3, 2}, {2, 4},
       StatusCode::kCorruption, "lora_parameters.alpha must be a finite number, got \"16\""},
      {R"({"lora_parameters": {"rank": 2, "scale": 1, "dropout": true}})", {3, 2}, {2, 4},
       StatusCode::kCorruption, "lora_parameters.dropout must be a finite number, got true"},
      {R"({"lora_parameters": {"rank": 0, "scale": 1}})", {3, 2}, {2, 4}, StatusCode::kCorruption,
       "lora_parameters.rank must be a positive integer, got 0"},
      {R"({"rank": 2})", {3, 2}, {2, 4}, StatusCode::kCorruption,
       "no lora_parameters (mlx_lm reads the rank and scale there)"},
      {R"({"lora_parameters": {"rank": 2, "scale": 1}})", {2, 3, 2}, {2, 4, 2},
       StatusCode::kNotSupported, "module 'm': 3-D factors (mlx_lm's LoRASwitchLinear, one LoRA "
                                  "per expert) are not supported (A 'm.lora_a' [2, 3, 2], B 'm.lora_b' [2, 4, 2])"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.config);
    TempDir tmp;
    AdapterBuilder().add("m.lora_a", c.a_shape).add("m.lora_b", c.b_shape).config(c.config)
        .write(tmp.path(), "adapters.safetensors");
    Result<Adapter> a = open_adapter(tmp.path());
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code(), c.code);
    const bool file_error = c.message.starts_with("module");
    const std::string prefix = file_error
        ? "adapter file '" + (tmp / "adapters.safetensors").string() + "': "
        : "adapter config '" + (tmp / "adapter_config.json").string() + "': ";
    EXPECT_EQ(a.error().message(), prefix + c.message);
  }
}

TEST(MlxLayout, OverwriteReplacesOnlyAnMlxFolder) {
  TempDir tmp;
  fs::create_directory(tmp / "in");
  AdapterBuilder().add("m.lora_a", {3, 2}).add("m.lora_b", {2, 4}).config(kMlxConfig)
      .write(tmp / "in", "adapters.safetensors");
  Result<Adapter> a = open_adapter(tmp / "in");
  ASSERT_TRUE(a);
  ASSERT_TRUE(write_adapter(*a, tmp / "out").ok());
  EXPECT_TRUE(write_adapter(*a, tmp / "out", AdapterWriteOptions{true}).ok());
  // A training folder holds numbered checkpoints lorank did not write: never replaced.
  { std::ofstream(tmp / "out" / "0000100_adapters.safetensors") << "x"; }
  const Status s = write_adapter(*a, tmp / "out", AdapterWriteOptions{true});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();
  EXPECT_TRUE(fs::exists(tmp / "out" / "0000100_adapters.safetensors"));
}

}  // namespace
}  // namespace lorank
