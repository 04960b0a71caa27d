// Contract edge cases of the spectrum API: degenerate shapes, bad input, batches, reuse.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "linalg/spectrum_testing.h"
#include "lorank/spectrum.h"

namespace lorank {
namespace {

using testing::RowMatrix;

std::span<const double> span_of(const RowMatrix& m) {
  return {m.data(), static_cast<std::size_t>(m.size())};
}

TEST(SpectrumApi, TinyScalarModule) {
  const double b = 3.0, a = -2.0;
  Result<std::vector<double>> s = lora_singular_values(&b, 1, 1, &a, 1, 0.5);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(*s, std::vector<double>{3.0});
}

TEST(SpectrumApi, NegativeScaleGivesAbsoluteValue) {
  std::mt19937_64 rng(7001);
  const RowMatrix b = testing::gaussian(40, 6, rng);
  const RowMatrix a = testing::gaussian(6, 30, rng);
  Result<std::vector<double>> pos = lora_singular_values(span_of(b), span_of(a), {40, 6, 30}, 2.5);
  Result<std::vector<double>> neg = lora_singular_values(span_of(b), span_of(a), {40, 6, 30}, -2.5);
  ASSERT_TRUE(pos && neg);
  EXPECT_EQ(*pos, *neg);
  for (double v : *pos) EXPECT_GT(v, 0.0);
}

TEST(SpectrumApi, AllZeroGivesZerosForEveryMethod) {
  for (SpectrumMethod method : {SpectrumMethod::kHouseholderQr, SpectrumMethod::kCholeskyQr2,
                                SpectrumMethod::kGram}) {
    for (LoraShape s : {LoraShape{50, 8, 30}, LoraShape{4, 8, 30}, LoraShape{50, 8, 3}}) {
      const std::vector<double> b(s.out * s.r, 0.0), a(s.r * s.in, 0.0);
      SpectrumWorkspace workspace(method);
      std::vector<double> values;
      ASSERT_TRUE(workspace.compute(std::span<const double>(b), std::span<const double>(a), s,
                                    1.0, values).ok());
      EXPECT_EQ(values, std::vector<double>(std::min({s.out, s.r, s.in}), 0.0));
    }
  }
}

TEST(SpectrumApi, ZeroDimensionsGiveEmpty) {
  for (LoraShape s : {LoraShape{10, 0, 7}, LoraShape{0, 4, 7}, LoraShape{10, 4, 0}}) {
    const std::vector<float> b(s.out * s.r, 1.0f), a(s.r * s.in, 1.0f);
    Result<std::vector<double>> v =
        lora_singular_values(std::span<const float>(b), std::span<const float>(a), s);
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->empty());
  }
  Result<std::vector<double>> v = lora_singular_values(nullptr, 10, 0, nullptr, 7);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->empty());
}

TEST(SpectrumApi, NonFiniteInputIsNumericalErrorNamingTheElement) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (SpectrumMethod method : {SpectrumMethod::kHouseholderQr, SpectrumMethod::kCholeskyQr2}) {
    SpectrumWorkspace workspace(method);
    std::vector<double> b(6 * 4, 1.0), a(4 * 5, 1.0), values{42.0};
    b[2 * 4 + 3] = nan;
    Status st = workspace.compute(std::span<const double>(b), std::span<const double>(a),
                                  {6, 4, 5}, 1.0, values);
    EXPECT_EQ(st.code(), StatusCode::kNumerical);
    EXPECT_NE(st.message().find("B[2, 3] is nan"), std::string::npos) << st.message();
    EXPECT_EQ(values, std::vector<double>{42.0});  // untouched on error
    b[2 * 4 + 3] = 1.0;
    a[1 * 5 + 4] = -inf;
    st = workspace.compute(std::span<const double>(b), std::span<const double>(a), {6, 4, 5},
                           1.0, values);
    EXPECT_EQ(st.code(), StatusCode::kNumerical);
    EXPECT_NE(st.message().find("A[1, 4] is -inf"), std::string::npos) << st.message();
    a[1 * 5 + 4] = 1.0;
    st = workspace.compute(std::span<const double>(b), std::span<const double>(a), {6, 4, 5},
                           nan, values);
    EXPECT_EQ(st.code(), StatusCode::kNumerical);
  }
  const std::vector<float> bf(4, std::numeric_limits<float>::infinity()), af(4, 1.0f);
  Result<std::vector<double>> v =
      lora_singular_values(std::span<const float>(bf), std::span<const float>(af), {2, 2, 2});
  EXPECT_EQ(v.error().code(), StatusCode::kNumerical);
}

TEST(SpectrumApi, WrongSizesAreInvalidData) {
  const std::vector<double> b(12, 1.0), a(12, 1.0);
  Result<std::vector<double>> v =
      lora_singular_values(std::span<const double>(b), std::span<const double>(a), {4, 3, 5});
  EXPECT_EQ(v.error().code(), StatusCode::kInvalidData);
  EXPECT_NE(v.error().message().find("A has 12 elements"), std::string::npos);
  v = lora_singular_values(nullptr, 4, 3, a.data(), 4);
  EXPECT_EQ(v.error().code(), StatusCode::kInvalidArgument);
  const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
  v = lora_singular_values(std::span<const double>(b), std::span<const double>(a), {huge, 4, 3});
  EXPECT_EQ(v.error().code(), StatusCode::kInvalidData);
}

TEST(SpectrumApi, CholeskyQr2FallsBackOnlyWhenIllConditioned) {
  std::mt19937_64 rng(8001);
  const RowMatrix a = testing::gaussian(16, 200, rng);
  SpectrumWorkspace workspace(SpectrumMethod::kCholeskyQr2);
  std::vector<double> values;
  const RowMatrix good = testing::gaussian(300, 16, rng);
  ASSERT_TRUE(workspace.compute(span_of(good), span_of(a), {300, 16, 200}, 1.0, values).ok());
  EXPECT_EQ(workspace.householder_fallbacks(), 0u);
  const RowMatrix bad = testing::with_spectrum(300, 16, testing::geometric(16, 1e-10), rng);
  ASSERT_TRUE(workspace.compute(span_of(bad), span_of(a), {300, 16, 200}, 1.0, values).ok());
  EXPECT_EQ(workspace.householder_fallbacks(), 1u);
}

TEST(SpectrumApi, WorkspaceReuseIsStableAndStopsGrowing) {
  std::mt19937_64 rng(9001);
  const RowMatrix b1 = testing::gaussian(500, 32, rng), a1 = testing::gaussian(32, 400, rng);
  const RowMatrix b2 = testing::gaussian(60, 8, rng), a2 = testing::gaussian(8, 90, rng);
  SpectrumWorkspace workspace;
  std::vector<double> first, again, small;
  ASSERT_TRUE(workspace.compute(span_of(b1), span_of(a1), {500, 32, 400}, 1.0, first).ok());
  const std::size_t bytes = workspace.bytes_reserved();
  ASSERT_TRUE(workspace.compute(span_of(b2), span_of(a2), {60, 8, 90}, 1.0, small).ok());
  ASSERT_TRUE(workspace.compute(span_of(b1), span_of(a1), {500, 32, 400}, 1.0, again).ok());
  EXPECT_EQ(first, again);
  EXPECT_EQ(workspace.bytes_reserved(), bytes);
  Result<std::vector<double>> fresh = lora_singular_values(span_of(b2), span_of(a2), {60, 8, 90});
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(*fresh, small);
}

TEST(SpectrumApi, BatchMatchesSequentialAndIsolatesFailures) {
  std::mt19937_64 rng(10001);
  std::vector<RowMatrix> bs, as;
  std::vector<LoraFactorsView<double>> modules;
  for (int i = 0; i < 12; ++i) {
    const std::size_t out = 50 + 37 * static_cast<std::size_t>(i % 4), in = 80, r = 4 + i % 3 * 6;
    bs.push_back(testing::gaussian(out, r, rng));
    as.push_back(testing::gaussian(r, in, rng));
  }
  bs[5](0, 0) = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < bs.size(); ++i) {
    modules.push_back({span_of(bs[i]), span_of(as[i]),
                       {static_cast<std::size_t>(bs[i].rows()), static_cast<std::size_t>(bs[i].cols()),
                        static_cast<std::size_t>(as[i].cols())}, 0.5});
  }
  SpectrumBatchOptions options;
  options.threads = 2;
  const std::vector<Result<std::vector<double>>> results =
      lora_singular_values_batch(std::span<const LoraFactorsView<double>>(modules), options);
  ASSERT_EQ(results.size(), modules.size());
  for (std::size_t i = 0; i < modules.size(); ++i) {
    Result<std::vector<double>> one =
        lora_singular_values(modules[i].b, modules[i].a, modules[i].shape, modules[i].scale);
    if (i == 5) {
      EXPECT_EQ(results[i].error().code(), StatusCode::kNumerical);
      EXPECT_NE(results[i].error().message().find("module 5: B[0, 0]"), std::string::npos)
          << results[i].error().message();
      continue;
    }
    ASSERT_TRUE(results[i].has_value() && one.has_value()) << i;
    ASSERT_EQ(results[i]->size(), one->size());
    for (std::size_t k = 0; k < one->size(); ++k) {
      EXPECT_NEAR((*results[i])[k], (*one)[k], 1e-12 * (*one)[0]) << "module " << i;
    }
  }
}

}  // namespace
}  // namespace lorank
