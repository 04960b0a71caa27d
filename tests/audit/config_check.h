// Re-applies PEFT's pattern matching (match_peft_pattern) to a suggested config and checks
// that every module gets its config rank and exactly its current scale.
#ifndef LORANK_TESTS_AUDIT_CONFIG_CHECK_H_
#define LORANK_TESTS_AUDIT_CONFIG_CHECK_H_

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/audit.h"
#include "lorank/module_names.h"

namespace lorank::testing {

inline std::vector<std::pair<std::string, double>> pattern_of(const nlohmann::ordered_json& j) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [key, value] : j.items()) out.emplace_back(key, value.get<double>());
  return out;
}

inline void expect_config_preserves_scales(const AuditReport& report) {
  const nlohmann::ordered_json config = nlohmann::ordered_json::parse(report.suggested_config);
  ASSERT_TRUE(config.is_object());
  const double r = config["r"].get<double>();
  const double alpha = config["lora_alpha"].get<double>();
  const bool rslora = config["use_rslora"].get<bool>();
  const auto ranks = pattern_of(config["rank_pattern"]);
  const auto alphas = pattern_of(config["alpha_pattern"]);
  for (const auto& p : ranks) EXPECT_EQ(p.first.front(), '^') << p.first;
  for (const auto& p : alphas) EXPECT_EQ(p.first.front(), '^') << p.first;
  for (const AuditModule& m : report.modules) {
    if (m.config_rank == 0) continue;
    const std::string path = base_relative_name(m.name);
    Result<std::optional<double>> rk = match_peft_pattern(ranks, path);
    Result<std::optional<double>> al = match_peft_pattern(alphas, path);
    ASSERT_TRUE(rk && al) << path;
    const double k = rk->value_or(r);
    const double a = al->value_or(alpha);
    EXPECT_EQ(k, m.config_rank) << path;
    const double scale = rslora ? a / std::sqrt(k) : a / k;
    EXPECT_NEAR(scale, m.scale, 1e-12 * std::abs(m.scale)) << path;
  }
}

}  // namespace lorank::testing

#endif  // LORANK_TESTS_AUDIT_CONFIG_CHECK_H_
