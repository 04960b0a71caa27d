#include "support/resize_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "lorank/spectra.h"

namespace lorank::testing {

std::vector<double> dense_update(const LoraModule& m) {
  std::vector<double> a(static_cast<std::size_t>(m.A.numel())), b(static_cast<std::size_t>(m.B.numel()));
  EXPECT_TRUE(to_double(m.A, a).ok());
  EXPECT_TRUE(to_double(m.B, b).ok());
  std::vector<double> d(m.out * m.in, 0.0);
  for (std::size_t o = 0; o < m.out; ++o) {
    for (std::size_t j = 0; j < m.rank; ++j) {
      const double bj = m.scale * b[o * m.rank + j];
      for (std::size_t i = 0; i < m.in; ++i) d[o * m.in + i] += bj * a[j * m.in + i];
    }
  }
  return d;
}

double check_resized(const Adapter& before, const ResizeResult& r, const std::filesystem::path& out,
                     const ResizeCheck& check) {
  const Status w = write_adapter(r.adapter, out);
  EXPECT_TRUE(w.ok()) << w.message();
  Result<Adapter> after = open_adapter(out);
  EXPECT_TRUE(after) << after.status().message();
  if (!after) return 0.0;
  EXPECT_EQ(after->format, before.format);
  EXPECT_EQ(after->modules.size(), before.modules.size());
  if (after->modules.size() != before.modules.size()) return 0.0;
  auto old_sv = module_spectra(before);
  auto new_sv = module_spectra(*after);
  EXPECT_TRUE(old_sv && new_sv);
  if (!old_sv || !new_sv) return 0.0;
  double worst = 0.0;
  for (std::size_t i = 0; i < before.modules.size(); ++i) {
    const LoraModule& m0 = before.modules[i];
    const LoraModule& m1 = after->modules[i];
    const ResizeModule& rep = r.modules[i];
    SCOPED_TRACE(m0.name);
    EXPECT_EQ(m1.name, m0.name);
    EXPECT_EQ(m1.rank, rep.new_rank);
    EXPECT_LE(m1.rank, std::max<std::size_t>(1, m0.rank));
    EXPECT_EQ(m1.kind, m0.kind);
    EXPECT_EQ(m1.A.shape.rank(), m0.A.shape.rank());
    EXPECT_NEAR(m1.scale, rep.new_scale, 1e-12 * std::fabs(rep.new_scale));
    if (check.same_scales) {
      EXPECT_NEAR(m1.scale, m0.scale, 1e-12 * std::fabs(m0.scale));
    }
    const std::vector<double>& s0 = (*old_sv)[i];
    const std::vector<double>& s1 = (*new_sv)[i];
    const double sigma1 = s0.empty() ? 0.0 : s0[0];
    if (rep.zero) {
      for (double v : s1) EXPECT_EQ(v, 0.0);
      continue;
    }
    double head = 0.0, tail = 0.0;
    for (std::size_t j = 0; j < s0.size(); ++j) (j < rep.new_rank ? head : tail) += s0[j] * s0[j];
    EXPECT_NEAR(rep.relative_error, std::sqrt(tail / (head + tail)), 1e-9);
    EXPECT_NEAR(rep.retained_energy, head / (head + tail), 1e-9);
    for (std::size_t j = 0; j < s1.size(); ++j) {
      const double err = std::fabs(s1[j] - s0[j]) / sigma1;
      worst = std::max(worst, err);
      EXPECT_LE(err, check.sigma_tol) << "sigma " << j;
    }
    if (check.dense) {
      const std::vector<double> d0 = dense_update(m0), d1 = dense_update(m1);
      double diff = 0.0;
      for (std::size_t j = 0; j < d0.size(); ++j) diff += (d0[j] - d1[j]) * (d0[j] - d1[j]);
      // Eckart–Young: the truncation's error is exactly the tail of the spectrum.
      EXPECT_NEAR(std::sqrt(diff), std::sqrt(tail), check.sigma_tol * sigma1 * 4) << "dense";
    }
  }
  // Passthrough tensors (and DoRA magnitudes) byte for byte.
  std::map<std::string_view, const TensorView*> by_name;
  for (const TensorView& t : after->passthrough) by_name[t.name] = &t;
  EXPECT_EQ(after->passthrough.size(), before.passthrough.size());
  std::map<std::string_view, bool> alphas;  // kohya .alpha tensors change with the rank
  for (const LoraModule& m : before.modules) {
    if (m.alpha_tensor) alphas[m.alpha_tensor->name] = true;
  }
  for (const TensorView& t : before.passthrough) {
    if (alphas.count(t.name)) continue;
    auto it = by_name.find(t.name);
    EXPECT_NE(it, by_name.end()) << t.name;
    if (it == by_name.end()) continue;
    EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), it->second->data.begin(), it->second->data.end()))
        << t.name;
  }
  for (std::size_t i = 0; i < before.modules.size(); ++i) {
    const auto& m0 = before.modules[i].magnitude;
    const auto& m1 = after->modules[i].magnitude;
    EXPECT_EQ(m0.has_value(), m1.has_value());
    if (m0 && m1) {
      EXPECT_TRUE(std::equal(m0->data.begin(), m0->data.end(), m1->data.begin(), m1->data.end()));
    }
  }
  return worst;
}

}  // namespace lorank::testing
