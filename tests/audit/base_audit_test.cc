// `lorank audit ADAPTER --base BASE` (Hu et al. 2022 §7.3) on the real models of
// shared/models and on synthetic cases, every number checked against the dense NumPy
// oracle tests/audit/base_audit_oracle.py to 1e-9 relative; the Krylov route for W too big
// for the dense one; refusals with their exact one-line messages; the JSON names.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

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

const std::string kOracle = std::string(LORANK_SOURCE_DIR) + "/tests/audit/base_audit_oracle.py";
const std::string kMergeOracle = std::string(LORANK_SOURCE_DIR) + "/tests/merge/merge_oracle.py";

// Runs `lorank audit ADAPTER --base BASE --json EXTRA...`, saves the JSON in `dir`, runs
// the oracle's check on it (with `oracle_extra`) and returns the parsed report.
nlohmann::json audit_matches_oracle(const TempDir& dir, const fs::path& adapter, const fs::path& base,
                                    const std::vector<std::string>& extra = {},
                                    const std::vector<std::string>& oracle_extra = {}) {
  std::vector<std::string> args = {"audit", adapter.string(), "--base", base.string(), "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_lorank(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const fs::path json = dir / "report.json";
  std::ofstream(json) << r.out;
  std::vector<std::string> argv = {"/usr/bin/python3", kOracle, "check", adapter.string(),
                                   base.string(), json.string()};
  argv.insert(argv.end(), oracle_extra.begin(), oracle_extra.end());
  const auto o = run_command(argv);
  EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("ok: "), std::string::npos) << o.out;
  return nlohmann::json::parse(r.out, nullptr, false);
}

fs::path make_peft(const TempDir& dir, const std::string& kind, const fs::path& base) {
  const fs::path out = dir / ("adapter-" + kind);
  const auto r = run_command({"/usr/bin/python3", kMergeOracle, "make", kind, base.string(), out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return out;
}

TEST(BaseAudit, RealPeftLoraAgainstF32AndShardedBf16BasesMatchesNumpy) {
  TempDir dir;
  const fs::path lora = shared_path("models/stories260K-lora-r8");
  const nlohmann::json j = audit_matches_oracle(dir, lora, shared_path("models/stories260K"));
  ASSERT_EQ(j["modules"].size(), 35u);
  EXPECT_EQ(j["base"]["format"], "safetensors");
  EXPECT_EQ(j["base"]["compared"], 35);
  EXPECT_EQ(j["base"]["reading"].size(), 4u);
  for (const auto& m : j["modules"]) EXPECT_EQ(m["base"]["w_svd"]["method"], "dense");
  const nlohmann::json s = audit_matches_oracle(dir, lora, shared_path("models/stories260K-sharded"));
  EXPECT_EQ(s["base"]["format"], "sharded safetensors");
  EXPECT_EQ(s["modules"][0]["base"]["tensor_type"], "BF16");
}

TEST(BaseAudit, GgufLoraAgainstTheMixedQuantGgufModelMatchesNumpyOnDequantizedW) {
  TempDir dir;
  const fs::path quant = shared_path("models/stories260K-quant");
  const nlohmann::json j = audit_matches_oracle(
      dir, shared_path("models/stories260K-lora-gguf/adapter.gguf"), quant / "model.gguf", {},
      {"--w-values", (quant / "model.dequant.safetensors").string()});
  std::set<std::string> types;
  for (const auto& m : j["modules"]) types.insert(m["base"]["tensor_type"].get<std::string>());
  EXPECT_TRUE(types.count("Q4_0") && types.count("Q5_1") && types.count("Q8_0") && types.count("F16"));
}

// The PEFT LoRA on the llama GGUF base: its modules map to blk.N.* and its q/k rows follow
// llama.cpp's per-head order, so every W-side number equals the GGUF LoRA's (the same
// adapter with its q/k lora_b rows reordered by the converter).
TEST(BaseAudit, PeftLoraOnALlamaGgufBaseEqualsTheGgufLora) {
  const fs::path base = shared_path("models/stories260K-quant/model.gguf");
  const auto audit = [&](const fs::path& adapter) {
    const auto r = run_lorank({"audit", adapter.string(), "--base", base.string(), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, nlohmann::json> by_tensor;
    const nlohmann::json report = nlohmann::json::parse(r.out);
    for (const auto& m : report["modules"]) {
      by_tensor[m["base"]["tensor"].get<std::string>()] = m["base"];
    }
    return by_tensor;
  };
  const auto peft = audit(shared_path("models/stories260K-lora-r8"));
  const auto gguf = audit(shared_path("models/stories260K-lora-gguf/adapter.gguf"));
  ASSERT_EQ(peft.size(), 35u);
  ASSERT_EQ(gguf.size(), 35u);
  for (const auto& [tensor, g] : gguf) {
    SCOPED_TRACE(tensor);
    ASSERT_TRUE(peft.contains(tensor));
    for (const char* key : {"weight_norm", "relative_change", "projection_delta", "projection_w_top",
                            "amplification"}) {
      EXPECT_NEAR(peft.at(tensor)[key].get<double>(), g[key].get<double>(),
                  1e-12 * g[key].get<double>()) << key;
    }
  }
}

TEST(BaseAudit, FanInFanOutEmbeddingAndPatternsMatchNumpy) {
  TempDir dir;
  const fs::path gpt2 = shared_path("models/tinygpt2-steps/step1.safetensors");
  const nlohmann::json g = audit_matches_oracle(dir, make_peft(dir, "gpt2-fifo", gpt2), gpt2);
  for (const auto& m : g["modules"]) EXPECT_TRUE(m["base"]["transposed"]) << m["name"];
  const fs::path stories = shared_path("models/stories260K/model.safetensors");
  const fs::path patterns = make_peft(dir, "patterns", stories);
  const nlohmann::json p = audit_matches_oracle(dir, patterns, stories);
  bool embedding = false;
  for (const auto& m : p["modules"]) {
    if (m["kind"] == "embedding") {
      embedding = true;
      EXPECT_TRUE(m["base"]["transposed"]);
      EXPECT_EQ(m["base"]["tensor"], "model.embed_tokens.weight");
    }
  }
  EXPECT_TRUE(embedding);
  // The seed moves only the random subspaces; the oracle follows it.
  const nlohmann::json seeded = audit_matches_oracle(dir, patterns, stories, {"--base-seed", "7"},
                                                     {"--seed", "7"});
  EXPECT_EQ(seeded["base"]["seed"], 7);
  EXPECT_NE(seeded["modules"][0]["base"]["projection_random"], p["modules"][0]["base"]["projection_random"]);
  EXPECT_EQ(seeded["modules"][0]["base"]["projection_delta"], p["modules"][0]["base"]["projection_delta"]);
}

TEST(BaseAudit, KrylovRouteMatchesNumpyOnSmallAndBigW) {
  TempDir dir;
  // Forced on the real model's W (its basis reaches the whole row space quickly)...
  const nlohmann::json j = audit_matches_oracle(dir, shared_path("models/stories260K-lora-r8"),
                                                shared_path("models/stories260K"), {"--w-svd", "krylov"});
  for (const auto& m : j["modules"]) EXPECT_EQ(m["base"]["w_svd"]["method"], "krylov");
  // ...and taken by itself for W of more than 2^20 elements: a decaying spectrum and a
  // Gaussian one (flat top, the slow case), converged to the stated 1e-10 residual.
  const auto made = run_command({"/usr/bin/python3", kOracle, "make-big", (dir / "big").string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const nlohmann::json big = audit_matches_oracle(dir, dir / "big" / "adapter", dir / "big" / "base.safetensors");
  ASSERT_EQ(big["modules"].size(), 2u);
  for (const auto& m : big["modules"]) {
    EXPECT_EQ(m["base"]["w_svd"]["method"], "krylov");
    EXPECT_GT(m["base"]["w_svd"]["passes"], 2);
    EXPECT_LE(m["base"]["w_svd"]["relative_error_bound"].get<double>(), 5e-11);
  }
}

TEST(BaseAudit, ModuleBaseObjectHasTheSixNamesAndTheDocumentedOthers) {
  const auto r = run_lorank({"audit", shared_path("models/stories260K-lora-r8").string(), "--base",
                             shared_path("models/stories260K").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(r.out);  // keys in file order
  std::vector<std::string> keys;
  for (const auto& [k, v] : j["modules"][0]["base"].items()) keys.push_back(k);
  const std::vector<std::string> want = {
      "weight_norm", "relative_change", "projection_delta", "projection_w_top",
      "projection_random", "amplification", "delta_norm", "directions", "tensor",
      "tensor_type", "transposed", "w_singular_values", "w_svd"};
  EXPECT_EQ(keys, want);
  for (const char* top : {"path", "format", "seed", "reading"}) EXPECT_TRUE(j["base"].contains(top)) << top;
  // Without --base nothing of it appears.
  const auto plain = run_lorank({"audit", shared_path("models/stories260K-lora-r8").string(), "--json"});
  const nlohmann::json p = nlohmann::json::parse(plain.out);
  EXPECT_FALSE(p.contains("base"));
  EXPECT_FALSE(p["modules"][0].contains("base"));
}

TEST(BaseAudit, TableAndHtmlShowTheComparisonAndTheReading) {
  TempDir dir;
  const auto r = run_lorank({"audit", shared_path("models/stories260K-lora-r8").string(), "--base",
                             shared_path("models/stories260K").string(), "--html",
                             (dir / "r.html").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Hu et al. 2022 §7.3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("amplif."), std::string::npos);
  // The stories260K LoRA is random, not trained: W sees its directions as it sees random ones.
  EXPECT_NE(r.out.find("Most modules (35 of 35) update directions unrelated to W"), std::string::npos)
      << r.out;
  const std::string html = testing::read_text_file(dir / "r.html");
  EXPECT_NE(html.find("id=\"base\""), std::string::npos);
  EXPECT_NE(html.find("update directions unrelated to W"), std::string::npos);
}

TEST(BaseAudit, CsvCarriesTheSixColumnsWithEmptyCellsWhereUndefined) {
  TempDir dir;
  const fs::path stories = shared_path("models/stories260K/model.safetensors");
  ASSERT_EQ(run_command({"/usr/bin/python3", kOracle, "make-edge", stories.string(), dir.path().string()}).exit_code, 0);
  const auto r = run_lorank({"audit", (dir / "adapter").string(), "--base", stories.string(), "--csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string header = r.out.substr(0, r.out.find('\n'));
  EXPECT_TRUE(header.ends_with(",config_rank,weight_norm,relative_change,projection_delta,"
                               "projection_w_top,projection_random,amplification"))
      << header;
  // The untrained v_proj: ‖W‖_F, a zero change, then four empty cells.
  const std::size_t row = r.out.find("base_model.model.model.layers.1.self_attn.v_proj,");
  ASSERT_NE(row, std::string::npos) << r.out;
  const std::string line = r.out.substr(row, r.out.find('\n', row) - row);
  EXPECT_TRUE(line.ends_with(",0,,,,")) << line;
  const auto plain = run_lorank({"audit", (dir / "adapter").string(), "--csv"});
  EXPECT_TRUE(plain.out.substr(0, plain.out.find('\n')).ends_with(",config_rank"));
}

TEST(BaseAudit, MismatchesAndKohyaAreOneLineErrors) {
  const std::string tiny = shared_path("models/llama2-tiny-random/llama-2-tiny-random.gguf").string();
  const std::string gguf_lora = shared_path("models/stories260K-lora-gguf/adapter.gguf").string();
  auto r = run_lorank({"audit", gguf_lora, "--base", tiny});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("lorank: error: module 'blk.0.attn_q.weight': base tensor "
                       "'blk.0.attn_q.weight' has shape [8, 8], the adapter's update is [64, 64]\n"),
            std::string::npos)
      << r.err;
  const fs::path peft = shared_path("models/stories260K-lora-r8");
  r = run_lorank({"audit", peft.string(), "--base", tiny});
  EXPECT_EQ(r.exit_code, 1);
  // A llama GGUF base: the PEFT names map to llama.cpp's, whose shapes are this model's.
  EXPECT_EQ(r.err, "lorank: error: module 'base_model.model.model.layers.0.mlp.down_proj': base "
                   "tensor 'blk.0.ffn_down.weight' has shape [8, 32], the adapter's update is "
                   "[64, 172]\n");
  const fs::path kohya = shared_path("adapters/sd15-unet-kohyalike-r4/new.safetensors");
  r = run_lorank({"audit", kohya.string(), "--base", shared_path("models/stories260K").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("lorank: error: '" + kohya.string() +
                       "' is a kohya adapter: lorank has no mapping from kohya module names "
                       "(lora_unet_..., lora_te_...) to base tensor names, so it cannot be audited "
                       "against a base\n"),
            std::string::npos)
      << r.err;
}

TEST(BaseAudit, UntrainedModulePytorchBaseMlxAdapterAndNanInW) {
  TempDir dir;
  const fs::path stories = shared_path("models/stories260K/model.safetensors");
  const auto made = run_command({"/usr/bin/python3", kOracle, "make-edge", stories.string(), dir.path().string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const nlohmann::json j = audit_matches_oracle(dir, dir / "adapter", stories);
  ASSERT_EQ(j["modules"].size(), 2u);
  const nlohmann::json& untrained = j["modules"][1]["base"];
  EXPECT_EQ(untrained["directions"], 0);
  EXPECT_GT(untrained["weight_norm"].get<double>(), 0.0);
  EXPECT_EQ(untrained["relative_change"], 0.0);
  for (const char* k : {"projection_delta", "projection_w_top", "projection_random", "amplification"}) {
    EXPECT_TRUE(untrained[k].is_null()) << k;
  }
  EXPECT_EQ(j["base"]["compared"], 1);
  const nlohmann::json bin = audit_matches_oracle(dir, dir / "adapter", dir / "base.bin");
  EXPECT_EQ(bin["base"]["format"], "pytorch");
  const nlohmann::json mlx = audit_matches_oracle(dir, dir / "mlx", stories);  // mlx_lm layout
  EXPECT_EQ(mlx["adapter"]["format"], "mlx");
  EXPECT_EQ(mlx["base"]["compared"], 1);
  const auto table = run_lorank({"audit", (dir / "adapter").string(), "--base", stories.string()});
  EXPECT_NE(table.out.find("(1 without directions)"), std::string::npos) << table.out;
  const auto r = run_lorank({"audit", (dir / "adapter").string(), "--base", (dir / "base-nan.safetensors").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "lorank: error: module 'base_model.model.model.layers.0.self_attn.q_proj': base "
                   "tensor 'model.layers.0.self_attn.q_proj.weight' holds NaN or Inf\n");
}

TEST(BaseAudit, UsageErrors) {
  const std::string peft = shared_path("models/stories260K-lora-r8").string();
  auto r = run_lorank({"audit", peft, "--base-seed", "3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "lorank: error: --base-seed is for --base BASE\n");
  r = run_lorank({"audit", peft, "--w-svd", "dense"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "lorank: error: --w-svd is for --base BASE\n");
  r = run_lorank({"audit", peft, "--base", shared_path("models/stories260K").string(), "--w-svd", "fast"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "lorank: error: --w-svd must be auto, dense or krylov, got 'fast'\n");
  r = run_lorank({"audit", peft, "--base", ""});
  EXPECT_EQ(r.exit_code, 2);
  r = run_lorank({"audit", peft, "--base", "/nonexistent-base"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "lorank: error: checkpoint '/nonexistent-base': no such file or folder\n");
}

}  // namespace
}  // namespace lorank
