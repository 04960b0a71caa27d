// Every real third-party adapter in ../shared/adapters opens, pairs and gives the spectra
// NumPy computed (dense float64 SVD of scale·B·A; reference_spectrum.json), to 1e-9·σ₁.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "lorank/adapter.h"
#include "lorank/spectra.h"
#include "support/shared_data.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using lorank::testing::read_text_file;
using lorank::testing::shared_path;

std::vector<std::string> adapter_folders() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(shared_path("adapters"))) {
    if (e.is_directory() && fs::exists(e.path() / "reference_spectrum.json")) {
      names.push_back(e.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(RealAdapters, AllFourteenArePresent) {
  // Fails (never skips) when ../shared/adapters is missing or incomplete.
  EXPECT_EQ(adapter_folders().size(), 14u);
}

class RealAdapter : public ::testing::TestWithParam<std::string> {};

TEST_P(RealAdapter, SpectraMatchNumpyReference) {
  const fs::path dir = shared_path("adapters/" + GetParam());
  const nlohmann::json ref = nlohmann::json::parse(read_text_file(dir / "reference_spectrum.json"));
  Result<Adapter> adapter = open_adapter(dir);
  ASSERT_TRUE(adapter) << adapter.error().message();
  Result<std::vector<std::vector<double>>> spectra = module_spectra(*adapter);
  ASSERT_TRUE(spectra) << spectra.error().message();

  std::map<std::string, std::size_t> ours;
  for (std::size_t i = 0; i < adapter->modules.size(); ++i) ours[adapter->modules[i].name] = i;
  ASSERT_EQ(ours.size(), ref["modules"].size());
  int zero_modules = 0;
  for (const nlohmann::json& m : ref["modules"]) {
    const std::string name = m["module"];
    ASSERT_TRUE(ours.count(name)) << "module missing: " << name;
    const LoraModule& mod = adapter->modules[ours[name]];
    const std::vector<double>& sv = (*spectra)[ours[name]];
    EXPECT_EQ(mod.rank, m["r"].get<std::size_t>()) << name;
    EXPECT_DOUBLE_EQ(mod.scale, m["scale"].get<double>()) << name;
    const std::vector<double> expected = m["singular_values"];
    ASSERT_EQ(sv.size(), expected.size()) << name;
    const double s1 = expected.empty() ? 0.0 : expected[0];
    if (s1 == 0.0) ++zero_modules;
    for (std::size_t k = 0; k < sv.size(); ++k) {
      ASSERT_TRUE(std::isfinite(sv[k])) << name;
      EXPECT_LE(std::abs(sv[k] - expected[k]), 1e-9 * s1) << name << " sigma_" << k + 1;
    }
  }
  if (GetParam() == "sd15-unet-peft-r4") {
    EXPECT_EQ(zero_modules, 32);  // MANIFEST: 32 of 128 modules have lora_B all zeros
  }

  // Nothing is lost: every non-LoRA tensor is carried as passthrough.
  std::set<std::string> passthrough;
  for (const TensorView& t : adapter->passthrough) passthrough.insert(std::string(t.name));
  if (ref["non_lora_tensors"].is_array()) {
    for (const auto& n : ref["non_lora_tensors"]) {
      EXPECT_TRUE(passthrough.count(n.get<std::string>())) << "not kept: " << n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, RealAdapter, ::testing::ValuesIn(adapter_folders()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace lorank
