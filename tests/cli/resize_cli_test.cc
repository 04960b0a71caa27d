// End-to-end `lorank resize`: writes a verified, smaller adapter in the input's format and
// refuses to touch its input or an existing output.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/run_command.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using lorank::testing::run_lorank;
using lorank::testing::shared_path;

TEST(ResizeCli, PeftAndKohyaRoundTripThroughAudit) {
  lorank::testing::TempDir tmp;
  const std::string peft = shared_path("adapters/opt125m-bf16-r16").string();
  const auto r = run_lorank({"resize", peft, "-o", (tmp / "out").string(), "--energy", "0.9", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_LT(j["totals"]["params_after"].get<double>(), j["totals"]["params_before"].get<double>());
  // The output re-opens (its config's patterns match its tensors) and audits cleanly.
  const auto a = run_lorank({"audit", (tmp / "out").string(), "--json"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const nlohmann::json audit = nlohmann::json::parse(a.out);
  ASSERT_EQ(audit["modules"].size(), j["modules"].size());
  for (std::size_t i = 0; i < j["modules"].size(); ++i) {
    EXPECT_EQ(audit["modules"][i]["rank"], j["modules"][i]["new_rank"]);
    EXPECT_DOUBLE_EQ(audit["modules"][i]["scale"].get<double>(), j["modules"][i]["new_scale"].get<double>());
  }
  const std::string kohya = shared_path("adapters/sd15-unet-kohyalike-r4/new.safetensors").string();
  const auto k = run_lorank({"resize", kohya, "-o", (tmp / "k.safetensors").string(), "--rank", "2"});
  EXPECT_EQ(k.exit_code, 0) << k.err;
  EXPECT_TRUE(std::filesystem::exists(tmp / "k.safetensors"));
  // Warnings are in the JSON too, not only on stderr: --rank 32 is above every rank 16.
  const auto w = run_lorank({"resize", peft, "-o", (tmp / "w").string(), "--rank", "32", "--dtype", "F32", "--json"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  const nlohmann::json warned = nlohmann::json::parse(w.out);
  ASSERT_EQ(warned["warnings"].size(), 1u) << w.out;
  EXPECT_NE(w.err.find(warned["warnings"][0].get<std::string>()), std::string::npos) << w.err;
}

TEST(ResizeCli, RefusalsAndDryRun) {
  lorank::testing::TempDir tmp;
  const std::string in = shared_path("adapters/distilbert-imdb-r8").string();
  auto r = run_lorank({"resize", in, "-o", in, "--rank", "2"});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // never the input
  EXPECT_NE(r.err.find("refusing to write over the input"), std::string::npos) << r.err;
  std::filesystem::create_directory(tmp / "exists");
  r = run_lorank({"resize", in, "-o", (tmp / "exists").string(), "--rank", "2"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_lorank({"resize", in, "-o", (tmp / "o").string(), "--rank", "2", "--energy", "0.9"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_lorank({"resize", in, "--dry-run", "--rank", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("nothing written"), std::string::npos);
  EXPECT_EQ(tmp.entries().size(), 1u);  // only "exists": nothing else was written
}

// --overwrite replaces outputs, never anything that holds the input: the input's own files,
// its folder, or an ancestor folder (which the atomic swap would delete); the same for
// `audit --html`.
TEST(ResizeCli, OverwriteNeverReachesTheInput) {
  lorank::testing::TempDir tmp;
  const std::filesystem::path in = tmp / "nested" / "adapter";
  std::filesystem::create_directories(in.parent_path());
  std::filesystem::copy(shared_path("adapters/distilbert-imdb-r8"), in);
  const auto before = tmp.entries();
  for (const std::filesystem::path& out : {tmp.path(), in.parent_path(), in, in / "adapter_config.json"}) {
    const auto r = run_lorank({"resize", in.string(), "-o", out.string(), "--rank", "2", "--overwrite"});
    EXPECT_EQ(r.exit_code, 2) << out << ": " << r.err;
    EXPECT_NE(r.err.find("refusing to write over the input"), std::string::npos) << r.err;
  }
  for (const char* file : {"adapter_config.json", "adapter_model.safetensors"}) {
    const auto a = run_lorank({"audit", in.string(), "--html", (in / file).string()});
    EXPECT_EQ(a.exit_code, 2) << a.err;
    EXPECT_NE(a.err.find("refusing to write over the input"), std::string::npos) << a.err;
  }
  EXPECT_TRUE(std::filesystem::exists(in / "adapter_model.safetensors"));
  EXPECT_EQ(tmp.entries(), before);
  const auto ok = run_lorank({"audit", in.string(), "--html", (in / "report.html").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;  // beside the input is fine
}

}  // namespace
}  // namespace lorank

namespace lorank {
namespace {

std::vector<int> new_ranks(const std::vector<std::string>& rule_flags) {
  std::vector<std::string> args{"resize", lorank::testing::shared_path("adapters/opt125m-bf16-r16").string(),
                                "--dry-run", "--json"};
  args.insert(args.end(), rule_flags.begin(), rule_flags.end());
  const auto r = lorank::testing::run_lorank(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<int> ranks;
  if (r.exit_code != 0) return ranks;
  const nlohmann::json report = nlohmann::json::parse(r.out);  // outlives the loop below
  for (const auto& m : report["modules"]) ranks.push_back(m["new_rank"].get<int>());
  return ranks;
}

// kohya's flag names are its rules; --snap rounds the chosen rank up, never above the old.
TEST(ResizeCli, KohyaFlagsAndSnap) {
  EXPECT_EQ(new_ranks({"--sv-fro", "0.9"}), new_ranks({"--rule", "kohya-fro:0.9"}));
  EXPECT_EQ(new_ranks({"--sv-ratio", "4"}), new_ranks({"--rule", "kohya-ratio:4"}));
  EXPECT_EQ(new_ranks({"--sv-cumulative", "0.8"}), new_ranks({"--rule", "kohya-cumulative:0.8"}));
  const std::vector<int> plain = new_ranks({"--energy", "0.9"});
  const std::vector<int> snapped = new_ranks({"--energy", "0.9", "--snap", "pow2"});
  ASSERT_EQ(plain.size(), snapped.size());
  ASSERT_EQ(plain.size(), 24u);
  bool changed = false;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    EXPECT_GE(snapped[i], plain[i]);
    EXPECT_LE(snapped[i], 16);
    EXPECT_EQ(snapped[i] & (snapped[i] - 1), 0) << snapped[i];
    changed |= snapped[i] != plain[i];
  }
  EXPECT_TRUE(changed);
  const auto bad = lorank::testing::run_lorank({"resize", "x", "--dry-run", "--rank", "2", "--snap", "odd"});
  EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace
}  // namespace lorank

namespace lorank {
namespace {

// The audit's closing suggestion is a working resize command that gives exactly the
// audit's recommended ranks (untrained modules: rank 1 zero modules).
TEST(ResizeCli, AuditSuggestsTheMatchingResize) {
  lorank::testing::TempDir tmp;
  const std::filesystem::path in = tmp / "my adapter";  // a space: the command is quoted
  std::filesystem::copy(lorank::testing::shared_path("adapters/sd15-unet-peft-r4"), in);
  const auto text = lorank::testing::run_lorank({"audit", in.string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  const std::string marker = "  lorank resize ";
  const std::size_t at = text.out.rfind(marker);
  ASSERT_NE(at, std::string::npos) << text.out.substr(text.out.size() - 300);
  const std::string command = text.out.substr(at + 2, text.out.find('\n', at) - at - 2);
  // Run it through the shell, as a user pasting it would, with --json for the ranks.
  const auto resized = lorank::testing::run_command(
      {"/bin/sh", "-c", "PATH=\"$1:$PATH\" " + command + " --json", "sh",
       std::filesystem::path(LORANK_CLI_PATH).parent_path().string()});
  ASSERT_EQ(resized.exit_code, 0) << command << "\n" << resized.err;
  EXPECT_TRUE(std::filesystem::exists(tmp / "my adapter-resized" / "adapter_config.json"));
  const auto audit = lorank::testing::run_lorank({"audit", in.string(), "--json"});
  ASSERT_EQ(audit.exit_code, 0);
  const nlohmann::json a = nlohmann::json::parse(audit.out), r = nlohmann::json::parse(resized.out);
  ASSERT_EQ(a["modules"].size(), r["modules"].size());
  for (std::size_t i = 0; i < a["modules"].size(); ++i) {
    const int want = a["modules"][i]["recommended_rank"].get<int>();
    EXPECT_EQ(r["modules"][i]["new_rank"].get<int>(), std::max(want, 1)) << i;
  }
}

}  // namespace
}  // namespace lorank
