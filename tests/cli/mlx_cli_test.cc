// `lorank audit` and `lorank resize` on mlx_lm adapters: the real discollama folder and its
// weights file, module names in natural order, the exact one-line errors of hostile files,
// and a resize whose modules end at different ranks (verified, re-audited).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/adapter_builder.h"
#include "support/run_command.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using lorank::testing::AdapterBuilder;
using lorank::testing::run_lorank;
using lorank::testing::shared_path;
using lorank::testing::TempDir;

const fs::path kMlxCorpus = fs::path(LORANK_SOURCE_DIR) / "tests" / "data" / "malformed";

// The module column of `lorank audit`'s table, in printed order.
std::vector<std::string> table_modules(const std::string& out) {
  std::vector<std::string> names;
  std::istringstream in(out);
  bool table = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("module ", 0) == 0) {
      table = true;
      continue;
    }
    if (table && line.empty()) break;
    if (table) names.push_back(line.substr(0, line.find(' ')));
  }
  return names;
}

TEST(MlxCli, AuditsTheFolderAndTheWeightsFile) {
  const fs::path dir = shared_path("models/mlx-discollama-r8");
  for (const fs::path& path : {dir, dir / "adapters.safetensors"}) {
    SCOPED_TRACE(path.string());
    const auto r = run_lorank({"audit", path.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
              (dir / "adapters.safetensors").string() + " (mlx, safetensors) — rule threshold:0.01");
    EXPECT_EQ(table_modules(r.out),
              (std::vector<std::string>{"layers.30.self_attn.q_proj", "layers.30.self_attn.v_proj",
                                        "layers.31.self_attn.q_proj", "layers.31.self_attn.v_proj"}));
    EXPECT_NE(r.err.find("lorank: warning: lora_parameters.alpha 16 ignored: mlx_lm applies scale 2 "
                         "as is since 0.14.2 (June 2024); older versions applied "
                         "scale*alpha/rank = 4\n"),
              std::string::npos)
        << r.err;
  }
  const auto j = run_lorank({"audit", dir.string(), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const nlohmann::json report = nlohmann::json::parse(j.out);
  EXPECT_EQ(report["adapter"]["format"], "mlx");
  EXPECT_EQ(report["adapter"]["config"], (dir / "adapter_config.json").string());
  ASSERT_EQ(report["modules"].size(), 4u);
  for (const nlohmann::json& m : report["modules"]) {
    EXPECT_EQ(m["scale"], 2.0) << m.dump();
    EXPECT_EQ(m["rank"], 8) << m.dump();
  }
}

TEST(MlxCli, ModuleNamesInNaturalOrder) {
  TempDir tmp;
  AdapterBuilder b;
  for (int layer : {10, 2, 1}) {  // file order and string order both differ from natural order
    const std::string name = "model.layers." + std::to_string(layer) + ".self_attn.q_proj";
    b.add(name + ".lora_a", {8, 2}).add(name + ".lora_b", {2, 6});
  }
  b.config(R"({"lora_parameters": {"rank": 2, "scale": 1.0}})").write(tmp.path(), "adapters.safetensors");
  const auto r = run_lorank({"audit", tmp.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(table_modules(r.out),
            (std::vector<std::string>{"layers.1.self_attn.q_proj", "layers.2.self_attn.q_proj",
                                      "layers.10.self_attn.q_proj"}));
}

TEST(MlxCli, HostileFilesGiveTheExactOneLineError) {
  struct Case {
    std::string name, message;
  };
  const std::vector<Case> cases = {
      {"mlx-lora-a-without-lora-b.safetensors",
       "adapter file '{}': A factor 'model.layers.0.q_proj.lora_a' has no matching B factor"},
      {"mlx-rank-disagreement.safetensors",
       "adapter file '{}': module 'model.layers.0.q_proj': rank disagreement: lora_a has 2 columns "
       "but lora_b has 3 rows (A 'model.layers.0.q_proj.lora_a' [3, 2], B "
       "'model.layers.0.q_proj.lora_b' [3, 4])"},
      {"mlx-config-rank-disagrees",
       "adapter config '{}/adapter_config.json': lora_parameters.rank is 8, but the largest module "
       "rank is 2 (lora_a 'model.layers.0.q_proj.lora_a' has shape [3, 2])"},
      {"mlx-config-rank-is-a-string",
       "adapter config '{}/adapter_config.json': lora_parameters.rank must be a positive integer, "
       "got \"two\""},
      {"mlx-config-scale-is-a-string",
       "adapter config '{}/adapter_config.json': lora_parameters.scale must be a finite number, "
       "got \"2.0\""},
      {"mlx-config-lora-parameters-is-a-list",
       "adapter config '{}/adapter_config.json': lora_parameters must be an object, got an array "
       "of 2 elements"},
  };
  TempDir tmp;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = (kMlxCorpus / c.name).string();
    std::string want = c.message;
    want.replace(want.find("{}"), 2, path);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"audit", path},
          std::vector<std::string>{"resize", path, "--rank", "1", "-o", (tmp / "out").string()}}) {
      const auto r = run_lorank(args);
      EXPECT_EQ(r.exit_code, 1) << args[0];
      EXPECT_EQ(r.out, "");
      EXPECT_EQ(r.err, "lorank: error: " + want + "\n") << args[0];
    }
    EXPECT_FALSE(fs::exists(tmp / "out"));
  }
}

TEST(MlxCli, ResizeToDifferentRanksIsVerifiedAndReadable) {
  TempDir tmp;
  fs::create_directory(tmp / "in");
  AdapterBuilder b;
  // Module 0: a rank-1 update (lora_b has one non-zero row); module 1: generic, rank > 1.
  b.add("model.layers.0.mlp.down_proj.lora_a", {5, 3}, {1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0, 5, 0, 0})
      .add("model.layers.0.mlp.down_proj.lora_b", {3, 4}, {1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0})
      .add("model.layers.1.mlp.down_proj.lora_a", {5, 3})
      .add("model.layers.1.mlp.down_proj.lora_b", {3, 4})
      .config(R"({"fine_tune_type": "lora", "num_layers": 2, "model": "/abs/path",
                  "lora_parameters": {"rank": 3, "scale": 4.0, "dropout": 0.0}})")
      .write(tmp / "in", "adapters.safetensors");
  const auto r = run_lorank({"resize", (tmp / "in").string(), "--energy", "0.9999", "-o",
                             (tmp / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(tmp.entries(), (std::set<std::string>{"in", "out"}));
  const auto a = run_lorank({"audit", (tmp / "out").string(), "--json"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const nlohmann::json report = nlohmann::json::parse(a.out);
  ASSERT_EQ(report["modules"].size(), 2u);
  const int rank0 = report["modules"][0]["rank"], rank1 = report["modules"][1]["rank"];
  EXPECT_EQ(rank0, 1);
  EXPECT_GT(rank1, 1);
  EXPECT_EQ(report["modules"][0]["scale"], 4.0);
  std::ifstream config(tmp / "out" / "adapter_config.json");
  const nlohmann::json c = nlohmann::json::parse(config);
  EXPECT_EQ(c["lora_parameters"]["rank"], rank1);  // the largest module rank
  EXPECT_EQ(c["model"], "/abs/path");
  // A training folder with checkpoints lorank did not write is never replaced.
  { std::ofstream(tmp / "out" / "0000100_adapters.safetensors") << "x"; }
  const auto again = run_lorank({"resize", (tmp / "in").string(), "--rank", "1", "-o",
                                 (tmp / "out").string(), "--overwrite"});
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_TRUE(fs::exists(tmp / "out" / "0000100_adapters.safetensors"));
}

}  // namespace
}  // namespace lorank
