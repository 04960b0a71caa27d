#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lorank/experiment.h"
#include "lorank/experiment_report.h"

namespace lorank {
namespace {

TEST(SimilarityExperiment, RankKAndFourKLearnTheSameTopDirections) {
  SimilarityParams p;
  p.dim = 32;
  p.true_ranks = {2, 4};
  p.steps = 3000;
  p.lr = 0.02;
  for (bool right : {false, true}) {
    p.right = right;
    Result<SimilarityResult> r = run_similarity(p);
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->rows.size(), 2u);
    for (const SimilarityRow& row : r->rows) {
      ASSERT_EQ(row.diagonal.size(), static_cast<std::size_t>(row.true_rank));
      EXPECT_GT(row.diagonal.back(), 1.0 - 1e-6) << "k=" << row.true_rank;
      EXPECT_LT(row.chance, 0.2);
    }
    const nlohmann::json j = nlohmann::json::parse(similarity_json(*r));
    EXPECT_EQ(j["rows"][1]["rank_large"], 16);
  }
}

TEST(SimilarityExperiment, Validation) {
  SimilarityParams p;
  p.true_ranks = {32};  // 4·32 > 64
  EXPECT_EQ(validate(p).code(), StatusCode::kInvalidArgument);
  p.true_ranks = {2};
  p.factor = 0;
  EXPECT_NE(validate(p).message().find("--factor"), std::string::npos);
}

}  // namespace
}  // namespace lorank
