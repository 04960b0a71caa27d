#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lorank/experiment.h"
#include "lorank/experiment_report.h"

namespace lorank {
namespace {

const ScalingRun& find(const ScalingResult& r, ScaleRule rule, Optimizer opt, double lr, int rank) {
  for (const ScalingRun& run : r.runs) {
    if (run.rule == rule && run.optimizer == opt && run.lr == lr && run.rank == rank) return run;
  }
  ADD_FAILURE() << "no such run";
  return r.runs.front();
}

double slowdown(const ScalingResult& r, ScaleRule rule, Optimizer opt, double lr) {
  const ScalingRun& a = find(r, rule, opt, lr, 4);
  const ScalingRun& b = find(r, rule, opt, lr, 64);
  EXPECT_GT(a.steps_to_fit, 0) << scale_rule_name(rule);
  EXPECT_GT(b.steps_to_fit, 0) << scale_rule_name(rule);
  return static_cast<double>(b.steps_to_fit) / a.steps_to_fit;
}

class Scaling : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ScalingParams p;
    p.ranks = {1, 4, 16, 64};
    p.adam_lrs = {1e-3};
    p.sgd_lrs = {0.1, 1.0};
    Result<ScalingResult> r = run_scaling(p);
    ASSERT_TRUE(r) << r.error().message();
    result_ = new ScalingResult(std::move(*r));
  }
  static void TearDownTestSuite() { delete result_; }
  static ScalingResult* result_;
};
ScalingResult* Scaling::result_ = nullptr;

TEST_F(Scaling, RsloraDegradesLessWithRankThanAlphaOverRUnderAdam) {
  EXPECT_LT(slowdown(*result_, ScaleRule::kRslora, Optimizer::kAdam, 1e-3),
            slowdown(*result_, ScaleRule::kStandard, Optimizer::kAdam, 1e-3));
}

TEST_F(Scaling, AlphaOverRSlowsLearningAsRankGrowsUnderSgd) {
  EXPECT_GT(slowdown(*result_, ScaleRule::kStandard, Optimizer::kGradientDescent, 1.0), 2.0);
  EXPECT_LT(slowdown(*result_, ScaleRule::kUnit, Optimizer::kGradientDescent, 1.0), 1.0);
}

TEST_F(Scaling, DivergenceOnlyWhereLrTimesScaleIsLarge) {
  int diverged = 0;
  for (const ScalingRun& run : result_->runs) {
    if (!run.diverged) continue;
    ++diverged;
    EXPECT_GE(run.lr * run.scale * run.scale, 32.0) << scale_rule_name(run.rule) << " r=" << run.rank;
  }
  EXPECT_GT(diverged, 0);  // the "higher lr·s destabilised training" regime is reached
  EXPECT_FALSE(find(*result_, ScaleRule::kStandard, Optimizer::kGradientDescent, 1.0, 64).diverged);
  EXPECT_TRUE(find(*result_, ScaleRule::kStandard, Optimizer::kGradientDescent, 1.0, 1).diverged);
}

TEST_F(Scaling, UnderAllocatedRanksCannotReachTheNoiseFloor) {
  const ScalingRun& r1 = find(*result_, ScaleRule::kUnit, Optimizer::kAdam, 1e-3, 1);
  EXPECT_LT(r1.steps_to_fit, 0);
  EXPECT_GT(r1.final_loss, 10 * result_->noise_loss);
}

TEST_F(Scaling, JsonRunsHaveTheDocumentedFields) {
  const nlohmann::json j = nlohmann::json::parse(scaling_json(*result_));
  ASSERT_FALSE(j["runs"].empty());
  for (const char* key : {"rule", "optimizer", "rank", "lr", "final_loss", "test_loss", "curve"}) {
    EXPECT_TRUE(j["runs"][0].contains(key)) << key;
  }
  EXPECT_NE(scaling_table(*result_).find("Reading"), std::string::npos);
}

TEST(ScalingValidation, NamesTheFlag) {
  ScalingParams p;
  p.ranks = {0};
  EXPECT_NE(validate(p).message().find("--ranks"), std::string::npos);
  p = ScalingParams();
  p.alpha = -1;
  EXPECT_NE(validate(p).message().find("--alpha"), std::string::npos);
}

}  // namespace
}  // namespace lorank
