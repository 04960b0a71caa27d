// The 13 real safetensors adapters in shared/adapters: every file opens, every tensor
// widens to exactly the values an independent Python reader (tests/io/safetensors_oracle.py,
// standard library only) computes, and read -> write reproduces each file byte for byte.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "lorank/safetensors.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

std::vector<std::filesystem::path> real_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& dir : std::filesystem::directory_iterator(testing::shared_path("adapters"))) {
    if (!dir.is_directory()) continue;
    for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
      if (f.path().extension() == ".safetensors") files.push_back(f.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string run_oracle(const std::filesystem::path& file) {
  const std::string cmd = "/usr/bin/python3 " LORANK_SOURCE_DIR
                          "/tests/io/safetensors_oracle.py '" +
                          file.string() + "'";
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  EXPECT_EQ(::pclose(pipe), 0) << "oracle failed: " << cmd;
  return out;
}

std::string python_hex(double v) {
  // Python's float.hex() for normal numbers and zero: 13 hex digits, signed exponent.
  if (v == 0) return std::signbit(v) ? "-0x0.0p+0" : "0x0.0p+0";
  int exp = 0;
  const double m = std::frexp(std::abs(v), &exp);  // m in [0.5, 1)
  const auto mant = static_cast<uint64_t>(std::ldexp(m * 2 - 1, 52));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s0x1.%013llxp%+d", v < 0 ? "-" : "",
                static_cast<unsigned long long>(mant), exp - 1);
  return buf;
}

TEST(SafetensorsReal, ThirteenFilesMatchThePythonOracle) {
  const auto files = real_files();
  ASSERT_EQ(files.size(), 13u);
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    auto f = SafetensorsFile::open(path);
    ASSERT_TRUE(f.has_value()) << f.error().to_string();
    std::ostringstream ours;
    for (const TensorView& t : f->tensors()) {
      std::vector<double> values(static_cast<std::size_t>(t.numel()));
      ASSERT_TRUE(to_double(t, values).ok()) << t.name;
      double sum = 0, squares = 0;
      for (double x : values) {
        sum += x;
        volatile double square = x * x;  // keep the product rounded, as Python does (no FMA)
        squares += square;
      }
      const std::string dims = fmt::format("{}", fmt::join(t.shape.dims, ","));
      ours << t.name << '\t' << dtype_name(t.dtype) << '\t' << dims << '\t' << python_hex(sum)
           << '\t' << python_hex(squares) << '\n';
    }
    const std::string oracle = run_oracle(path);
    ASSERT_FALSE(oracle.empty());
    EXPECT_EQ(ours.str(), oracle);
  }
}

TEST(SafetensorsReal, RewriteIsByteIdentical) {
  testing::TempDir dir;
  for (const auto& path : real_files()) {
    SCOPED_TRACE(path.string());
    auto f = SafetensorsFile::open(path);
    ASSERT_TRUE(f.has_value()) << f.error().to_string();
    const auto copy = dir / path.parent_path().filename().concat(".safetensors");
    ASSERT_TRUE(write_safetensors(copy, f->tensors(), f->metadata()).ok());
    auto g = SafetensorsFile::open(copy);
    ASSERT_TRUE(g.has_value()) << g.error().to_string();
    EXPECT_EQ(g->metadata(), f->metadata());
    ASSERT_EQ(g->tensors().size(), f->tensors().size());
    for (std::size_t i = 0; i < f->tensors().size(); ++i) {
      const TensorView& a = f->tensors()[i];
      const TensorView& b = g->tensors()[i];
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.dtype, b.dtype);
      EXPECT_EQ(a.shape, b.shape);
      ASSERT_EQ(a.data.size(), b.data.size());
      EXPECT_TRUE(std::equal(a.data.begin(), a.data.end(), b.data.begin())) << a.name;
    }
    // All 13 files come from the reference writer; ours reproduces them byte for byte
    // (same key order, compact JSON, space padding to 8).
    EXPECT_EQ(testing::read_text_file(copy), testing::read_text_file(path));
  }
}

}  // namespace
}  // namespace lorank
