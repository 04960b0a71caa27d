// `lorank combine` against a dense NumPy oracle (tests/combine/combine_oracle.py: the
// weighted sum of every module's update and its best rank-k approximation by a dense SVD),
// on the real stories260K adapters, PEFT variants, mlx_lm and GGUF, and its refusals.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lorank/safetensors.h"
#include "support/run_command.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using testing::run_command;
using testing::run_lorank;
using testing::shared_path;
using testing::TempDir;

const std::string kSource = LORANK_SOURCE_DIR;
const std::string kOracle = kSource + "/tests/combine/combine_oracle.py";
const std::string kMaker = kSource + "/tests/merge/merge_oracle.py";

fs::path make_adapter(const TempDir& dir, const std::string& kind) {
  const fs::path out = dir / kind;
  const auto r = run_command({"/usr/bin/python3", kMaker, "make", kind,
                              shared_path("models/stories260K/model.safetensors").string(), out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return out;
}

void expect_oracle_agrees(const fs::path& out, const std::string& rank, const std::string& weights,
                          const std::vector<fs::path>& adapters) {
  std::vector<std::string> argv = {"/usr/bin/python3", kOracle, out.string(), rank, weights};
  for (const fs::path& a : adapters) argv.push_back(a.string());
  const auto r = run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("ok: ", 0), 0u) << r.out;
}

TEST(Combine, PeftSumsMatchTheDenseOracle) {
  TempDir dir;
  const fs::path lora = shared_path("models/stories260K-lora-r8");
  // rsLoRA, rank and alpha patterns and an embedding the real adapter does not have.
  const fs::path patterns = make_adapter(dir, "patterns");
  for (const auto& [flags, rank] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--cat"}, "cat"}, {{"--rank", "5"}, "5"}, {{"--rank", "1"}, "1"}}) {
    SCOPED_TRACE(rank);
    const fs::path out = dir / ("out-" + rank);
    std::vector<std::string> args = {"combine", lora.string(), patterns.string(), "-o", out.string(),
                                     "--weights", "1,-0.5"};
    args.insert(args.end(), flags.begin(), flags.end());
    const auto r = run_lorank(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("21 module(s) are missing from some of the 2 adapters"), std::string::npos) << r.err;
    expect_oracle_agrees(out, rank, "1,-0.5", {lora, patterns});
  }
  // The first config gains the module only the second adapts, so PEFT builds its layer.
  std::ifstream config(dir / "out-cat" / "adapter_config.json");
  const auto targets = nlohmann::json::parse(config)["target_modules"];
  EXPECT_NE(std::find(targets.begin(), targets.end(), "embed_tokens"), targets.end()) << targets;
}

TEST(Combine, MlxAndGgufAdaptersKeepTheirFormat) {
  TempDir dir;
  const fs::path mlx = make_adapter(dir, "mlx");
  auto r = run_lorank({"combine", mlx.string(), mlx.string(), "-o", (dir / "m").string(),
                       "--weights", "2,-0.5", "--cat"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "m" / "adapters.safetensors"));
  expect_oracle_agrees(dir / "m", "cat", "2,-0.5", {mlx, mlx});

  // 0.25·ΔW + 0.75·ΔW = ΔW: rank 8 of the stacked 16 gives back the adapter's spectra.
  const fs::path gguf = shared_path("models/stories260K-lora-gguf/adapter.gguf");
  r = run_lorank({"combine", gguf.string(), gguf.string(), "-o", (dir / "g.gguf").string(),
                  "--weights", "0.25,0.75", "--rank", "8", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto spectra = [](const fs::path& p) {
    const auto a = run_lorank({"audit", p.string(), "--json"});
    EXPECT_EQ(a.exit_code, 0) << a.err;
    return nlohmann::json::parse(a.out)["modules"];
  };
  const auto before = spectra(gguf), after = spectra(dir / "g.gguf");
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    const auto& s = before[i]["singular_values"];
    const auto& t = after[i]["singular_values"];
    ASSERT_EQ(s.size(), t.size());
    for (std::size_t j = 0; j < s.size(); ++j) {
      EXPECT_NEAR(t[j].get<double>(), s[j].get<double>(), 1e-6 * s[0].get<double>())
          << before[i]["name"] << " sigma " << j;
    }
  }
}

TEST(Combine, RefusalsAreOneLineAndWriteNothing) {
  TempDir dir;
  const fs::path lora = shared_path("models/stories260K-lora-r8");
  const fs::path gguf = shared_path("models/stories260K-lora-gguf/adapter.gguf");
  const fs::path weights = lora / "adapter_model.safetensors";
  // q_proj of another base: A is [8, 32], not [8, 64].
  const fs::path other = dir / "other";
  fs::create_directories(other);
  const std::vector<float> a(8 * 32, 0.1f), b(64 * 8, 0.2f);
  const std::vector<TensorView> tensors = {
      {"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", DType::kF32, Shape{{8, 32}},
       std::as_bytes(std::span<const float>(a))},
      {"base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", DType::kF32, Shape{{64, 8}},
       std::as_bytes(std::span<const float>(b))}};
  ASSERT_TRUE(write_safetensors(other / "adapter_model.safetensors", tensors, {}).ok());
  const std::string out = (dir / "out").string();
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"combine", lora.string(), other.string(), "-o", out}, 1,
       "lorank: error: module 'base_model.model.model.layers.0.self_attn.q_proj': '" + weights.string() +
           "' has linear [64, 64], '" + (other / "adapter_model.safetensors").string() +
           "' has linear [64, 32]: the adapters do not share a base\n"},
      {{"combine", lora.string(), gguf.string(), "-o", out}, 1,
       "lorank: error: '" + weights.string() + "' is a peft adapter, '" + gguf.string() +
           "' a gguf one: combine adapters of one format\n"},
      {{"combine", lora.string(), lora.string(), "-o", out, "--weights", "1,2,3"}, 2,
       "lorank: error: --weights gives 3 weight(s) for 2 adapters\n"},
      {{"combine", lora.string(), lora.string(), "-o", out, "--weights", "1,nan"}, 2,
       "lorank: error: --weights: 'nan' is not a decimal number (expected a list like 1,0.5,-1)\n"},
      {{"combine", lora.string(), lora.string(), "-o", out, "--weights", ""}, 2,
       "lorank: error: --weights: '' is not a decimal number (expected a list like 1,0.5,-1)\n"},
      {{"combine", lora.string(), lora.string(), "-o", out, "--cat", "--energy", "0.9"}, 2,
       "lorank: error: --cat keeps every direction: give no rank rule with it\n"},
      {{"combine", lora.string(), lora.string(), "-o", lora.string()}, 2,
       "lorank: error: refusing to write over the input: replacing '" + lora.string() +
           "' would delete '" + weights.string() + "'\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const auto r = run_lorank(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code);
    EXPECT_EQ(r.err, c.message);
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(out));
  }
}

}  // namespace
}  // namespace lorank
