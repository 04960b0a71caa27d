// Exit codes that mean one thing (docs/cli.md, "Exit codes"): 0 success, 1 bad data or a
// failed operation, 2 usage, 3 internal error (tests/cli/commands_test.cc); numbers on the
// command line are decimal only; options that would do nothing say so.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
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

constexpr const char* kExitCodesFooter =
    "Exit codes: 0 success; 1 bad data or a failed operation; 2 usage error (bad command line); "
    "3 internal error (a bug in lorank; please report it).";
// A new folder `dir`, for AdapterBuilder::write.
fs::path folder(const fs::path& dir) {
  fs::create_directories(dir);
  return dir;
}

constexpr const char* kPeftConfig =
    R"({"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj"]})";

TEST(ExitCodesCli, EveryHelpDocumentsTheExitCodes) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"demo", "--help"}, {"audit", "--help"}, {"compare", "--help"},
           {"resize", "--help"}, {"experiment", "--help"}, {"experiment", "sweep", "--help"},
           {"experiment", "noise", "--help"}, {"experiment", "scaling", "--help"},
           {"experiment", "similarity", "--help"}}) {
    const auto r = run_lorank(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.out.find(kExitCodesFooter), std::string::npos) << args[0] << "\n" << r.out;
  }
}

TEST(ExitCodesCli, UsageIsTwo) {
  // A flag the parser rejects, and an option the library rejects (kInvalidArgument).
  auto r = run_lorank({"audit", "x", "--tau", "0x1p-3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "lorank: error: --tau: expected a decimal number (like 0.5 or 1e-3), got "
                   "'0x1p-3' (try 'lorank audit --help')\n");
  r = run_lorank({"audit", shared_path("adapters/distilbert-imdb-r8").string(), "--alpha", "-1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "lorank: error: --alpha must be a positive finite number, got -1\n");
  EXPECT_EQ(r.out, "");
}

TEST(ExitCodesCli, BadDataIsOne) {
  // Two adapters whose module q_proj differs in shape: the data disagree, the command line
  // is fine (compare used to patch this by hand).
  lorank::testing::TempDir tmp;
  const std::string name = "base_model.model.layers.0.q_proj";
  AdapterBuilder().peft_pair(name, 4, 2, 3).config(kPeftConfig).write(folder(tmp / "a"));
  AdapterBuilder().peft_pair(name, 5, 2, 3).config(kPeftConfig).write(folder(tmp / "b"));
  auto r = run_lorank({"compare", (tmp / "a").string(), (tmp / "b").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "lorank: error: module '" + name + "': the updates differ in shape (linear 4x3 "
                   "in A, linear 5x3 in B); are the adapters for the same base model?\n");
  EXPECT_EQ(r.out, "");
  // A DoRA magnitude of the wrong length (also in tests/data/malformed).
  AdapterBuilder()
      .peft_pair(name, 4, 2, 3)
      .add(name + ".lora_magnitude_vector", {3})
      .config(kPeftConfig)
      .write(folder(tmp / "dora"));
  r = run_lorank({"audit", (tmp / "dora").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "lorank: error: adapter file '" + (tmp / "dora" / "adapter_model.safetensors").string() +
                       "': module '" + name + "': DoRA magnitude '" + name +
                       ".lora_magnitude_vector' has 3 elements, expected 4 (the module's out features)\n");
}

// One flag of each command and each kind: hex, octal-looking, exponent-less junk, inf/nan.
TEST(ExitCodesCli, NumbersAreDecimalOnly) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const std::string integer = "expected a whole number in decimal, got ";
  const std::string uinteger = "expected a whole number >= 0 in decimal, got ";
  const std::string number = "expected a decimal number (like 0.5 or 1e-3), got ";
  const std::vector<Case> cases = {
      {{"demo", "--dim", "0x10"}, "--dim: " + integer + "'0x10' (try 'lorank demo --help')"},
      {{"demo", "--seed", "-1"}, "--seed: " + uinteger + "'-1' (try 'lorank demo --help')"},
      {{"demo", "--lr", "inf"}, "--lr: " + number + "'inf' (try 'lorank demo --help')"},
      {{"experiment", "sweep", "--steps", "0b11"},
       "--steps: " + integer + "'0b11' (try 'lorank experiment --help')"},
      {{"experiment", "noise", "--record-every", "1e2"},
       "--record-every: " + integer + "'1e2' (try 'lorank experiment --help')"},
      {{"experiment", "scaling", "--adam-lrs", "0.01,0x1p-3"},
       "--adam-lrs: " + number + "'0x1p-3' (try 'lorank experiment --help')"},
      {{"experiment", "similarity", "--factor", "0x2"},
       "--factor: " + integer + "'0x2' (try 'lorank experiment --help')"},
      {{"audit", "x", "--threads", "-1"}, "--threads: " + uinteger + "'-1' (try 'lorank audit --help')"},
      {{"audit", "x", "--alpha", "nan"}, "--alpha: " + number + "'nan' (try 'lorank audit --help')"},
      {{"compare", "x", "y", "--k", "0x10"}, "--k: " + uinteger + "'0x10' (try 'lorank compare --help')"},
      {{"resize", "x", "--dry-run", "--rank", "0x10"},
       "--rank: " + integer + "'0x10' (try 'lorank resize --help')"},
      {{"resize", "x", "--dry-run", "--energy", "NaN"},
       "--energy: " + number + "'NaN' (try 'lorank resize --help')"},
  };
  for (const Case& c : cases) {
    const auto r = run_lorank(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << " " << c.args[1];
    EXPECT_EQ(r.err, "lorank: error: " + c.err + "\n");
    EXPECT_EQ(r.out, "");
  }
  // A leading zero is decimal, not octal: 010 is ten.
  const auto r = run_lorank({"demo", "--json", "--dim", "010", "--true-rank", "2", "--ranks", "2",
                             "--steps", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["params"]["dim"], 10);
}

// Modules of rank 2, 4 and 8 (out, in above the rank).
fs::path three_ranks(const fs::path& dir) {
  return AdapterBuilder()
      .peft_pair("base_model.model.layers.0.q_proj", 4, 2, 3)
      .peft_pair("base_model.model.layers.1.q_proj", 6, 4, 5)
      .peft_pair("base_model.model.layers.2.q_proj", 10, 8, 9)
      .config(R"({"peft_type": "LORA", "r": 8, "lora_alpha": 8, "target_modules": ["q_proj"],
                  "rank_pattern": {"layers.0.q_proj": 2, "layers.1.q_proj": 4}})")
      .write(folder(dir));
}

TEST(ExitCodesCli, ResizeThatCopiesEveryModuleIsRefused) {
  lorank::testing::TempDir tmp;
  const std::string in = shared_path("adapters/distilbert-imdb-r8").string();
  for (const char* rank : {"100", "8"}) {
    const auto r = run_lorank({"resize", in, "-o", (tmp / "out").string(), "--rank", rank});
    EXPECT_EQ(r.exit_code, 2) << rank;
    EXPECT_EQ(r.err, std::string("lorank: error: nothing to resize: under fixed:") + rank +
                         " every module of '" + in + "' keeps its rank, so the output would be a "
                         "full-rank copy; choose a smaller rank (or a --dtype to convert to)\n");
  }
  three_ranks(tmp / "three");
  // --rank 3 with --snap pow2: 2 stays 2 (above its rank), 3 rounds up to 4 = the old rank of
  // the second module, and to 4 < 8 in the third; with --rank 7, 8 everywhere.
  auto r = run_lorank({"resize", (tmp / "three").string(), "--dry-run", "--rank", "7", "--snap", "pow2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "lorank: error: nothing to resize: under fixed:7 with --snap pow2 every module of '" +
                       (tmp / "three").string() + "' keeps its rank, so the output would be a "
                       "full-rank copy; choose a smaller rank (or a --dtype to convert to)\n");
  EXPECT_EQ(tmp.entries(), (std::set<std::string>{"three"}));  // nothing written
  // Keeping every rank while changing the dtype is a conversion, not a no-op.
  r = run_lorank({"resize", in, "-o", (tmp / "f16").string(), "--rank", "8", "--dtype", "F16"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(tmp / "f16" / "adapter_model.safetensors"));
}

TEST(ExitCodesCli, ResizeWarnsOncePerSituation) {
  lorank::testing::TempDir tmp;
  three_ranks(tmp / "three");
  auto r = run_lorank({"resize", (tmp / "three").string(), "--dry-run", "--json", "--rank", "3",
                       "--snap", "pow2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err,
            "lorank: warning: rank rule fixed:3 asks for more than the rank of 1 of 3 module(s): "
            "they keep their rank (a full-rank copy)\n"
            "lorank: warning: --snap pow2 rounded the new rank of 1 of 3 module(s) up to their "
            "old rank (a full-rank copy)\n"
            "lorank: dry run: nothing written\n");
  std::vector<int> ranks;
  const nlohmann::json report = nlohmann::json::parse(r.out);  // outlives the loop
  for (const auto& m : report["modules"]) ranks.push_back(m["new_rank"].get<int>());
  EXPECT_EQ(ranks, (std::vector<int>{2, 4, 4}));
  r = run_lorank({"resize", (tmp / "three").string(), "--dry-run", "--rank", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "lorank: dry run: nothing written\n");  // 2 is the first module's rank: no cap
}

TEST(ExitCodesCli, AlphaOverriddenByTheFileIsAWarning) {
  const std::string peft = shared_path("adapters/distilbert-imdb-r8").string();
  const auto plain = run_lorank({"audit", peft, "--json"});
  const auto r = run_lorank({"audit", peft, "--json", "--alpha", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // One line for the situation (not one per module), with the count.
  EXPECT_EQ(r.err.rfind("lorank: warning: --alpha 4 ignored for 12 of 12 modules: the adapter has "
                        "its own alpha (lora_alpha in adapter_config.json)\nlorank: warning: ", 0), 0u)
      << r.err;
  EXPECT_EQ(r.err.find("--alpha", 20), std::string::npos) << r.err;
  ASSERT_EQ(plain.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out)["modules"][0]["scale"],
            nlohmann::json::parse(plain.out)["modules"][0]["scale"]);
  const auto resize = run_lorank({"resize", peft, "--dry-run", "--rank", "2", "--alpha", "4"});
  ASSERT_EQ(resize.exit_code, 0) << resize.err;
  EXPECT_EQ(resize.err.rfind("lorank: warning: --alpha 4 ignored for 12 of 12 modules", 0), 0u)
      << resize.err;
  // kohya: only the module without an .alpha tensor takes --alpha.
  lorank::testing::TempDir tmp;
  const fs::path kohya = AdapterBuilder()
                             .add("lora_unet_x.lora_down.weight", {2, 3})
                             .add("lora_unet_x.lora_up.weight", {4, 2})
                             .add("lora_unet_x.alpha", {}, {1.0})
                             .add("lora_unet_y.lora_down.weight", {2, 3})
                             .add("lora_unet_y.lora_up.weight", {4, 2})
                             .write(tmp.path(), "k.safetensors");
  const auto k = run_lorank({"audit", kohya.string(), "--alpha", "2"});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  EXPECT_EQ(k.err.rfind("lorank: warning: some modules have no .alpha tensor (or alpha 0): using --alpha\n"
                        "lorank: warning: --alpha 2 ignored for 1 of 2 modules: the adapter has its own "
                        "alpha (.alpha tensors)\n", 0), 0u) << k.err;
}

}  // namespace
}  // namespace lorank
