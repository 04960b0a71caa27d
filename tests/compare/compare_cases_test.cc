// lorank compare: untrained modules, unmatched and mismatched modules, the demo fits
// (the explainer's claim), real adapters and the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "lorank/adapter.h"
#include "lorank/compare.h"
#include "lorank/compare_report.h"
#include "lorank/demo.h"
#include "lorank/fit.h"
#include "support/compare_oracle.h"
#include "support/run_command.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using testing::Factors;
using testing::random_factors;
using testing::run_lorank;
using testing::TempDir;
using testing::write_peft;

Adapter open_or_fail(const std::filesystem::path& dir) {
  Result<Adapter> a = open_adapter(dir);
  EXPECT_TRUE(a) << a.error().message();
  return a ? std::move(*a) : Adapter{};
}

TEST(CompareCases, UntrainedModuleIsNullNeverNan) {
  TempDir dir;
  const Factors trained = random_factors(16, 4, 12, 1);
  Factors untrained = random_factors(16, 4, 12, 2);
  std::fill(untrained.B.begin(), untrained.B.end(), 0.0);  // B at its PEFT init
  write_peft(dir.path() / "a", {{"q", trained}, {"k", untrained}, {"v", untrained}}, 4, 8);
  write_peft(dir.path() / "b", {{"q", trained}, {"k", trained}, {"v", untrained}}, 4, 8);
  const Adapter a = open_or_fail(dir.path() / "a");
  const Adapter b = open_or_fail(dir.path() / "b");
  Result<AdapterComparison> got = compare_adapters(a, b);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->modules.size(), 3u);
  // Natural order of name (module_names.h), not file order: k, q, v.
  ASSERT_EQ(got->modules[1].name, "base_model.model.q");
  EXPECT_TRUE(got->modules[1].top_k_overlap);
  for (std::size_t i : {0, 2}) {
    const ModuleComparison& m = got->modules[i];
    EXPECT_FALSE(m.top_k_overlap) << m.name;
    EXPECT_TRUE(m.phi.empty()) << m.name;
    EXPECT_NE(m.null_reason.find("untrained"), std::string::npos) << m.null_reason;
  }
  EXPECT_EQ(got->summary.null_count, 2u);
  EXPECT_NEAR(*got->summary.mean_top_k_overlap, 1.0, 1e-12);
  const nlohmann::json j = nlohmann::json::parse(compare_json(a, b, *got));
  EXPECT_TRUE(j["modules"][0]["top_k_overlap"].is_null());
  EXPECT_EQ(j["modules"][0]["phi"].size(), 0u);
}

TEST(CompareCases, ModulesInOneAdapterOnlyAreListed) {
  TempDir dir;
  const Factors f = random_factors(8, 2, 6, 3);
  write_peft(dir.path() / "a", {{"q", f}, {"only_a", f}}, 2, 2);
  write_peft(dir.path() / "b", {{"only_b", f}, {"q", f}}, 2, 2);
  Result<AdapterComparison> got =
      compare_adapters(open_or_fail(dir.path() / "a"), open_or_fail(dir.path() / "b"));
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->modules.size(), 1u);
  EXPECT_EQ(got->only_in_a, std::vector<std::string>{"base_model.model.only_a"});
  EXPECT_EQ(got->only_in_b, std::vector<std::string>{"base_model.model.only_b"});
}

TEST(CompareCases, ShapeMismatchNamesTheModule) {
  TempDir dir;
  write_peft(dir.path() / "a", {{"q", random_factors(8, 2, 6, 4)}}, 2, 2);
  write_peft(dir.path() / "b", {{"q", random_factors(10, 2, 6, 5)}}, 2, 2);
  Result<AdapterComparison> got =
      compare_adapters(open_or_fail(dir.path() / "a"), open_or_fail(dir.path() / "b"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), StatusCode::kInvalidData);
  EXPECT_NE(got.error().message().find("base_model.model.q"), std::string::npos);
  EXPECT_NE(got.error().message().find("8x6"), std::string::npos) << got.error().message();
}

TEST(CompareCases, NonFiniteWeightsAndBadOptionsAreErrors) {
  TempDir dir;
  Factors bad = random_factors(8, 2, 6, 6);
  bad.A[3] = std::nan("");
  write_peft(dir.path() / "a", {{"q", random_factors(8, 2, 6, 7)}}, 2, 2);
  write_peft(dir.path() / "b", {{"q", bad}}, 2, 2);
  const Adapter a = open_or_fail(dir.path() / "a");
  const Adapter b = open_or_fail(dir.path() / "b");
  Result<AdapterComparison> got = compare_adapters(a, b);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), StatusCode::kNumerical);
  EXPECT_NE(got.error().message().find("lora_A"), std::string::npos) << got.error().message();
  CompareOptions zero_k;
  zero_k.k = 0;
  EXPECT_EQ(compare_adapters(a, a, zero_k).error().code(), StatusCode::kInvalidArgument);
}

// The explainer's claim: fitted at r = 4 and r = 16 to a rank-4 target plus a noise floor,
// LoRA learns the same top-4 directions; the extra 12 directions of the r = 16 fit only
// fit noise and overlap the r = 4 fit no more than chance.
TEST(CompareCases, DemoFitsAtRank4And16ShareTheTop4Directions) {
  const DemoTarget t = make_demo_target(64, 64, 4, 0.01, 42);
  FitOptions fit_options;  // the explainer's 5000 steps of lr 0.01
  std::vector<LoraFit> fits;
  for (std::size_t r : {4u, 16u}) {
    Result<LoraFit> fit = fit_lora(t.target, Matrix(64, r), lora_init_A(r, 64, 0), fit_options);
    ASSERT_TRUE(fit) << fit.error().message();
    fits.push_back(std::move(*fit));
  }
  for (CompareSide side : {CompareSide::kLeft, CompareSide::kRight}) {
    CompareOptions options;
    options.side = side;
    const LoraFactorsView<double> a{fits[0].B.data, fits[0].A.data, {64, 4, 64}, 1.0};
    const LoraFactorsView<double> b{fits[1].B.data, fits[1].A.data, {64, 16, 64}, 1.0};
    Result<ModuleComparison> m = compare_factors(a, b, options);
    ASSERT_TRUE(m) << m.error().message();
    std::cout << "[ demo     ] " << compare_side_name(side) << ": 1 - phi(1,1) = "
              << 1 - m->phi_at(1, 1) << ", 1 - phi(4,4) = " << 1 - m->phi_at(4, 4)
              << ", 1 - phi(4,16) = " << 1 - m->phi_at(4, 16) << "\n";
    EXPECT_GT(m->phi_at(4, 4), 1 - 1e-9) << compare_side_name(side);
    EXPECT_GT(m->phi_at(1, 1), 1 - 1e-9) << compare_side_name(side);
    EXPECT_EQ(m->top_k, 4u);  // threshold rank of both fits: the 4 signal directions
    for (double c : m->principal_cosines) EXPECT_GT(c, 1 - 1e-9);
  }
}

TEST(CompareCases, RealPeftAdapterAgainstItself) {
  const Adapter a = open_or_fail(testing::shared_path("adapters/sd15-unet-peft-r4"));
  Result<AdapterComparison> got = compare_adapters(a, a);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->summary.compared, 128u);
  EXPECT_EQ(got->summary.null_count, 32u);  // every attn2.to_q / to_k has B = 0
  for (const ModuleComparison& m : got->modules) {
    if (!m.top_k_overlap) continue;
    for (double phi : m.phi) EXPECT_NEAR(phi, 1.0, 1e-10) << m.name;
  }
}

TEST(CompareCases, PeftAgainstKohyaNamesIsAClearError) {
  const Adapter a = open_or_fail(testing::shared_path("adapters/sd15-unet-peft-r4"));
  const Adapter b = open_or_fail(testing::shared_path("adapters/sd15-unet-kohyalike-r4"));
  Result<AdapterComparison> got = compare_adapters(a, b);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), StatusCode::kNotFound);
  EXPECT_NE(got.error().message().find("no module name in common"), std::string::npos);
  EXPECT_NE(got.error().message().find("kohya"), std::string::npos) << got.error().message();
}

TEST(CompareCli, TableJsonAndExitCodes) {
  TempDir dir;
  write_peft(dir.path() / "a", {{"q", random_factors(16, 4, 12, 8)}}, 4, 8);
  write_peft(dir.path() / "b", {{"q", random_factors(16, 8, 12, 9)}}, 8, 8);
  write_peft(dir.path() / "c", {{"q", random_factors(20, 4, 12, 10)}}, 4, 8);
  const std::string a = (dir.path() / "a").string();
  const std::string b = (dir.path() / "b").string();
  testing::CommandOutput table = run_lorank({"compare", a, b});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("phi(1,1)"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("\nq "), std::string::npos) << table.out;  // prefix dropped
  testing::CommandOutput json = run_lorank({"compare", a, b, "--json", "--side", "right", "--k", "2"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["side"], "right");
  EXPECT_EQ(j["modules"][0]["top_k"], 2);
  EXPECT_EQ(j["modules"][0]["phi"].size(), 4u);
  EXPECT_EQ(j["modules"][0]["phi"][0].size(), 8u);
  const testing::CommandOutput usage = run_lorank({"compare", a, b, "--side", "up"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(usage.err.rfind("lorank: error: ", 0), 0u) << usage.err;
  const testing::CommandOutput mismatch = run_lorank({"compare", a, (dir.path() / "c").string()});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.err.find("base_model.model.q"), std::string::npos) << mismatch.err;
  EXPECT_EQ(std::count(mismatch.err.begin(), mismatch.err.end(), '\n'), 1) << mismatch.err;
  const testing::CommandOutput missing = run_lorank({"compare", a, "/nonexistent/adapter"});
  EXPECT_EQ(missing.exit_code, 1);
}

}  // namespace
}  // namespace lorank
