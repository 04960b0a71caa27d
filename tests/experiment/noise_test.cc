#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lorank/experiment.h"
#include "lorank/experiment_report.h"

namespace lorank {
namespace {

NoiseParams small() {
  NoiseParams p;
  p.dim = 32;
  p.true_rank = 3;
  p.ranks = {3, 12};
  p.steps = 6000;
  p.record_every = 1000;
  p.lr = 0.02;
  p.noise = 0.03;
  return p;
}

TEST(NoiseExperiment, ExtraRankFitsTheNoiseNotTheSignal) {
  Result<NoiseResult> r = run_noise(small());
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->runs.size(), 2u);
  const NoiseRun& k = r->runs[0];
  const NoiseRun& big = r->runs[1];
  ASSERT_EQ(k.trace.size(), 6u);
  ASSERT_EQ(big.trace.back().step, 6000);
  EXPECT_TRUE(k.trace.back().trailing.empty());
  EXPECT_EQ(big.trace.back().trailing.size(), 9u);
  // More rank: lower training error, higher held-out error, farther from the true signal.
  EXPECT_LT(big.trace.back().train_err, k.trace.back().train_err);
  EXPECT_GT(big.trace.back().held_out_err, k.trace.back().held_out_err);
  EXPECT_GT(big.trace.back().signal_err, k.trace.back().signal_err);
  // The extra directions sit at the noise floor's scale instead of vanishing.
  EXPECT_GT(big.trace.back().trailing.front(), 0.5 * r->noise_floor.front());
  EXPECT_LT(big.trace.back().trailing.front(), 1.05 * r->noise_floor.front());
}

TEST(NoiseExperiment, JsonAndTable) {
  NoiseParams p = small();
  p.steps = 1000;
  Result<NoiseResult> r = run_noise(p);
  ASSERT_TRUE(r);
  const nlohmann::json j = nlohmann::json::parse(noise_json(*r));
  EXPECT_EQ(j["runs"][1]["trace"][0]["trailing"].size(), 9u);
  EXPECT_NE(noise_table(*r).find("held-out"), std::string::npos);
}

TEST(NoiseExperiment, Validation) {
  NoiseParams p = small();
  p.record_every = 0;
  EXPECT_NE(validate(p).message().find("--record-every"), std::string::npos);
  p = small();
  p.ranks = {40};
  EXPECT_NE(validate(p).message().find("--ranks"), std::string::npos);
}

}  // namespace
}  // namespace lorank
