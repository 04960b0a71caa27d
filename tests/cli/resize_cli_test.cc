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
