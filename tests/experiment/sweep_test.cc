#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "lorank/demo.h"
#include "lorank/experiment.h"
#include "lorank/experiment_report.h"

namespace lorank {
namespace {

SweepParams small_sweep() {
  SweepParams p;
  p.dim = 32;
  p.true_ranks = {2, 4};
  p.ranks = {1, 2, 4, 8};
  p.steps = 3000;
  p.lr = 0.02;
  return p;
}

TEST(Sweep, NoCellBeatsEckartYoungAndThePhaseBoundaryIsAtK) {
  Result<SweepResult> r = run_sweep(small_sweep());
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->cells.size(), 8u);
  for (const SweepCell& c : r->cells) {
    SCOPED_TRACE(::testing::Message() << "k=" << c.true_rank << " r=" << c.rank);
    EXPECT_GE(c.rel_err, c.optimal_rel_err - 1e-12);
    if (c.rank < c.true_rank) {
      EXPECT_GT(c.rel_err, 0.3);  // cannot reach the signal
    } else {
      EXPECT_LT(c.rel_err, 0.05);
      EXPECT_LT(c.rel_err - c.optimal_rel_err, 0.1 * c.optimal_rel_err + 1e-3);
      EXPECT_EQ(c.directions_above_noise, c.true_rank);  // extra rank adds no direction
    }
  }
}

TEST(Sweep, CellEqualsTheDemoWithTheSameFlags) {
  Result<SweepResult> r = run_sweep(small_sweep());
  ASSERT_TRUE(r);
  DemoParams d;
  d.dim = 32;
  d.true_rank = 4;
  d.ranks = {8};
  d.steps = 3000;
  d.lr = 0.02;
  Result<DemoResult> demo = run_demo(d);
  ASSERT_TRUE(demo);
  const SweepCell& c = r->cells[1 * 4 + 3];  // k = 4, r = 8
  ASSERT_EQ(c.rank, 8);
  EXPECT_EQ(c.rel_err, demo->rows[0].rel_err);
  EXPECT_EQ(c.singular_values, demo->rows[0].singular_values);
}

TEST(Sweep, JsonHasTheDocumentedFields) {
  Result<SweepResult> r = run_sweep(small_sweep());
  ASSERT_TRUE(r);
  const nlohmann::json j = nlohmann::json::parse(sweep_json(*r));
  ASSERT_EQ(j["cells"].size(), 8u);
  for (const char* key : {"true_rank", "rank", "rel_err", "optimal_rel_err", "singular_values"}) {
    EXPECT_TRUE(j["cells"][0].contains(key)) << key;
  }
  EXPECT_NE(sweep_table(*r).find("Eckart–Young"), std::string::npos);
}

TEST(Sweep, ValidationNamesTheFlag) {
  SweepParams p = small_sweep();
  p.true_ranks = {2, 40};
  EXPECT_NE(validate(p).message().find("--true-ranks"), std::string::npos);
  p = small_sweep();
  p.ranks = {0};
  EXPECT_NE(validate(p).message().find("--ranks"), std::string::npos);
  p = small_sweep();
  p.true_ranks = {};
  EXPECT_EQ(validate(p).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lorank
