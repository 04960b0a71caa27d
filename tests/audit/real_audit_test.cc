// run_audit on the 14 real adapters: sane ranks under every rule, untrained modules found,
// no NaN/Inf anywhere in the JSON, the suggested config preserving every scale.
// LORANK_PRINT_AUDIT_TABLE=1 prints the per-adapter distribution table of docs/metrics.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/config_check.h"
#include "lorank/adapter.h"
#include "lorank/audit.h"
#include "lorank/audit_report.h"
#include "support/shared_data.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kAdapters = {
    "distilbert-imdb-r8",     "distilbert-nestedcls-r8", "distilgpt2-fifofalse-r8",
    "distilgpt2-sft-r16",     "flant5base-medqa-r16",    "gemma3-270m-svg-r4",
    "gpt2-great-bin-r8",      "gpt2-seqcls-r8",          "opencalm1b-f16-r1",
    "opt125m-bf16-r16",       "qwen25-05b-r6",           "sd15-textenc-r8",
    "sd15-unet-kohyalike-r4", "sd15-unet-peft-r4"};

// Every number in the document is finite (nlohmann writes NaN/Inf as null; no field of the
// report is legitimately null except "config" and config fields copied from the adapter).
void expect_no_null_numbers(const nlohmann::json& j, const std::string& where) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "suggested_config" || k == "config") continue;
      EXPECT_FALSE(v.is_null()) << where << "." << k;
      expect_no_null_numbers(v, where + "." + k);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) expect_no_null_numbers(v, where + "[]");
  } else if (j.is_number_float()) {
    EXPECT_TRUE(std::isfinite(j.get<double>())) << where;
  }
}

std::string histogram(const std::map<int, std::size_t>& counts) {
  std::string s;
  for (const auto& [k, n] : counts) {
    if (!s.empty()) s += ", ";
    s += std::to_string(k) + "×" + std::to_string(n);
  }
  return s;
}

class RealAudit : public ::testing::TestWithParam<std::string> {};

TEST_P(RealAudit, SaneReportUnderEveryRule) {
  Result<Adapter> adapter = open_adapter(testing::shared_path("adapters/" + GetParam()));
  ASSERT_TRUE(adapter) << adapter.error().message();
  Result<AuditReport> report = run_audit(*adapter);
  ASSERT_TRUE(report) << report.error().message();
  const AuditReport& r = *report;

  std::size_t untrained = 0;
  for (const AuditModule& m : r.modules) {
    const int cap = static_cast<int>(std::min({m.rank, m.out, m.in}));
    EXPECT_LE(m.recommended_rank, cap) << m.name;
    EXPECT_EQ(m.recommended_rank == 0, m.metrics.untrained) << m.name;
    EXPECT_GE(m.recommended_rank, m.metrics.untrained ? 0 : 1) << m.name;
    EXPECT_EQ(m.singular_values.size(), static_cast<std::size_t>(cap)) << m.name;
    untrained += m.metrics.untrained;
  }
  EXPECT_EQ(r.summary.untrained, untrained);
  if (GetParam() == "sd15-unet-peft-r4") {
    EXPECT_EQ(untrained, 32u);
    for (const AuditModule& m : r.modules) {
      const bool cross_qk = m.module_type == "attn2.to_q" || m.module_type == "attn2.to_k";
      EXPECT_EQ(m.metrics.untrained, cross_qk) << m.name;
    }
  }
  if (GetParam() == "distilbert-nestedcls-r8") {
    EXPECT_EQ(untrained, 1u);
  }
  if (GetParam() == "opencalm1b-f16-r1") {
    for (const AuditModule& m : r.modules) EXPECT_EQ(m.recommended_rank, 1);
  }
  EXPECT_LE(r.summary.recommended_params, r.summary.lora_params);
  EXPECT_LE(r.summary.recommended_bytes, r.summary.file_bytes);
  EXPECT_GT(r.summary.file_bytes, 0u);

  testing::expect_config_preserves_scales(r);
  const nlohmann::json doc = nlohmann::json::parse(audit_json(r));
  expect_no_null_numbers(doc, "report");
  ASSERT_TRUE(doc["suggested_config"].is_object());
  EXPECT_EQ(doc["modules"].size(), r.modules.size());
  EXPECT_EQ(doc["rule"], "threshold:0.01");

  std::string row = "| `";
  row += GetParam() + "` | " + std::to_string(r.modules.size()) + " | ";
  for (const std::string spec : {"threshold:0.01", "energy:0.9", "energy:0.99", "kohya-fro:0.9",
                                 "kohya-ratio:4", "kohya-cumulative:0.9", "lycoris-ratio:0.1",
                                 "lycoris-quantile:0.9", "entropy", "gap", "fixed:4"}) {
    AuditOptions options;
    options.rule = *RankRule::parse(spec);
    for (Snap snap : {Snap::kNone, Snap::kVllm, Snap::kPow2}) {
      options.snap = snap;
      Result<AuditReport> other = run_audit(*adapter, options);
      ASSERT_TRUE(other) << spec;
      for (const AuditModule& m : other->modules) {
        EXPECT_LE(m.recommended_rank, static_cast<int>(std::min({m.rank, m.out, m.in}))) << spec;
        EXPECT_EQ(m.recommended_rank == 0, m.metrics.untrained) << spec << " " << m.name;
      }
      testing::expect_config_preserves_scales(*other);
      if (snap == Snap::kNone && (spec == "threshold:0.01" || spec == "energy:0.9" ||
                                  spec == "energy:0.99" || spec == "gap")) {
        row += histogram(other->summary.recommended_rank_counts) + " | ";
      }
    }
  }
  const nlohmann::json config = nlohmann::json::parse(r.suggested_config);
  row += std::to_string(config["r"].get<int>()) + " | " +
         std::to_string(100.0 * static_cast<double>(r.summary.recommended_params) /
                        static_cast<double>(r.summary.lora_params))
             .substr(0, 5) +
         "% |";
  if (std::getenv("LORANK_PRINT_AUDIT_TABLE")) std::cout << row << "\n";
}

INSTANTIATE_TEST_SUITE_P(Shared, RealAudit, ::testing::ValuesIn(kAdapters),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string s = param_info.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

TEST(RealAudit, InvalidTauIsAnError) {
  Result<Adapter> adapter = open_adapter(testing::shared_path("adapters/opencalm1b-f16-r1"));
  ASSERT_TRUE(adapter);
  AuditOptions options;
  options.tau = 0.0;
  Result<AuditReport> report = run_audit(*adapter, options);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lorank
