#include "lorank/experiment_html.h"

#include <gtest/gtest.h>

namespace lorank {
namespace {

void expect_page(const std::string& html) {
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  const auto nan_at = html.find("nan");
  EXPECT_EQ(nan_at, std::string::npos) << html.substr(nan_at == std::string::npos ? 0 : (nan_at > 40 ? nan_at - 40 : 0), 80);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);  // xmlns URIs are names, not fetches
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(ExperimentHtml, EveryExperimentRendersASelfContainedPage) {
  SweepParams sp;
  sp.dim = 16;
  sp.true_ranks = {2};
  sp.ranks = {1, 2, 4};
  sp.steps = 200;
  Result<SweepResult> sweep = run_sweep(sp);
  ASSERT_TRUE(sweep);
  expect_page(sweep_html(*sweep));

  NoiseParams np;
  np.dim = 16;
  np.true_rank = 2;
  np.ranks = {2, 6};
  np.steps = 400;
  np.record_every = 100;
  Result<NoiseResult> noise = run_noise(np);
  ASSERT_TRUE(noise);
  expect_page(noise_html(*noise));

  ScalingParams cp;
  cp.dim = 16;
  cp.ranks = {1, 4};
  cp.adam_lrs = {1e-2};
  cp.sgd_lrs = {10.0};  // diverges: the page must not print nan
  cp.steps = 50;
  Result<ScalingResult> scaling = run_scaling(cp);
  ASSERT_TRUE(scaling);
  expect_page(scaling_html(*scaling));

  SimilarityParams mp;
  mp.dim = 16;
  mp.true_ranks = {2};
  mp.steps = 300;
  Result<SimilarityResult> sim = run_similarity(mp);
  ASSERT_TRUE(sim);
  expect_page(similarity_html(*sim));
}

}  // namespace
}  // namespace lorank
