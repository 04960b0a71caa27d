// Rank metrics of one spectrum (docs/metrics.md).
#include <algorithm>
#include <cmath>
#include <vector>

#include "lorank/rank.h"

namespace lorank {
namespace {

bool is_untrained(std::span<const double> sv) { return sv.empty() || !(sv.front() > 0.0); }

}  // namespace

int energy_rank(std::span<const double> sv, double p) {
  if (is_untrained(sv)) return 0;
  // Cumulative sums of non-negative terms are non-decreasing in IEEE arithmetic, and the
  // total is the last of them (not a separately rounded sum), so fl(p·total) ≤ total for
  // p ≤ 1 and the search always ends by k = n.
  // Energies relative to σ₁² so that σ near the overflow or underflow limits stays finite
  // and non-zero (the fraction is scale-free).
  const double s1 = sv.front();
  std::vector<double> cumulative(sv.size());
  double running = 0.0;
  for (std::size_t i = 0; i < sv.size(); ++i) {
    running += (sv[i] / s1) * (sv[i] / s1);
    cumulative[i] = running;
  }
  const double target = p * cumulative.back();
  const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), target);
  const std::size_t k = static_cast<std::size_t>(it - cumulative.begin()) + 1;
  return static_cast<int>(std::min(k, sv.size()));
}

SpectrumMetrics spectrum_metrics(std::span<const double> sv, double tau) {
  SpectrumMetrics m;
  m.n = sv.size();
  m.threshold_tau = tau;
  if (is_untrained(sv)) {
    m.untrained = true;
    return m;
  }
  const double s1 = sv.front();
  m.sigma1 = s1;

  // Sums from the smallest value up (the tail is added before the head swamps it), of
  // σ/σ₁ so that σ near the overflow or underflow limits stays finite.
  double stable = 0.0, sum = 0.0;
  for (std::size_t i = sv.size(); i-- > 0;) {
    const double x = sv[i] / s1;
    stable += x * x;
    sum += x;
  }
  m.stable_rank = stable;
  m.frobenius = s1 * std::sqrt(stable);

  int count = 0;
  for (double s : sv) count += s >= tau * s1 ? 1 : 0;
  m.threshold_rank = count;
  m.energy_rank_90 = energy_rank(sv, 0.90);
  m.energy_rank_95 = energy_rank(sv, 0.95);
  m.energy_rank_99 = energy_rank(sv, 0.99);

  double entropy = 0.0;
  for (double s : sv) {
    const double p = (s / s1) / sum;
    if (p > 0.0) entropy -= p * std::log(p);
  }
  m.entropy_rank = std::exp(entropy);

  const double floor = kGapFloor * s1;
  for (std::size_t k = 0; k + 1 < sv.size(); ++k) {
    const double ratio = sv[k] / std::max(sv[k + 1], floor);
    if (ratio > m.gap_ratio) {
      m.gap_ratio = ratio;
      m.gap_index = static_cast<int>(k + 1);
      m.gap_capped = sv[k + 1] < floor;
    }
  }
  m.tail_ratio = sv.back() / s1;
  return m;
}

}  // namespace lorank
