// suggested_config: r, lora_alpha, rank_pattern and alpha_pattern preserve every module's
// scale under PEFT's own matching; fields carried from the original config.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/config_check.h"
#include "lorank/adapter.h"
#include "lorank/audit.h"
#include "support/adapter_builder.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using testing::AdapterBuilder;

// A PEFT pair whose update B·A has singular values d (times the module's scale):
// A = [I_r | 0] (r×in), B = [diag(d); 0] (out×r).
void diagonal_pair(AdapterBuilder& b, const std::string& prefix, std::size_t out, std::size_t in,
                   const std::vector<double>& d) {
  const std::size_t r = d.size();
  std::vector<double> a(r * in, 0.0), bb(out * r, 0.0);
  for (std::size_t i = 0; i < r; ++i) {
    a[i * in + i] = 1.0;
    bb[i * r + i] = d[i];
  }
  b.add(prefix + ".lora_A.weight", {static_cast<int64_t>(r), static_cast<int64_t>(in)}, a);
  b.add(prefix + ".lora_B.weight", {static_cast<int64_t>(out), static_cast<int64_t>(r)}, bb);
}

AuditReport audit(const std::filesystem::path& dir) {
  Result<Adapter> adapter = open_adapter(dir);
  EXPECT_TRUE(adapter) << adapter.error().message();
  Result<AuditReport> report = run_audit(*adapter, AuditOptions{});
  EXPECT_TRUE(report) << report.error().message();
  return *report;
}

const std::string kPrefix = "base_model.model.model.layers.";

std::filesystem::path write_four_modules(const testing::TempDir& dir, const std::string& config) {
  AdapterBuilder b;
  diagonal_pair(b, kPrefix + "0.self_attn.q_proj", 16, 16, {1, 0.5, 0.3, 1e-4});    // 3
  diagonal_pair(b, kPrefix + "0.self_attn.v_proj", 16, 16, {1, 0.5, 0.3, 1e-4});    // 3
  diagonal_pair(b, kPrefix + "1.self_attn.q_proj", 16, 16, {1, 1e-4, 1e-4, 1e-4});  // 1
  diagonal_pair(b, kPrefix + "1.self_attn.v_proj", 16, 16, {0, 0, 0, 0});           // untrained
  b.add("base_model.model.score.weight", {2, 16});
  b.config(config);
  b.write(dir.path());
  return dir.path();
}

TEST(SuggestedConfig, PreservesScalesAndCarriesFields) {
  testing::TempDir dir;
  const AuditReport report = audit(write_four_modules(
      dir, R"({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 4, "lora_alpha": 16,
              "target_modules": ["q_proj", "v_proj"], "modules_to_save": ["score"],
              "inference_mode": true, "use_dora": false, "lora_dropout": 0.05})"));
  ASSERT_EQ(report.modules.size(), 4u);
  EXPECT_EQ(report.modules[0].recommended_rank, 3);
  EXPECT_EQ(report.modules[2].recommended_rank, 1);
  EXPECT_EQ(report.modules[3].recommended_rank, 0);
  EXPECT_EQ(report.modules[3].config_rank, 1);
  testing::expect_config_preserves_scales(report);

  const nlohmann::json c = nlohmann::json::parse(report.suggested_config);
  EXPECT_EQ(c["r"], 3);
  EXPECT_DOUBLE_EQ(c["lora_alpha"].get<double>(), 12.0);  // scale 16/4 = 4 kept at r = 3
  EXPECT_EQ(c["task_type"], "CAUSAL_LM");
  EXPECT_EQ(c["peft_type"], "LORA");
  EXPECT_EQ(c["target_modules"], nlohmann::json({"q_proj", "v_proj"}));
  EXPECT_EQ(c["modules_to_save"], nlohmann::json({"score"}));
  EXPECT_EQ(c["lora_dropout"], 0.05);
  EXPECT_EQ(c["inference_mode"], false);
  EXPECT_EQ(c["use_rslora"], false);
  const std::string key1 = R"(^model\.layers\.1\.self_attn\.q_proj)";
  EXPECT_EQ(c["rank_pattern"],
            nlohmann::json({{key1, 1}, {R"(^model\.layers\.1\.self_attn\.v_proj)", 1}}));
  EXPECT_EQ(c["alpha_pattern"][key1], 4.0);
  // The untrained module is announced.
  bool noted = false;
  for (const std::string& w : report.warnings) noted |= w.find("untrained") != std::string::npos;
  EXPECT_TRUE(noted);
  EXPECT_EQ(report.summary.untrained, 1u);
  EXPECT_EQ(report.summary.lora_params, 4u * 4 * 32);
  EXPECT_EQ(report.summary.recommended_params, (3u + 3 + 1) * 32);
  EXPECT_EQ(report.summary.passthrough_params, 32u);
  EXPECT_EQ(report.summary.lora_bytes, 4u * 4 * 32 * 4);
  EXPECT_EQ(report.summary.recommended_bytes, report.summary.file_bytes - (16u - 7) * 32 * 4);
}

TEST(SuggestedConfig, RsloraAndExistingAlphaPattern) {
  testing::TempDir dir;
  const AuditReport report =
      audit(write_four_modules(dir, R"({"r": 4, "lora_alpha": 8, "use_rslora": true,
              "alpha_pattern": {"layers.0.self_attn.v_proj": 2}})"));
  EXPECT_DOUBLE_EQ(report.modules[0].scale, 4.0);  // 8/√4
  EXPECT_DOUBLE_EQ(report.modules[1].scale, 1.0);  // 2/√4
  testing::expect_config_preserves_scales(report);
  const nlohmann::json c = nlohmann::json::parse(report.suggested_config);
  EXPECT_EQ(c["use_rslora"], true);
  EXPECT_EQ(c["r"], 3);
}

TEST(SuggestedConfig, RegexEscape) {
  EXPECT_EQ(regex_escape("a.b_c-d"), R"(a\.b_c-d)");
  EXPECT_EQ(regex_escape("x[0](y)+*?^$|{}\\"), R"(x\[0\]\(y\)\+\*\?\^\$\|\{\}\\)");
  // An escaped, anchored full name matches that module only, under PEFT's rule.
  std::string key = "^";
  key += regex_escape("a.q");
  const std::vector<std::pair<std::string, double>> p = {{key, 1.0}};
  EXPECT_TRUE(match_peft_pattern(p, "a.q")->has_value());
  EXPECT_FALSE(match_peft_pattern(p, "x.a.q")->has_value());
  EXPECT_FALSE(match_peft_pattern(p, "aXq")->has_value());
}

}  // namespace
}  // namespace lorank
