// resize on real adapters from shared/ (energy:0.9), and a NumPy dense oracle for one module.
#include <gtest/gtest.h>

#include <fstream>

#include "lorank/resize.h"
#include "support/resize_check.h"
#include "support/run_command.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using lorank::testing::check_resized;
using lorank::testing::ResizeCheck;
using lorank::testing::resize_options;
using lorank::testing::shared_path;
using lorank::testing::TempDir;

class RealResize : public ::testing::TestWithParam<std::string> {};

TEST_P(RealResize, Energy90KeepsTheLeadingSpectrumAndScales) {
  Result<Adapter> a = open_adapter(shared_path("adapters/" + GetParam()));
  ASSERT_TRUE(a) << a.status().message();
  Result<RankRule> rule = RankRule::parse("energy:0.9");
  ASSERT_TRUE(rule);
  Result<ResizeResult> r = resize_adapter(*a, resize_options(*rule, false, std::nullopt, 2));
  ASSERT_TRUE(r) << r.status().message();
  TempDir tmp;
  const fs::path out = tmp / (a->format == AdapterFormat::kPeft ? "out" : "out.safetensors");
  // Factors rounded back to BF16/F16/F32: σ' within a few units of the dtype's ε·σ₁.
  const DType dtype = a->modules.front().A.dtype;
  const double tol = dtype == DType::kBF16 ? 2e-3 : dtype == DType::kF16 ? 5e-4 : 1e-5;
  const double worst = check_resized(*a, *r, out, ResizeCheck{tol, false, a->format == AdapterFormat::kPeft});
  RecordProperty("worst_sigma_error_over_sigma1", std::to_string(worst));
  EXPECT_LT(r->totals.params_after, r->totals.params_before);
  std::size_t zeros = 0;
  for (const ResizeModule& m : r->modules) {
    zeros += m.zero ? 1 : 0;
    if (!m.zero) {
      EXPECT_GE(m.retained_energy, 0.9 - 1e-12) << m.name;
    }
  }
  if (GetParam() == "sd15-unet-peft-r4") {  // its untrained modules stay, as zero modules
    EXPECT_GT(zeros, 0u);
    EXPECT_FALSE(r->notes.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, RealResize,
                         ::testing::Values("opt125m-bf16-r16", "sd15-unet-peft-r4",
                                           "sd15-unet-kohyalike-r4"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

void write_f64(const fs::path& path, const TensorView& t) {
  std::vector<double> v(static_cast<std::size_t>(t.numel()));
  ASSERT_TRUE(to_double(t, v).ok());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(v.data()),
                                              static_cast<std::streamsize>(v.size() * sizeof(double)));
}

TEST(ResizeOracle, NumpyDenseTruncationOfOneModule) {
  Result<Adapter> a = open_adapter(shared_path("adapters/opt125m-bf16-r16"));
  ASSERT_TRUE(a) << a.status().message();
  const LoraModule& m = a->modules.front();
  Result<TruncatedFactors> t = truncate_module(m, 5, true, 0.5);
  ASSERT_TRUE(t) << t.status().message();
  TempDir tmp;
  write_f64(tmp / "b", m.B);
  write_f64(tmp / "a", m.A);
  std::ofstream(tmp / "b2", std::ios::binary).write(reinterpret_cast<const char*>(t->b.data()),
                                                     static_cast<std::streamsize>(t->b.size() * 8));
  std::ofstream(tmp / "a2", std::ios::binary).write(reinterpret_cast<const char*>(t->a.data()),
                                                     static_cast<std::streamsize>(t->a.size() * 8));
  const auto res = lorank::testing::run_command(
      {"/usr/bin/python3", std::string(LORANK_SOURCE_DIR) + "/tests/resize/resize_oracle.py",
       (tmp / "b").string(), (tmp / "a").string(), std::to_string(m.out), std::to_string(m.rank),
       std::to_string(m.in), fmt::format("{:.17g}", m.scale), (tmp / "b2").string(),
       (tmp / "a2").string(), "5", "0.5"});
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_LT(std::stod(res.out), 1e-12) << res.out;
}

}  // namespace
}  // namespace lorank
