// The default rule recovers the planted rank of every module of synthetic adapters written by
// ../shared/bench/make_adapter.py: K strong singular values in [0.3, 1]·σ₁ and r−K below
// 1e-3·σ₁, for several K, r and storage dtypes. Needs /usr/bin/python3 with NumPy; fails
// (never skips) without them.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/config_check.h"
#include "lorank/adapter.h"
#include "lorank/audit.h"
#include "support/run_command.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

struct Planted {
  int k;
  int r;
  std::string dtype;
  int seed;
};

class PlantedRank : public ::testing::TestWithParam<Planted> {};

TEST_P(PlantedRank, DefaultRuleRecoversItInEveryModule) {
  const Planted p = GetParam();
  testing::TempDir dir;
  const testing::CommandOutput made =
      testing::run_command({"/usr/bin/python3",
                            testing::shared_path("bench/make_adapter.py").string(),
                            "--preset",
                            "tiny",
                            "--r",
                            std::to_string(p.r),
                            "--planted-rank",
                            std::to_string(p.k),
                            "--dtype",
                            p.dtype,
                            "--strong-min",
                            "0.3",
                            "--noise-floor",
                            "1e-3",
                            "--alpha",
                            std::to_string(2 * p.r),
                            "--seed",
                            std::to_string(p.seed),
                            "--out",
                            dir.path().string()});
  ASSERT_EQ(made.exit_code, 0) << "make_adapter.py failed (is /usr/bin/python3 with NumPy "
                                  "installed?):\n"
                               << made.err;
  const nlohmann::json truth =
      nlohmann::json::parse(testing::read_text_file(dir / "ground_truth.json"));
  std::map<std::string, int> planted;
  for (const auto& m : truth["modules"]) {
    planted[m["module"]] = m["planted_rank"];
    // The premise, on the values actually stored (after dtype rounding).
    const std::vector<double> sv = m["stored_sv_f64"];
    ASSERT_GE(sv[static_cast<std::size_t>(p.k) - 1], 0.29 * sv[0]) << m["module"];
    if (p.k < p.r) {
      ASSERT_LT(sv[static_cast<std::size_t>(p.k)], 1e-2 * sv[0]) << m["module"];
    }
  }

  Result<Adapter> adapter = open_adapter(dir.path());
  ASSERT_TRUE(adapter) << adapter.error().message();
  Result<AuditReport> report = run_audit(*adapter, AuditOptions{});
  ASSERT_TRUE(report) << report.error().message();
  ASSERT_EQ(report->modules.size(), planted.size());
  ASSERT_EQ(report->rule, "threshold:0.01");
  for (const AuditModule& m : report->modules) {
    ASSERT_TRUE(planted.count(m.name)) << m.name;
    EXPECT_EQ(m.recommended_rank, p.k) << m.name;
    EXPECT_EQ(m.metrics.threshold_rank, p.k) << m.name;
  }
  EXPECT_EQ(report->summary.recommended_rank_counts.at(p.k), planted.size());
  const nlohmann::json config = nlohmann::json::parse(report->suggested_config);
  EXPECT_EQ(config["r"], p.k);
  EXPECT_TRUE(config["rank_pattern"].empty());
  EXPECT_DOUBLE_EQ(config["lora_alpha"].get<double>(), 2.0 * p.k);  // scale 2 kept
  testing::expect_config_preserves_scales(*report);
}

INSTANTIATE_TEST_SUITE_P(MakeAdapter, PlantedRank,
                         ::testing::Values(Planted{1, 8, "F32", 0}, Planted{3, 8, "F16", 1},
                                           Planted{5, 16, "BF16", 2}, Planted{12, 16, "F32", 3},
                                           Planted{16, 16, "BF16", 4}, Planted{7, 32, "F16", 5},
                                           Planted{24, 64, "BF16", 6}, Planted{2, 4, "BF16", 7}),
                         [](const ::testing::TestParamInfo<Planted>& param_info) {
                           const Planted& q = param_info.param;
                           std::string name = "k";
                           name += std::to_string(q.k) + "_r" + std::to_string(q.r) + "_" + q.dtype;
                           return name;
                         });

}  // namespace
}  // namespace lorank
