// run_audit with AuditOptions::base, through the library: the two σ(W) routes agree, the
// auto threshold picks the route, progress runs on through the comparison, and the
// refusals are Status codes.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/audit.h"
#include "lorank/checkpoint.h"
#include "support/shared_data.h"

namespace lorank {
namespace {

using testing::shared_path;

struct Opened {
  Adapter adapter;
  Checkpoint base;
};

Opened open_stories() {
  auto adapter = open_adapter(shared_path("models/stories260K-lora-r8"));
  auto base = Checkpoint::open(shared_path("models/stories260K"));
  EXPECT_TRUE(adapter.has_value() && base.has_value());
  return {std::move(*adapter), std::move(*base)};
}

TEST(BaseProjection, KrylovByLoweredThresholdAgreesWithDense) {
  Opened o = open_stories();
  AuditOptions dense;
  dense.base = &o.base;
  dense.w_svd = WSvdRoute::kDense;
  AuditOptions lowered = dense;
  lowered.w_svd = WSvdRoute::kAuto;
  lowered.dense_w_svd_max_elements = 4096;  // q/o/k/v (≤ 64×64) stay dense, the MLP goes Krylov
  auto a = run_audit(o.adapter, dense);
  auto b = run_audit(o.adapter, lowered);
  ASSERT_TRUE(a.has_value() && b.has_value());
  std::size_t krylov = 0;
  for (std::size_t i = 0; i < a->modules.size(); ++i) {
    const BaseComparison& x = *a->modules[i].base;
    const BaseComparison& y = *b->modules[i].base;
    EXPECT_EQ(x.w_svd, WSvdRoute::kDense);
    EXPECT_EQ(y.w_svd, x.rows * x.cols <= 4096 ? WSvdRoute::kDense : WSvdRoute::kKrylov);
    krylov += y.w_svd == WSvdRoute::kKrylov;
    ASSERT_EQ(y.w_singular_values.size(), x.w_singular_values.size());
    for (std::size_t j = 0; j < x.w_singular_values.size(); ++j) {
      EXPECT_NEAR(y.w_singular_values[j], x.w_singular_values[j], 1e-10 * x.w_singular_values[j]);
    }
    EXPECT_NEAR(y.projection_w_top, x.projection_w_top, 1e-10 * x.projection_w_top);
    // The route changes only σ(W); these W fit one streamed block either way, so the
    // projections are the same arithmetic, bit for bit.
    EXPECT_EQ(y.projection_delta, x.projection_delta);
    EXPECT_EQ(y.projection_random, x.projection_random);
  }
  EXPECT_EQ(krylov, 15u);  // gate/up (172×64), down (64×172): 5 layers × 3
}

TEST(BaseProjection, ProgressContinuesThroughTheComparison) {
  Opened o = open_stories();
  AuditOptions options;
  options.base = &o.base;
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  options.progress = [&calls](std::size_t done, std::size_t total) { calls.emplace_back(done, total); };
  ASSERT_TRUE(run_audit(o.adapter, options).has_value());
  ASSERT_EQ(calls.size(), 70u);
  EXPECT_EQ(calls[34], std::make_pair(std::size_t{35}, std::size_t{35}));
  EXPECT_EQ(calls.back(), std::make_pair(std::size_t{70}, std::size_t{70}));
  for (std::size_t i = 35; i < calls.size(); ++i) EXPECT_EQ(calls[i].first, i + 1);
}

TEST(BaseProjection, KohyaIsNotSupportedAndNoBaseMeansNoComparison) {
  auto kohya = open_adapter(shared_path("adapters/sd15-unet-kohyalike-r4/new.safetensors"));
  auto base = Checkpoint::open(shared_path("models/stories260K"));
  ASSERT_TRUE(kohya.has_value() && base.has_value());
  AuditOptions options;
  options.base = &*base;
  auto r = run_audit(*kohya, options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotSupported);
  Opened o = open_stories();
  auto plain = run_audit(o.adapter);
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->base.has_value());
  for (const AuditModule& m : plain->modules) EXPECT_FALSE(m.base.has_value());
}

}  // namespace
}  // namespace lorank
