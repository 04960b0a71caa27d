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

}  // namespace
}  // namespace lorank
