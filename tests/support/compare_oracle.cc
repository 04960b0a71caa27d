#include "support/compare_oracle.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "support/adapter_builder.h"
#include "support/run_command.h"

namespace lorank::testing {
namespace {

nlohmann::json rows(const std::vector<double>& m, std::size_t n_rows, std::size_t n_cols) {
  nlohmann::json j = nlohmann::json::array();
  for (std::size_t i = 0; i < n_rows; ++i) {
    j.push_back(std::vector<double>(m.begin() + static_cast<std::ptrdiff_t>(i * n_cols),
                                    m.begin() + static_cast<std::ptrdiff_t>((i + 1) * n_cols)));
  }
  return j;
}

}  // namespace

Factors random_factors(std::size_t out, std::size_t r, std::size_t in, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  Factors f{out, r, in, std::vector<double>(out * r), std::vector<double>(r * in)};
  for (double& v : f.B) v = static_cast<float>(normal(gen));
  for (double& v : f.A) v = static_cast<float>(normal(gen));
  return f;
}

void write_peft(const std::filesystem::path& dir,
                const std::vector<std::pair<std::string, Factors>>& modules, std::size_t r,
                double alpha) {
  std::filesystem::create_directories(dir);
  AdapterBuilder builder;
  for (const auto& [name, f] : modules) {
    EXPECT_EQ(f.r, r) << name;
    const std::string prefix = "base_model.model." + name;
    builder.add(prefix + ".lora_A.weight", {static_cast<int64_t>(f.r), static_cast<int64_t>(f.in)}, f.A);
    builder.add(prefix + ".lora_B.weight", {static_cast<int64_t>(f.out), static_cast<int64_t>(f.r)}, f.B);
  }
  builder.config(fmt::format(R"({{"peft_type": "LORA", "r": {}, "lora_alpha": {}}})", r, alpha));
  builder.write(dir);
}

OracleResult numpy_oracle(const Factors& a, double scale_a, const Factors& b, double scale_b,
                          CompareSide side, const std::filesystem::path& scratch) {
  nlohmann::json input;
  input["side"] = side == CompareSide::kLeft ? "left" : "right";
  input["a"] = {{"B", rows(a.B, a.out, a.r)}, {"A", rows(a.A, a.r, a.in)}, {"s", scale_a}};
  input["b"] = {{"B", rows(b.B, b.out, b.r)}, {"A", rows(b.A, b.r, b.in)}, {"s", scale_b}};
  const std::filesystem::path file = scratch / "oracle_case.json";
  std::ofstream(file) << input.dump();
  const CommandOutput py = run_command(
      {"/usr/bin/python3", LORANK_SOURCE_DIR "/tests/compare/compare_oracle.py", file.string()});
  OracleResult result;
  if (py.exit_code != 0) {
    ADD_FAILURE() << "the NumPy oracle failed (is /usr/bin/python3 with NumPy installed?): "
                  << py.err;
    return result;
  }
  const nlohmann::json j = nlohmann::json::parse(py.out);
  result.rank_a = j["rank_a"].get<std::size_t>();
  result.rank_b = j["rank_b"].get<std::size_t>();
  result.phi = j["phi"].get<std::vector<std::vector<double>>>();
  return result;
}

}  // namespace lorank::testing
