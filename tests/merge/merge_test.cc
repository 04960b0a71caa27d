// `lorank merge` on the real base models of shared/models, checked bit for bit against the
// independent NumPy oracle tests/merge/merge_oracle.py, and its refusals.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include <filesystem>
#include <string>
#include <vector>

#include "lorank/checkpoint.h"
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

const std::string kOracle = std::string(LORANK_SOURCE_DIR) + "/tests/merge/merge_oracle.py";

// Runs the oracle's `check` and expects "ok: … bit for bit".
void expect_oracle_agrees(const fs::path& base, const fs::path& out, const std::string& dtype,
                          const std::string& scale, const std::vector<fs::path>& adapters,
                          const std::string& compute = "auto") {
  std::vector<std::string> argv = {"/usr/bin/python3", kOracle, "--compute", compute, "check",
                                   base.string(), out.string(), dtype, scale};
  for (const fs::path& a : adapters) argv.push_back(a.string());
  const auto r = run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("bit for bit"), std::string::npos) << r.out;
}

fs::path make_adapter(const TempDir& dir, const std::string& kind, const fs::path& base) {
  const fs::path out = dir / ("adapter-" + kind);
  const auto r = run_command({"/usr/bin/python3", kOracle, "make", kind, base.string(), out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return out;
}

TEST(Merge, RealLoraIntoTheF32AndTheShardedBf16BaseMatchesTheOracle) {
  TempDir dir;
  const fs::path lora = shared_path("models/stories260K-lora-r8");
  const fs::path single = shared_path("models/stories260K/model.safetensors");
  auto r = run_lorank({"merge", single.string(), lora.string(), "-o", (dir / "m.safetensors").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("merged 35 tensor(s), replaced 0, added 0, copied 12"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("verified: every tensor"), std::string::npos);
  expect_oracle_agrees(single, dir / "m.safetensors", "base", "1", {lora});

  // Sharded in, sharded out: same shard names and assignment, a valid fresh index.
  const fs::path sharded = shared_path("models/stories260K-sharded");
  r = run_lorank({"merge", sharded.string(), lora.string(), "-o", (dir / "sharded").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"verified_all\": true"), std::string::npos) << r.out;
  expect_oracle_agrees(sharded, dir / "sharded", "base", "1", {lora});
  auto in = Checkpoint::open(sharded);
  auto out = Checkpoint::open(dir / "sharded");  // the index is cross-checked on open
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  EXPECT_EQ(out->format(), CheckpointFormat::kShardedSafetensors);
  ASSERT_EQ(out->files().size(), 3u);
  for (const CheckpointTensor& t : in->tensors()) {
    EXPECT_EQ(out->find(t.name)->shard, t.shard) << t.name;
    EXPECT_EQ(out->find(t.name)->type_name, "BF16");
  }
  EXPECT_TRUE(fs::exists(dir / "sharded" / "config.json"));
}

// --compute picks the arithmetic (auto: float for 16-bit outputs, double for F32 ones); the
// oracle follows the same steps in either, and the two arithmetics do give different bits.
TEST(Merge, EitherArithmeticMatchesTheOracle) {
  TempDir dir;
  const fs::path stories = shared_path("models/stories260K/model.safetensors");
  const fs::path sharded = shared_path("models/stories260K-sharded");
  const fs::path adapter = make_adapter(dir, "patterns", stories);
  auto merge = [&](const fs::path& base, const std::string& out, const std::string& compute) {
    const auto r = run_lorank({"merge", base.string(), adapter.string(), "-o", (dir / out).string(),
                               "--compute", compute, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_NE(merge(stories, "f32.safetensors", "F32").find("\"computed_in_float\": 16"), std::string::npos);
  expect_oracle_agrees(stories, dir / "f32.safetensors", "base", "1", {adapter}, "F32");
  EXPECT_NE(merge(stories, "auto.safetensors", "auto").find("\"computed_in_float\": 0"), std::string::npos);
  expect_oracle_agrees(stories, dir / "auto.safetensors", "base", "1", {adapter}, "F64");
  auto bytes = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_NE(bytes(dir / "f32.safetensors"), bytes(dir / "auto.safetensors"));
  EXPECT_NE(merge(sharded, "f64", "F64").find("\"computed_in_float\": 0"), std::string::npos);
  expect_oracle_agrees(sharded, dir / "f64", "base", "1", {adapter}, "F64");
  EXPECT_NE(merge(sharded, "bf16", "auto").find("\"computed_in_float\": 16"), std::string::npos);
  expect_oracle_agrees(sharded, dir / "bf16", "base", "1", {adapter}, "F32");
  const auto bad = run_lorank({"merge", stories.string(), adapter.string(), "-o",
                               (dir / "x.safetensors").string(), "--compute", "F16"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir / "x.safetensors"));
}

TEST(Merge, PeftVariantsMatchTheOracleBitForBit) {
  TempDir dir;
  const fs::path stories = shared_path("models/stories260K/model.safetensors");
  const fs::path gpt2 = shared_path("models/tinygpt2-steps/step1.safetensors");
  struct Case {
    std::string kind;
    fs::path base;
    std::vector<std::string> flags;
    std::string dtype, scale;
  };
  // DoRA; rsLoRA + rank_pattern + alpha_pattern + an embedding; fan_in_fan_out (Conv1D).
  const std::vector<Case> cases = {
      {"dora", stories, {"--scale", "0.7", "--dtype", "BF16"}, "BF16", "0.7"},
      {"dora", stories, {}, "base", "1"},
      {"patterns", stories, {"--dtype", "F16"}, "F16", "1"},
      {"patterns", stories, {"--scale", "-1.5"}, "base", "-1.5"},
      {"gpt2-fifo", gpt2, {}, "base", "1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.kind + " " + c.dtype + " " + c.scale);
    const fs::path adapter = make_adapter(dir, c.kind, c.base);
    const fs::path out = dir / ("out-" + c.kind + c.dtype + c.scale + ".safetensors");
    std::vector<std::string> args = {"merge", c.base.string(), adapter.string(), "-o", out.string()};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    const auto r = run_lorank(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_oracle_agrees(c.base, out, c.dtype, c.scale, {adapter});
  }
  // Two adapters are summed in order.
  const fs::path patterns = make_adapter(dir, "patterns", stories);
  const fs::path lora = shared_path("models/stories260K-lora-r8");
  const auto r = run_lorank({"merge", stories.string(), patterns.string(), lora.string(), "-o",
                             (dir / "two.safetensors").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_oracle_agrees(stories, dir / "two.safetensors", "base", "1", {patterns, lora});
  // --scales: one factor per adapter, times --scale (0.5·1.5 and 0.5·-2).
  const auto scaled = run_lorank({"merge", stories.string(), patterns.string(), lora.string(), "-o",
                                  (dir / "scaled.safetensors").string(), "--scales", "1.5,-2",
                                  "--scale", "0.5"});
  ASSERT_EQ(scaled.exit_code, 0) << scaled.err;
  expect_oracle_agrees(stories, dir / "scaled.safetensors", "base", "0.75,-1", {patterns, lora});
  const auto wrong = run_lorank({"merge", stories.string(), lora.string(), "-o",
                                 (dir / "wrong.safetensors").string(), "--scales", "1,2"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_EQ(wrong.err, "lorank: error: --scales gives 2 scale(s) for 1 adapter(s)\n");
}

// The oracle reads the base's exact values from ggml's own dequantization (the shared
// reference file), so quantised, F16, BF16 and F32 base tensors are all checked bit for bit.
void expect_gguf_oracle_agrees(const fs::path& base, const fs::path& dequant, const fs::path& out,
                               const std::string& dtype, const std::string& scale,
                               const fs::path& adapter) {
  const auto r = run_command({"/usr/bin/python3", kOracle, "check-gguf", base.string(),
                              dequant.string(), out.string(), dtype, scale, adapter.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("bit for bit"), std::string::npos) << r.out;
}

TEST(Merge, GgufAdapterIntoTheMixedQuantGgufBase) {
  TempDir dir;
  const fs::path base = shared_path("models/stories260K-quant/model.gguf");
  const auto r = run_lorank({"merge", base.string(),
                             shared_path("models/stories260K-lora-gguf/adapter.gguf").string(), "-o",
                             (dir / "m.gguf").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto in = Checkpoint::open(base);
  auto out = Checkpoint::open(dir / "m.gguf");
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  ASSERT_EQ(out->tensors().size(), in->tensors().size());
  for (const CheckpointTensor& t : in->tensors()) {
    const CheckpointTensor* m = out->find(t.name);
    ASSERT_NE(m, nullptr) << t.name;
    const bool merged = t.name.find("blk.") == 0 && t.shape.rank() == 2;
    // Merged quantised tensors become F16 (kMergedDtypeForQuantised); floats keep their type.
    const std::string want = !merged ? t.type_name : t.dtype ? t.type_name : "F16";
    EXPECT_EQ(m->type_name, want) << t.name;
    if (!merged) {
      EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), m->data.begin())) << t.name;
    }
  }
  const fs::path dequant = shared_path("models/stories260K-quant/model.dequant.safetensors");
  const fs::path adapter = shared_path("models/stories260K-lora-gguf/adapter.gguf");
  expect_gguf_oracle_agrees(base, dequant, dir / "m.gguf", "base", "1", adapter);
  for (const std::string dtype : {"F32", "BF16"}) {
    const fs::path forced_out = dir / ("m-" + dtype + ".gguf");
    const auto forced = run_lorank({"merge", base.string(), adapter.string(), "-o", forced_out.string(),
                                    "--dtype", dtype, "--scale", "0.5"});
    ASSERT_EQ(forced.exit_code, 0) << forced.err;
    expect_gguf_oracle_agrees(base, dequant, forced_out, dtype, "0.5", adapter);
  }
}

// A PEFT adapter on a llama GGUF base: modules map to llama.cpp's names and the q/k rows of
// ΔW follow the converter's per-head order, so the result is byte for byte the merge of the
// GGUF LoRA (the same adapter, converted by gguf-py), which the GGUF oracle checks above.
TEST(Merge, PeftAdapterIntoALlamaGgufBaseEqualsTheGgufLoraMerge) {
  TempDir dir;
  const fs::path base = shared_path("models/stories260K-quant/model.gguf");
  for (const auto& [adapter, out] :
       {std::pair{shared_path("models/stories260K-lora-r8"), dir / "peft.gguf"},
        std::pair{shared_path("models/stories260K-lora-gguf/adapter.gguf"), dir / "gguf.gguf"}}) {
    const auto r = run_lorank({"merge", base.string(), adapter.string(), "-o", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const auto cmp = run_command({"/usr/bin/cmp", (dir / "peft.gguf").string(), (dir / "gguf.gguf").string()});
  EXPECT_EQ(cmp.exit_code, 0) << cmp.out;
}

// mlx_lm stores Aᵀ [in, r] and Bᵀ [r, out] and applies lora_parameters.scale as is.
TEST(Merge, MlxAdapterMatchesTheOracle) {
  TempDir dir;
  const fs::path stories = shared_path("models/stories260K/model.safetensors");
  const fs::path adapter = make_adapter(dir, "mlx", stories);
  const auto r = run_lorank({"merge", stories.string(), adapter.string(), "-o",
                             (dir / "m.safetensors").string(), "--dtype", "BF16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("merged 6 tensor(s)"), std::string::npos) << r.out;
  expect_oracle_agrees(stories, dir / "m.safetensors", "BF16", "1", {adapter});
}



TEST(Merge, RefusalsAreOneLineAndWriteNothing) {
  TempDir dir;
  const fs::path stories = shared_path("models/stories260K/model.safetensors");
  const fs::path lora = shared_path("models/stories260K-lora-r8");
  const fs::path gpt2 = shared_path("models/tinygpt2-steps/step1.safetensors");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  const std::string out = (dir / "out.safetensors").string();
  std::vector<Case> cases = {
      {{"merge", gpt2.string(), lora.string(), "-o", out}, 1,
       "lorank: error: module 'base_model.model.model.layers.0.mlp.down_proj' of '" +
           (lora / "adapter_model.safetensors").string() +
           "': the base has no tensor 'model.layers.0.mlp.down_proj.weight'\n"},
      {{"merge", stories.string(), lora.string(), "-o", stories.string()}, 2,
       "lorank: error: refusing to write over the input '" + stories.string() + "'\n"},
      {{"merge", stories.string(), lora.string(), "-o", out, "--dtype", "Q4_0"}, 2,
       "lorank: error: --dtype must be F32, F16 or BF16, got 'Q4_0'\n"},
      {{"merge", shared_path("models/stories260K-lora-gguf/adapter.gguf").string(), lora.string(),
        "-o", out},
       1,
       "lorank: error: gguf file '" + shared_path("models/stories260K-lora-gguf/adapter.gguf").string() +
           "': general.type is \"adapter\", not a model\n"},
  };
  // A Conv1D adapter whose config forgot fan_in_fan_out: the update is [192, 64], the
  // stored W [64, 192].
  const fs::path fifo = make_adapter(dir, "gpt2-fifo", gpt2);
  const auto config = run_command({"/usr/bin/sed", "-i", "s/\"fan_in_fan_out\": true/\"fan_in_fan_out\": false/",
                                   (fifo / "adapter_config.json").string()});
  ASSERT_EQ(config.exit_code, 0);
  // A llama GGUF base without llama.attention.head_count: the q rows' order is unknown.
  const fs::path data = fs::path(LORANK_SOURCE_DIR) / "tests" / "data";
  const fs::path headless = data / "gguf-llama-without-head-count.gguf";
  cases.push_back({{"merge", headless.string(), (data / "tiny-adapter").string(), "-o", out}, 1,
                   "lorank: error: module 'base_model.model.model.layers.0.self_attn.q_proj': base "
                   "tensor 'blk.0.attn_q.weight' of '" + headless.string() + "' needs llama.cpp's "
                   "q/k row order, but the base has no u32 llama.attention.head_count\n"});
  cases.push_back({{"merge", gpt2.string(), fifo.string(), "-o", out}, 1,
                   "lorank: error: module 'base_model.model.transformer.h.0.attn.c_attn': base "
                   "tensor 'transformer.h.0.attn.c_attn.weight' has shape [64, 192], the adapter's "
                   "update is [192, 64]\n"});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const auto r = run_lorank(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code);
    EXPECT_EQ(r.err, c.message);
    EXPECT_FALSE(fs::exists(out));
  }
}

}  // namespace
}  // namespace lorank
