#include "lorank/demo.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <bit>
#include <cmath>

#include "lorank/demo_report.h"
#include "support/numpy_fixtures.h"
#include "support/run_command.h"
#include "support/shared_data.h"

namespace lorank {
namespace {

using lorank::testing::run_command;
using lorank::testing::shared_path;

// The rows of the explainer's table, verbatim (../shared/seed/lora-rank-explainer.txt).
constexpr const char* kExplainerRows =
    "            2  |         0.5758  | 37.828  33.113  0.000  0.000  0.000  0.000  0.000  0.000\n"
    "            4  |         0.0097  | 37.828  33.113  25.829  24.209  0.000  0.000  0.000  0.000\n"
    "           16  |         0.0069  | 37.828  33.113  25.829  24.209  0.145  0.138  0.134  0.129\n";

TEST(Demo, DefaultTableIsTheExplainers) {
  Result<DemoResult> result = run_demo(DemoParams());
  ASSERT_TRUE(result) << result.error().message();
  const std::string table = demo_table(*result);
  const std::string explainer = lorank::testing::read_text_file(
      shared_path("seed/lora-rank-explainer.txt"));
  // Header, rule and rows all appear in the explainer's text exactly as printed.
  EXPECT_NE(explainer.find(table), std::string::npos) << table;
  EXPECT_NE(table.find(kExplainerRows), std::string::npos) << table;
}

TEST(Demo, TargetIsBitExactWithNumpy) {
  const DemoTarget t = make_demo_target(64, 64, 4, 0.01, 42);
  const std::vector<std::uint64_t> bits = lorank::testing::read_fixture_bits("target_64x64.txt", 2);
  ASSERT_EQ(bits.size(), t.target.size());
  for (std::size_t i = 0; i < bits.size(); ++i) {
    ASSERT_EQ(std::bit_cast<std::uint64_t>(t.target.data[i]), bits[i]) << "element " << i;
  }
}

TEST(Demo, ValidateNamesTheOffendingFlag) {
  struct Case {
    DemoParams p;
    const char* flag;
  };
  std::vector<Case> cases;
  auto with = [](auto edit) {
    DemoParams p;
    edit(p);
    return p;
  };
  cases.push_back({with([](DemoParams& p) { p.dim = 0; }), "--dim"});
  cases.push_back({with([](DemoParams& p) { p.true_rank = 65; }), "--true-rank"});
  cases.push_back({with([](DemoParams& p) { p.ranks = {2, 65}; }), "--ranks"});
  cases.push_back({with([](DemoParams& p) { p.ranks = {0}; }), "--ranks"});
  cases.push_back({with([](DemoParams& p) { p.ranks = {}; }), "--ranks"});
  cases.push_back({with([](DemoParams& p) { p.steps = 0; }), "--steps"});
  cases.push_back({with([](DemoParams& p) { p.lr = 0.0; }), "--lr"});
  cases.push_back({with([](DemoParams& p) { p.lr = std::nan(""); }), "--lr"});
  cases.push_back({with([](DemoParams& p) { p.noise = -1.0; }), "--noise"});
  for (const Case& c : cases) {
    const Status s = validate(c.p);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.flag;
    EXPECT_NE(s.message().find(c.flag), std::string::npos) << s.message();
  }
  EXPECT_TRUE(validate(DemoParams()).ok());
}

TEST(Demo, OptimalErrorIsALowerBound) {
  DemoParams p;
  p.ranks = {1, 4, 8};
  p.steps = 2000;
  Result<DemoResult> result = run_demo(p);
  ASSERT_TRUE(result);
  for (const DemoRow& row : result->rows) {
    EXPECT_LE(row.optimal_rel_err, row.rel_err + 1e-12) << "r = " << row.rank;
    EXPECT_EQ(row.singular_values.size(), static_cast<std::size_t>(row.rank));
  }
}

// --- Agreement with the NumPy reference script on parameters other than the defaults.

struct NumpyCase {
  DemoParams params;
};

std::vector<std::string> numpy_args(const DemoParams& p) {
  std::string ranks;
  for (int r : p.ranks) {
    if (!ranks.empty()) ranks += ',';
    ranks += std::to_string(r);
  }
  return {"/usr/bin/python3",
          shared_path("bench/demo_numpy.py").string(),
          "--dim", std::to_string(p.dim), "--true-rank", std::to_string(p.true_rank),
          "--ranks", ranks, "--steps", std::to_string(p.steps),
          "--lr", fmt::format("{}", p.lr), "--noise", fmt::format("{}", p.noise),
          "--seed", std::to_string(p.seed), "--init-seed", std::to_string(p.init_seed)};
}

class DemoMatchesNumpy : public ::testing::TestWithParam<NumpyCase> {};

TEST_P(DemoMatchesNumpy, DigitForDigit) {
  const DemoParams& p = GetParam().params;
  const lorank::testing::CommandOutput py = run_command(numpy_args(p));
  ASSERT_EQ(py.exit_code, 0) << "demo_numpy.py failed (is python3-numpy installed?): " << py.err;
  const nlohmann::json ref = nlohmann::json::parse(py.out);
  Result<DemoResult> result = run_demo(p);
  ASSERT_TRUE(result) << result.error().message();
  // The table renders exactly what the script's *_str fields hold.
  const std::string table = demo_table(*result);
  ASSERT_EQ(ref["rows"].size(), result->rows.size());
  for (std::size_t i = 0; i < result->rows.size(); ++i) {
    const nlohmann::json& row = ref["rows"][i];
    std::string expected = fmt::format("{:13d}  |  {:>13}  | ", row["rank"].get<int>(),
                                       row["rel_err_str"].get<std::string>());
    std::string values;
    for (const auto& v : row["top_str"]) {
      if (!values.empty()) values += "  ";
      values += v.get<std::string>();
    }
    expected += values + "\n";
    EXPECT_NE(table.find(expected), std::string::npos)
        << "NumPy row:\n" << expected << "lorank table:\n" << table;
  }
}

DemoParams make(int dim, int k, std::vector<int> ranks, int steps, double lr, double noise,
                std::uint32_t seed, std::uint64_t init_seed) {
  DemoParams p;
  p.dim = dim;
  p.true_rank = k;
  p.ranks = std::move(ranks);
  p.steps = steps;
  p.lr = lr;
  p.noise = noise;
  p.seed = seed;
  p.init_seed = init_seed;
  return p;
}

INSTANTIATE_TEST_SUITE_P(
    Parameterizations, DemoMatchesNumpy,
    ::testing::Values(NumpyCase{make(32, 8, {4, 8, 12}, 3000, 0.02, 0.05, 7, 3)},
                      NumpyCase{make(48, 2, {1, 2, 3, 40}, 1500, 0.005, 0.0, 123, 9)},
                      NumpyCase{make(20, 5, {5, 20}, 2000, 0.05, 0.1, 0, 1)},
                      NumpyCase{make(64, 8, {4, 8, 16}, 5000, 0.01, 0.01, 42, 0)},
                      NumpyCase{make(7, 3, {1, 3, 7}, 800, 0.03, 0.02, 4294967295u, 12345)},
                      NumpyCase{make(100, 6, {6, 10}, 1000, 0.004, 0.02, 99, 2)}));

}  // namespace
}  // namespace lorank
